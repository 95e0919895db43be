"""Ask: answer a question from the repo's own code with the local model.

Retrieval (BM25 over the cached index), a grounded prompt cut to the model's
real budget, and a small explainable score that may suggest `hc escalate`.
Nothing here sends anything anywhere.
"""

from __future__ import annotations

import math
import os
import re
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from hybridcode.config import AskSettings
from hybridcode.context.chunking import Chunk
from hybridcode.context.index import (
    Hit,
    IndexOptions,
    Refresh,
    RepoIndex,
    find_workspace,
)
from hybridcode.engine.base import Engine, GenerateOptions, Message, OnText
from hybridcode.errors import ContextOverflowError

SYSTEM = (
    "You answer questions about a software repository. Use only the excerpts "
    "and extra context given. Name the file and lines you rely on. If they do "
    "not contain the answer, say that you could not find it."
)
NO_MATCH = "Nothing in the repository matched the question."
# How many candidates to rank before fitting them into the model's window.
CANDIDATES = 3
# Among the top_k hits, those scoring this share of the best count for spread;
# those scoring RELEVANT of it should have fit in the window.
RELATED = 0.25
RELEVANT = 0.5

DESIGN_WORDS = frozenset(
    """
    architecture architectural architect design redesign refactor refactoring
    restructure migrate migration migrations split splitting scale scaling
    scalability security secure threat tradeoff tradeoffs trade-off trade-offs
    strategy microservice microservices monolith decouple decoupling coupling
    concurrency consistency schema rewrite overhaul boundaries
    """.split()  # noqa: SIM905
)
DESIGN_PHRASES = ("should we", "best way", "pros and cons", "long term", "long-term")


@dataclass(frozen=True)
class AskRequest:
    question: str
    cwd: Path
    files: tuple[str, ...] = ()  # limit retrieval to these paths (cwd-relative)
    extra: str = ""  # extra context, e.g. piped stdin
    use_model: bool = True
    on_text: OnText | None = None


@dataclass(frozen=True)
class Escalation:
    """The local score behind an escalation suggestion, with its reasons."""

    score: float
    threshold: float
    reasons: tuple[str, ...]
    command: str

    @property
    def suggested(self) -> bool:
        return self.score >= self.threshold


@dataclass(frozen=True)
class AskResult:
    question: str
    refresh: Refresh
    hits: tuple[Hit, ...]  # every retrieved candidate, best first
    sources: tuple[Chunk, ...]  # the chunks the model was given
    answer: str | None  # None with --no-model
    model: str | None
    finish_reason: str | None
    escalation: Escalation
    timings: dict[str, float] = field(default_factory=dict)


def ask(
    request: AskRequest,
    settings: AskSettings,
    cache_dir: Path,
    engine: Callable[[], Engine] | None = None,
) -> AskResult:
    """Retrieve chunks for the question and, with a model, answer from them."""
    started = time.monotonic()
    workspace = find_workspace(request.cwd)
    only = _limit_paths(request.files, request.cwd, workspace.root)
    index = RepoIndex(workspace, cache_dir, IndexOptions.from_settings(settings))
    try:
        refresh = index.refresh()
        indexed = time.monotonic()
        hits = tuple(index.search(request.question, settings.top_k * CANDIDATES, only))
    finally:
        index.close()
    timings = {"index_s": indexed - started, "retrieve_s": time.monotonic() - indexed}
    if not request.use_model or engine is None:
        sources = tuple(h.chunk for h in hits[: settings.top_k])
        return AskResult(
            request.question,
            refresh,
            hits,
            sources,
            None,
            None,
            None,
            escalation_for(request.question, hits, sources, None, settings),
            _total(timings, started),
        )
    return _answer(request, settings, engine(), refresh, hits, timings, started)


def _answer(
    request: AskRequest,
    settings: AskSettings,
    model: Engine,
    refresh: Refresh,
    hits: tuple[Hit, ...],
    timings: dict[str, float],
    started: float,
) -> AskResult:
    sources = fit_chunks(model, request.question, hits, request.extra, settings)
    if not sources and not request.extra.strip():
        return AskResult(
            request.question,
            refresh,
            hits,
            (),
            NO_MATCH,
            model.name,
            None,
            escalation_for(request.question, hits, (), None, settings),
            _total(timings, started),
        )
    generating = time.monotonic()
    options = GenerateOptions(
        max_tokens=settings.max_tokens, logprobs=True, on_text=request.on_text
    )
    messages = build_messages(request.question, sources, request.extra)
    reply = model.chat(messages, options)
    timings["generate_s"] = time.monotonic() - generating
    escalation = escalation_for(
        request.question,
        hits,
        sources,
        reply.token_logprobs,
        settings,
        truncated=reply.truncated,
    )
    return AskResult(
        request.question,
        refresh,
        hits,
        sources,
        reply.text.strip(),
        model.name,
        reply.finish_reason,
        escalation,
        _total(timings, started),
    )


def build_messages(question: str, chunks: Sequence[Chunk], extra: str) -> list[Message]:
    """The grounded prompt: extra context, then excerpts, then the question."""
    parts = []
    if extra.strip():
        parts.append(f"Extra context:\n```\n{extra.rstrip()}\n```")
    parts.extend(excerpt(chunk) for chunk in chunks)
    parts.append(f"Question: {question}\nAnswer from the excerpts above.")
    return [Message("system", SYSTEM), Message("user", "\n\n".join(parts))]


