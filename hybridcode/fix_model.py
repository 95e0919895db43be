"""Model candidates for a problem no single-token edit repairs.

The model sees only the smallest enclosing region that fits its context. Each
reply is cleaned of fences and chatter; a reply that stopped at max_tokens or
elides code ("rest unchanged", `...` lines, far shorter than the region) is never
used. A usable reply yields the whole rewritten region and each of its changed
hunks alone as candidates, so the smallest verified change wins.
"""

from __future__ import annotations

import difflib
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

from hybridcode.config import FixSettings
from hybridcode.context import syntax
from hybridcode.engine.base import Engine, GenerateOptions, Message
from hybridcode.errors import ContextOverflowError
from hybridcode.fix_candidates import Edit

SYSTEM = (
    "You fix syntax errors in source code. Reply with the complete corrected code "
    "in one code block and nothing else. Never leave code out."
)
MIN_REPLY_TOKENS = 48

_FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:```|\Z)", re.S)
_ELISION = re.compile(
    r"rest of|unchanged|remains? the same|same as (before|above)|existing code|"
    r"omitted|code (goes )?here|\.\.\.|…",
    re.I,
)
_CHATTER = re.compile(r"^[A-Z][a-z]*('s|'ve|'ll)?(\s+[\w',\-`]+){2,}\s*[.:!]?$")
_COMMENT_STARTS = ("#", "//", "/*", "*", "--", ";", "<!--")

Verify = Callable[[list[Edit]], "str | None"]


@dataclass
class ModelAttempt:
    """What asking the model produced for one problem."""

    fixed: str | None = None
    replies: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def reject(self, why: str) -> None:
        self.rejected[why] = self.rejected.get(why, 0) + 1


@dataclass(frozen=True)
class PromptPlan:
    region: syntax.Region
    indent: str
    body: str  # the region, dedented, as the model sees it
    messages: tuple[Message, ...]
    max_tokens: int


def model_edits(
    engine: Engine,
    text: str,
    lines: list[str],
    issue: syntax.SyntaxIssue,
    language: str,
    settings: FixSettings,
    verify: Verify,
) -> ModelAttempt:
    """Ask the model (greedy, then seeded samples) until a candidate verifies."""
    plan = plan_prompt(engine, text, lines, issue, language)
    attempt = ModelAttempt()
    for sample in range(1 + max(settings.samples, 0)):
        options = GenerateOptions(
            max_tokens=plan.max_tokens,
            temperature=0.0 if sample == 0 else settings.sample_temperature,
            seed=sample,
            stop=("\n```\n",),  # the closing fence: what follows is chatter
        )
        reply = engine.chat(list(plan.messages), options)
        attempt.replies += 1
        attempt.prompt_tokens += reply.prompt_tokens
        attempt.completion_tokens += reply.completion_tokens
        if reply.finish_reason != "stop":
            attempt.reject(f"stopped at {reply.finish_reason}")
            continue
        body, why = clean_reply(reply.text, plan.body)
        if body is None:
            attempt.reject(why)
            continue
        edits = [
            e
            for e in region_edits(plan, lines, body, sample)
            if keeps_meaning(lines[e.first : e.last + 1], list(e.new))
        ]
        if not edits:
            attempt.reject("changed the code's words, not just its syntax")
            continue
        fixed = verify(edits)
        if fixed is not None:
            attempt.fixed = fixed
            return attempt
        attempt.reject("did not verify")
    return attempt


def plan_prompt(
    engine: Engine,
    text: str,
    lines: list[str],
    issue: syntax.SyntaxIssue,
    language: str,
) -> PromptPlan:
    """Pick the region to send and check prompt plus reply fit the context."""
    regions = syntax.enclosing_regions(text, language, issue.line, issue.end_line)
    smallest_needed = 0
    for region in _preference(regions):
        plan = _plan_for(engine, lines, region, issue, language)
        needed = engine.chat_prompt_tokens(list(plan.messages)) + plan.max_tokens
        if needed <= engine.n_ctx:
            room = engine.n_ctx - needed + plan.max_tokens
            return PromptPlan(
                plan.region,
                plan.indent,
                plan.body,
                plan.messages,
                min(room, max(plan.max_tokens, MIN_REPLY_TOKENS)),
            )
        smallest_needed = needed
    raise ContextOverflowError(
        f"the code around the error is too large for the model context "
        f"({smallest_needed} > {engine.n_ctx} tokens)",
        "use a model with a larger context (model.n_ctx) or fix it by hand",
    )


def clean_reply(reply: str, region: str) -> tuple[str | None, str]:
    """Return the code in a reply, or None and why it cannot be used."""
    text = reply.replace("\r\n", "\n").replace("\r", "\n")
    blocks = _FENCE.findall(text)
    body = max(blocks, key=len) if blocks else _strip_chatter(text)
    body = body.strip("\n")
    if not body.strip():
        return None, "empty reply"
    if _elided(body, region):
        return None, "incomplete (code left out)"
    return body, ""


