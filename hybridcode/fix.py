"""Repair syntax errors: find them, propose candidates, keep only verified repairs.

Candidates come from two sources. First, single-token edits at the place the
parser points to (insert or delete one token, re-indent a line, correct a
misspelt keyword); these need no model. Then, only if none of those verifies, the
model rewrites the smallest enclosing region that fits its context (greedy, then
a few seeded samples). Every candidate is spliced into the whole file and
re-parsed (and compiled, for Python); one that leaves the error or adds another
is dropped. A file is changed only when every finding got a verified repair.
"""

from __future__ import annotations

import difflib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hybridcode.config import FixSettings
from hybridcode.context import syntax
from hybridcode.context.languages import detect_language
from hybridcode.context.sourcefile import SourceText
from hybridcode.engine.base import Engine
from hybridcode.errors import ContextOverflowError
from hybridcode.fix_candidates import Edit, token_edits
from hybridcode.fix_model import ModelAttempt, model_edits

log = logging.getLogger(__name__)

_ENDING = re.compile(r"\r\n|\r|\n")
MAX_ROUNDS = 12  # findings repaired one after another, per file
FULL_CHECKS = 12  # candidates verified against the whole file, per finding
STAGE_ONE_CHARS = 1_000_000  # window characters re-parsed per finding, at most
STAGE_ONE_MIN = 60

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Finding:
    """A syntax problem at a 1-based line and character column."""

    line: int
    column: int
    message: str


@dataclass(frozen=True)
class FixResult:
    """What `fix_source` did to one file."""

    name: str
    status: str  # "clean" | "fixed" | "unfixable" | "skipped"
    findings: tuple[Finding, ...]
    original: str
    fixed: str | None  # text with "\n" newlines, when status is "fixed"
    reason: str = ""
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    def patch(self) -> str:
        """Return the unified diff from original to fixed, labelled with the name."""
        if self.fixed is None or self.fixed == self.original:
            return ""
        return unified_diff(self.original, self.fixed, self.name)


def find_problems(name: str, text: str, language: str | None = None) -> list[Finding]:
    """Return syntax problems in text without touching any model."""
    language = language or detect_language(name, text.split("\n", 1)[0])
    if language is None:
        return []
    return [_finding(i) for i in syntax.check_syntax(text, language)]


def fix_source(
    name: str,
    source: SourceText,
    engine: Callable[[], Engine],
    settings: FixSettings,
    language: str | None = None,
    progress: Progress | None = None,
) -> FixResult:
    """Find problems in one decoded file and return a verified repair, if any."""
    started = time.monotonic()
    text = source.text
    language = language or detect_language(name, text.split("\n", 1)[0])
    if language is None:
        return FixResult(
            name,
            "skipped",
            (),
            text,
            None,
            reason="no syntax checker for this kind of file",
        )
    issues = syntax.check_syntax(text, language)
    if not issues:
        return FixResult(
            name, "clean", (), text, None, seconds=time.monotonic() - started
        )
    repair = _Repair(name, language, engine, settings, progress)
    outcome = repair.run(text, issues)
    return FixResult(
        name,
        "fixed" if outcome.fixed is not None else "unfixable",
        tuple(_finding(i) for i in issues),
        text,
        outcome.fixed,
        reason=outcome.reason,
        model=repair.model_name,
        prompt_tokens=repair.prompt_tokens,
        completion_tokens=repair.completion_tokens,
        seconds=time.monotonic() - started,
    )


def encode_fixed(data: bytes, source: SourceText, fixed: str) -> bytes:
    """Return the file's bytes with only the changed lines replaced.

    Unchanged lines keep their own line endings (a file with mixed endings stays
    mixed); new lines get the file's dominant ending, encoding and BOM.
    """
    body = data[len(source.bom) :].decode(source.encoding)
    endings = _ENDING.findall(body)
    old, new = source.text.split("\n"), fixed.split("\n")
    if len(endings) != len(old) - 1:
        return source.encode(fixed)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, _, j1, j2 in matcher.get_opcodes():
        for offset, j in enumerate(range(j1, j2)):
            out.append(new[j])
            if j == len(new) - 1:
                break
            i = i1 + offset
            same = tag == "equal" and i < len(endings)
            out.append(endings[i] if same else source.newline)
    return source.bom + "".join(out).encode(source.encoding)