def excerpt(chunk: Chunk) -> str:
    """One chunk as the model sees it, headed by its source."""
    return f"File {chunk.source}:\n```\n{chunk.text}\n```"


def fit_chunks(
    model: Engine,
    question: str,
    hits: Sequence[Hit],
    extra: str,
    settings: AskSettings,
) -> tuple[Chunk, ...]:
    """The best chunks that fit n_ctx with max_tokens left for the answer."""
    limit = model.n_ctx - settings.max_tokens
    base = model.chat_prompt_tokens(build_messages(question, [], extra))
    if base > limit:
        raise ContextOverflowError(
            f"the question and extra context are too large for the model context "
            f"({base + settings.max_tokens} > {model.n_ctx} tokens)",
            "pipe less text, or use a model with a larger context",
        )
    chosen: list[Chunk] = []
    used = base
    for hit in hits:
        if len(chosen) == settings.top_k:
            break
        cost = model.count_tokens(excerpt(hit.chunk) + "\n\n") + 1
        if used + cost <= limit:
            chosen.append(hit.chunk)
            used += cost
    # The template may join pieces into different tokens: check the real count.
    while (
        chosen
        and model.chat_prompt_tokens(build_messages(question, chosen, extra)) > limit
    ):
        chosen.pop()
    return tuple(chosen)


def escalation_for(
    question: str,
    hits: Sequence[Hit],
    sources: Sequence[Chunk],
    logprobs: Sequence[float] | None,
    settings: AskSettings,
    truncated: bool = False,
) -> Escalation:
    """Score how likely the question is beyond the local model, with reasons."""
    parts: list[tuple[float, str]] = []
    parts.extend(_design_words(question))
    relevant = [h for h in hits if h.score >= RELEVANT * hits[0].score]
    top = hits[: settings.top_k]
    parts.extend(_spread([h for h in top if h.score >= RELATED * hits[0].score]))
    missing = [h for h in relevant if h.chunk not in sources]
    if sources and len(missing) >= 2:
        parts.append((0.15, f"{len(missing)} relevant chunks did not fit the window"))
    if logprobs:
        parts.extend(_uncertainty(logprobs))
    if truncated:
        parts.append((0.05, "the answer hit the token limit"))
    score = min(1.0, sum(weight for weight, _ in parts))
    return Escalation(
        round(score, 2),
        settings.escalate_threshold,
        tuple(reason for _, reason in parts),
        escalate_command(question, sources or [h.chunk for h in relevant]),
    )


def escalate_command(question: str, chunks: Sequence[Chunk]) -> str:
    """The exact `hc escalate` command that would send this question with context."""
    spans: dict[str, tuple[int, int]] = {}
    for chunk in chunks:
        first, last = spans.get(chunk.path, (chunk.start, chunk.end))
        spans[chunk.path] = (min(first, chunk.start), max(last, chunk.end))
    args = ["hc", "escalate", question]
    for path, (first, last) in list(spans.items())[:5]:
        args += ["-f", f"{path}:{first}-{last}"]
    return shlex.join(args)


def _design_words(question: str) -> list[tuple[float, str]]:
    lowered = question.lower()
    words = set(re.findall(r"[a-z][a-z-]*", lowered)) & DESIGN_WORDS
    words |= {p for p in DESIGN_PHRASES if p in lowered}
    if not words:
        return []
    # One design word is weak evidence ("where is the design doc?"); two are not.
    weight = 0.4 if len(words) == 1 else 0.6
    listed = ", ".join(sorted(words))
    return [(weight, f"asks about design ({listed})")]


def _spread(related: Sequence[Hit]) -> list[tuple[float, str]]:
    files = {h.chunk.path for h in related}
    folders = {str(PurePosixPath(p).parent) for p in files}
    if len(files) < 4 or len(folders) < 3:
        return []
    return [(0.2, f"spans {len(files)} files in {len(folders)} folders")]


def _uncertainty(logprobs: Sequence[float]) -> list[tuple[float, str]]:
    mean = sum(logprobs) / len(logprobs)
    confidence = math.exp(mean)
    if mean < -1.5:
        weight = 0.3
    elif mean < -0.8:
        weight = 0.15
    else:
        return []
    return [
        (weight, f"the local model is unsure (mean token probability {confidence:.2f})")
    ]


def _limit_paths(files: Sequence[str], cwd: Path, root: Path) -> tuple[str, ...]:
    """Turn --files arguments into repo-relative prefixes; refuse missing ones."""
    from hybridcode.errors import InputError

    found = []
    for name in files:
        full = Path(os.path.abspath(cwd / name))
        if not full.exists() and not full.is_symlink():
            raise InputError(f"--files {name}: no such file or folder")
        try:
            rel = full.relative_to(root)
        except ValueError:
            try:
                rel = full.resolve().relative_to(root)
            except ValueError:
                raise InputError(f"--files {name}: outside {root}") from None
        found.append(rel.as_posix())
    return tuple(found)


def _total(timings: dict[str, float], started: float) -> dict[str, float]:
    timings["total_s"] = time.monotonic() - started
    return {key: round(value, 3) for key, value in timings.items()}