def region_edits(
    plan: PromptPlan, lines: list[str], body: str, sample: int
) -> list[Edit]:
    """The whole rewritten region, and each changed hunk of it on its own."""
    first, last = plan.region.start - 1, plan.region.end - 1
    new = [
        plan.indent + line if line.strip() else ""
        for line in textwrap.dedent(body).split("\n")
    ]
    old = lines[first : last + 1]
    whole = Edit(first, last, tuple(new), (5, sample, _size(old, new)), "model")
    pieces: list[tuple[int, int, int, int]] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        pieces.append((i1, i2, j1, j2))
        if tag == "replace" and i2 - i1 == j2 - j1 > 1:
            pieces += [(i1 + k, i1 + k + 1, j1 + k, j1 + k + 1) for k in range(i2 - i1)]
    edits = [whole]
    if len(new) > len(old):
        # The model often answers with more than it was given (the whole
        # function around one statement): the best-matching run of lines.
        def likeness(start: int) -> float:
            run = new[start : start + len(old)]
            return difflib.SequenceMatcher(None, "\n".join(old), "\n".join(run)).ratio()

        start = max(range(len(new) - len(old) + 1), key=likeness)
        body_run = textwrap.dedent("\n".join(new[start : start + len(old)]))
        run = tuple(
            plan.indent + line if line.strip() else "" for line in body_run.split("\n")
        )
        edits.append(
            Edit(first, last, run, (5, sample, _size(old, list(run))), "model")
        )
    if len(pieces) > 1:
        for i1, i2, j1, j2 in pieces:
            size = _size(old[i1:i2], new[j1:j2])
            edits.append(
                Edit(
                    first + i1,
                    first + i2 - 1,
                    tuple(new[j1:j2]),
                    (5, sample, size),
                    "model",
                )
            )
    return edits


def _preference(regions: list[syntax.Region]) -> list[syntax.Region]:
    """The innermost whole statement first, then ever smaller regions inside it.

    A small model rewrites a short region best, and the reply is short too.
    """
    inner = [r for r in regions if r.kind != "file"] or regions
    preferred = next((i for i, r in enumerate(inner) if r.is_statement), len(inner) - 1)
    return [inner[i] for i in range(preferred, -1, -1)]


def _plan_for(
    engine: Engine,
    lines: list[str],
    region: syntax.Region,
    issue: syntax.SyntaxIssue,
    language: str,
) -> PromptPlan:
    chunk = "\n".join(lines[region.start - 1 : region.end])
    body = textwrap.dedent(chunk)
    indent = _common_indent(chunk)
    where = issue.line - region.start + 1
    user = (
        f"This {language} code has a syntax error on line {where}: {issue.message}.\n"
        "Fix that error and change nothing else.\n\n"
        f"```{language}\n{body}\n```"
    )
    messages = (Message("system", SYSTEM), Message("user", user))
    reply_tokens = int(engine.count_tokens(body) * 1.3) + 16
    return PromptPlan(region, indent, body, messages, reply_tokens)


def _common_indent(chunk: str) -> str:
    indents = [
        line[: len(line) - len(line.lstrip())]
        for line in chunk.split("\n")
        if line.strip()
    ]
    if not indents:
        return ""
    common = indents[0]
    for indent in indents[1:]:
        while not indent.startswith(common):
            common = common[:-1]
    return common


def _strip_chatter(text: str) -> str:
    lines = text.strip("\n").split("\n")
    while lines and _CHATTER.match(lines[0].strip()):
        lines.pop(0)
    while lines and _CHATTER.match(lines[-1].strip()):
        lines.pop()
    return "\n".join(lines)


def _elided(body: str, region: str) -> bool:
    original = {line.strip() for line in region.split("\n")}
    for line in body.split("\n"):
        stripped = line.strip()
        if stripped in original:
            continue
        if stripped in {"...", "…"}:
            return True
        if stripped.startswith(_COMMENT_STARTS) and _ELISION.search(stripped):
            return True
    wanted = sum(1 for line in region.split("\n") if line.strip())
    got = sum(1 for line in body.split("\n") if line.strip())
    return wanted >= 4 and got < 0.6 * wanted


def _size(old: list[str], new: list[str]) -> int:
    matcher = difflib.SequenceMatcher(
        None, "\n".join(old), "\n".join(new), autojunk=False
    )
    return sum(
        max(i2 - i1, j2 - j1)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    )


# Words are identifiers, keywords, numbers and string literals; the rest is
# punctuation, which a syntax repair may add or drop freely.
_WORD = re.compile(
    r"""[A-Za-z_][A-Za-z0-9_]*|\d[\w.]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"""
)


def keeps_meaning(old: list[str], new: list[str]) -> bool:
    """True when a model rewrite keeps the region's words and adds few new ones.

    The verifier only proves the code parses; this keeps a small model from
    "repairing" a line by replacing it with different code that also parses.
    """
    before = _WORD.findall("\n".join(old))
    after = _WORD.findall("\n".join(new))
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    kept = sum(block.size for block in matcher.get_matching_blocks())
    added = len(after) - kept
    return kept >= 0.9 * len(before) and added <= max(2, len(before) // 5)