def unified_diff(original: str, fixed: str, name: str) -> str:
    """Return a unified diff between two "\\n" texts, as git would label it."""
    lines = difflib.unified_diff(
        _diff_lines(original), _diff_lines(fixed), f"a/{name}", f"b/{name}"
    )
    return "".join(lines)


@dataclass
class _Outcome:
    fixed: str | None
    reason: str = ""


@dataclass
class _Repair:
    """State of one file's repair: the engine is opened at most once, on demand."""

    name: str
    language: str
    open_engine: Callable[[], Engine]
    settings: FixSettings
    progress: Progress | None
    model_name: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    _engine: Engine | None = field(default=None, repr=False)

    def run(self, text: str, issues: list[syntax.SyntaxIssue]) -> _Outcome:
        for _ in range(MAX_ROUNDS):
            if not issues:
                return _Outcome(text)
            repaired, reason = self.repair_first(text, issues[0])
            if repaired is None:
                issue = issues[0]
                return _Outcome(None, f"line {issue.line}: {reason}")
            text = repaired
            issues = syntax.check_syntax(text, self.language)
        if issues:
            return _Outcome(
                None, f"still {len(issues)} problem(s) after {MAX_ROUNDS} repairs"
            )
        return _Outcome(text)

    def repair_first(
        self, text: str, issue: syntax.SyntaxIssue
    ) -> tuple[str | None, str]:
        lines = text.split("\n")
        edits = token_edits(lines, issue, self.language, text)
        best = self.best_verified(text, lines, issue, edits)
        if best is not None:
            log.debug("%s:%d fixed by a single-token edit", self.name, issue.line)
            return best, ""
        return self.repair_with_model(text, lines, issue, len(edits))

    def repair_with_model(
        self, text: str, lines: list[str], issue: syntax.SyntaxIssue, tried: int
    ) -> tuple[str | None, str]:
        if self.progress is not None:
            self.progress(f"{self.name}:{issue.line}: asking the model")
        engine = self.engine()
        try:
            attempt = model_edits(
                engine,
                text,
                lines,
                issue,
                self.language,
                self.settings,
                self.verified_by_model(text, lines, issue),
            )
        except ContextOverflowError as exc:
            return None, str(exc)
        self.prompt_tokens += attempt.prompt_tokens
        self.completion_tokens += attempt.completion_tokens
        if attempt.fixed is not None:
            return attempt.fixed, ""
        return None, _failure_reason(tried, attempt)

    def verified_by_model(
        self, text: str, lines: list[str], issue: syntax.SyntaxIssue
    ) -> Callable[[list[Edit]], str | None]:
        def check(edits: list[Edit]) -> str | None:
            return self.best_verified(text, lines, issue, edits)

        return check

    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = self.open_engine()
            self.model_name = self._engine.name
        return self._engine

    def best_verified(
        self, text: str, lines: list[str], issue: syntax.SyntaxIssue, edits: list[Edit]
    ) -> str | None:
        """Return the best edit's text that removes the problem and adds none."""
        if not edits:
            return None
        window = _window(text, self.language, issue, edits)
        if window.baseline == (0, 0):
            survivors = list(edits)  # the window alone looks fine: no filter
        else:
            reach = max(STAGE_ONE_MIN, STAGE_ONE_CHARS // max(window.size, 1))
            ordered = sorted(edits, key=lambda e: e.rank)
            survivors = [e for e in ordered[:reach] if window.improves(e)]
        survivors.sort(key=lambda e: e.rank)
        python = self.language == "python"  # judged by compile(), not tree-sitter
        before = [] if python else syntax.error_sites(text, self.language)
        chosen: tuple[tuple[int, tuple[float, ...]], str] | None = None
        for edit in survivors[:FULL_CHECKS]:
            candidate = edit.apply(lines)
            remaining = _verify(candidate, edit, self.language, before, issue)
            if remaining is None:
                continue
            score = (remaining, edit.rank)
            if chosen is None or score < chosen[0]:
                chosen = (score, candidate)
            if remaining == 0:
                break
        return None if chosen is None else chosen[1]


@dataclass
class _Window:
    """The top-level code around a problem, checked alone before the whole file."""

    language: str
    lines: list[str]
    first: int  # 0-based index of the window's first line in the file
    baseline: tuple[int, int]

    @property
    def size(self) -> int:
        return sum(len(line) + 1 for line in self.lines)

    def improves(self, edit: Edit) -> bool:
        if edit.first < self.first or edit.last >= self.first + len(self.lines):
            return True  # outside the window: leave it to the full check
        local = edit.shifted(-self.first).apply(self.lines)
        score = _local_score(local, self.language, edit.last - self.first + 1)
        return score < self.baseline


def _window(
    text: str, language: str, issue: syntax.SyntaxIssue, edits: list[Edit]
) -> _Window:
    low = min(min(e.first for e in edits) + 1, issue.line)
    high = max(max(e.last for e in edits) + 1, issue.end_line)
    region = syntax.top_level_region(text, language, low, high)
    lines = text.split("\n")[region.start - 1 : region.end]
    baseline = _local_score("\n".join(lines) + "\n", language, 0)
    return _Window(language, lines, region.start - 1, baseline)


def _local_score(text: str, language: str, edited_through: int) -> tuple[int, int]:
    """Lower is better: (0, 0) when the window parses; later errors count less."""
    if language == "python":
        issue = syntax.python_fragment_issue(text)
        if issue is None:
            return (0, 0)
        return (1, -issue.line) if issue.line > edited_through else (2, -issue.line)
    return (len(syntax.error_sites(text, language)), 0)


def _verify(
    new: str,
    edit: Edit,
    language: str,
    before: list[int],
    target: syntax.SyntaxIssue,
) -> int | None:
    """Return how many problems remain after the edit, or None when it is no repair."""
    first, last_old = edit.first + 1, edit.last + 1
    last_new = last_old + edit.line_delta
    shift = edit.line_delta
    if language == "python":
        # compile() reports only the first error, so the next one may surface
        # now: progress means that error now lies past the edit and the target.
        issue = syntax.python_compile_issue(new)
        if issue is None:
            return 0
        moved = target.line + shift if target.line > last_old else target.line
        return None if issue.line <= max(last_new, moved) else 1
    after = syntax.error_sites(new, language)
    kept = {s if s < first else s + shift for s in before if s < first or s > last_old}
    outside = {s for s in after if s < first or s > last_new}
    if not outside <= kept or any(first <= s <= last_new for s in after):
        return None
    if len(after) >= len(before):
        return None
    return len(after)


def _failure_reason(tried: int, attempt: ModelAttempt) -> str:
    parts = [f"no verified fix ({tried} single-token edits tried"]
    if attempt.replies:
        parts.append(f", {attempt.replies} model replies")
        rejected = [f"{n} {why}" for why, n in sorted(attempt.rejected.items())]
        if rejected:
            parts.append(": " + ", ".join(rejected))
    parts.append(")")
    return "".join(parts)


def _finding(issue: syntax.SyntaxIssue) -> Finding:
    return Finding(issue.line, issue.column, issue.message)


def _diff_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines[-1] == "":
        return [line + "\n" for line in lines[:-1]]
    return [line + "\n" for line in lines[:-1]] + [
        lines[-1] + "\n\\ No newline at end of file\n"
    ]
