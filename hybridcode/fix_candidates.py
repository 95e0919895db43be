"""Single-token repair candidates at the place a parser points to; no model needed."""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, replace

from hybridcode.context.syntax import SyntaxIssue

CLOSERS = (")", "]", "}")
COMMON_TOKENS = (")", "]", "}", ",", "(", "[", "{", '"', "'", ":", ";", ".")
EXTRA_TOKENS = {
    "javascript": ("`",),
    "typescript": ("`",),
    "tsx": ("`",),
    "json": (),
    "toml": ("=",),
    "yaml": ("-",),
    "bash": ("fi", "done", "`"),
}
INDENTED = {"python", "yaml"}
BRACED = {"javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp"}
PAIRS = {"(": ")", "[": "]", "{": "}"}
SPLIT_TOKENS = ("(", "[", "{", ".", ",", '"', "'")
KIND_COST = {
    "delete": 6,
    "delete-quote": 30,
    "delete-word": 40,
    "line-start": 100,
    "empty-pair": 10,
    "split": 3,
    "cluster": 8,
}
SEPARATORS = {",", ":", ";", "."}
# Names every file may use without defining them.
GLOBALS = {
    "python": set(dir(builtins)) | {"self", "cls"},
    "javascript": {
        "Array",
        "Boolean",
        "Date",
        "Error",
        "JSON",
        "Map",
        "Math",
        "Number",
        "Object",
        "Promise",
        "RegExp",
        "Set",
        "String",
        "Symbol",
        "TypeError",
        "console",
        "module",
        "exports",
        "require",
        "process",
        "Buffer",
        "undefined",
        "arguments",
    },
}
GLOBALS["typescript"] = GLOBALS["tsx"] = GLOBALS["javascript"]
REACH = 80  # columns around the error considered on long lines
LINE_END_TOKENS = (")", "]", "}", ",", ":", ";", '"', "'")

KEYWORDS = {
    "python": "and as assert async await break class continue def del elif else "
    "except finally for from global if import in is lambda nonlocal not "
    "or pass raise return try while with yield None True False",
    "javascript": "async await break case catch class const continue debugger default "
    "delete do else export extends finally for function if import in "
    "instanceof let new return static super switch this throw try "
    "typeof var void while with yield null true false",
    "go": "break case chan const continue default defer else fallthrough for func go "
    "goto if import interface map package range return select struct switch "
    "type var nil true false",
    "rust": "as async await break const continue crate else enum extern fn for if impl "
    "in let loop match mod move mut pub ref return self static struct super "
    "trait type unsafe use where while true false",
    "java": "abstract boolean break byte case catch char class const continue default "
    "do double else enum extends final finally float for if implements import "
    "instanceof int interface long new package private protected public "
    "return short static super switch this throw throws try void volatile "
    "while null true false",
    "c": "auto break case char const continue default do double else enum extern float "
    "for goto if int long register return short signed sizeof static struct "
    "switch typedef union unsigned void volatile while",
    "ruby": "alias and begin break case class def defined do else elsif end ensure "
    "false for if in module next nil not or redo rescue retry return self "
    "super then true undef unless until when while yield",
    "bash": "if then else elif fi case esac for select while until do done in function "
    "return local export",
}
KEYWORDS["typescript"] = (
    KEYWORDS["javascript"] + " interface type enum implements "
    "namespace declare readonly"
)
KEYWORDS["tsx"] = KEYWORDS["typescript"]
KEYWORDS["cpp"] = (
    KEYWORDS["c"] + " class namespace template typename public private "
    "protected virtual new delete this using bool true false"
)

_TOKEN = re.compile(r"\w+|[^\w\s]")
_WORD = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True)
class Edit:
    """Replace lines first..last (0-based, inclusive) with new lines."""

    first: int
    last: int
    new: tuple[str, ...]
    rank: tuple[float, ...]
    origin: str = "edit"

    @property
    def line_delta(self) -> int:
        return len(self.new) - (self.last - self.first + 1)

    def apply(self, lines: list[str]) -> str:
        return "\n".join([*lines[: self.first], *self.new, *lines[self.last + 1 :]])

    def shifted(self, delta: int) -> Edit:
        return replace(self, first=self.first + delta, last=self.last + delta)


def token_edits(
    lines: list[str], issue: SyntaxIssue, language: str, text: str
) -> list[Edit]:
    """Return single-token edits near the problem, most likely first."""
    row, col = issue.line - 1, issue.column - 1
    edits: dict[tuple[int, str], Edit] = {}

    def add(at: int, new_line: str, rank: tuple[float, ...]) -> None:
        if 0 <= at < len(lines) and new_line != lines[at]:
            key = (at, new_line)
            if key not in edits or rank < edits[key].rank:
                edits[key] = Edit(at, at, (new_line,), rank)

    if issue.missing and row < len(lines):
        line = lines[row]
        add(row, line[:col] + issue.missing + line[col:], (4, 1))
    for at, new_line, rank in _hinted(lines, issue, language):
        add(at, new_line, rank)
    tokens = COMMON_TOKENS + EXTRA_TOKENS.get(language, ())
    previous = _previous_code_row(lines, row)
    at_line_start = row < len(lines) and col <= _indent_width(lines[row])
    words = _Vocabulary(text, language)
    for at in _rows_near(lines, issue):
        away = abs(at - row) * 100
        for new_line, spot in _keyword_fixes(lines[at], language, text):
            add(at, new_line, (2, away + abs(spot - col)))
        if language in INDENTED:
            for new_line in _reindents(lines, at):
                add(at, new_line, (3, away))
        focus = col if at == row else None
        for new_line, spot, kind in _insertions_and_deletions(lines[at], tokens, focus):
            if kind == "line-end" and (at == row or (at == previous and at_line_start)):
                cost = 0
            elif not lines[at].strip():
                cost = 20 + abs(at - row)
            else:
                cost = away + (abs(spot - col) if at == row else 30)
                cost += KIND_COST.get(kind, 0)
            cost += 25 * words.novelty(lines[at], new_line)
            add(at, new_line, (4, cost))
    if language in BRACED:
        for at, new_line in _block_braces(lines, row):
            add(at, new_line, (4, -5))
    return sorted(edits.values(), key=lambda e: e.rank)


def _block_braces(lines: list[str], row: int) -> list[tuple[int, str]]:
    """Braces the indentation asks for: a block opened without `{`, closed without `}`.

    A line ending in `)` (or `else`, `=>`, `try`, `do`) followed by a deeper line
    opens a block; a whitespace-only line indented less than the code above it
    is where a `}` went missing.
    """
    found: list[tuple[int, str]] = []
    low = max(row - 80, 0)
    for at in range(low, min(row + 2, len(lines))):
        line = lines[at]
        below = _next_code_row(lines, at)
        if (
            line.strip()
            and below is not None
            and (
                _indent_width(lines[below]) > _indent_width(line)
                and line.rstrip().endswith((")", "else", "=>", "try", "do"))
            )
        ):
            gap = "" if line.endswith(" ") else " "
            found.append((at, line + gap + "{"))
        if line and not line.strip() and at > 0:
            above = _previous_code_row(lines, at)
            if above >= 0 and _indent_width(lines[above]) > len(line):
                found.append((at, line + "}"))
    return found


def _next_code_row(lines: list[str], row: int) -> int | None:
    for below in range(row + 1, min(row + 20, len(lines))):
        if lines[below].strip():
            return below
    return None


class _Vocabulary:
    """Names the file uses; a repair that leaves a name used nowhere else is suspect."""

    def __init__(self, text: str, language: str) -> None:
        self.counts: dict[str, int] = {}
        for word in _WORD.findall(text):
            self.counts[word] = self.counts.get(word, 0) + 1
        self.keywords = set(KEYWORDS.get(language, "").split())
        self.keywords |= GLOBALS.get(language, set())

    def novelty(self, old: str, new: str) -> int:
        """Unknown names in new minus unknown names in old (old's own uses removed)."""
        own: dict[str, int] = {}
        for word in _WORD.findall(old):
            own[word] = own.get(word, 0) + 1
        return self._unknown(new, own) - self._unknown(old, own)

    def _unknown(self, line: str, own: dict[str, int]) -> int:
        return sum(
            1
            for word in _WORD.findall(line)
            if word not in self.keywords
            and self.counts.get(word, 0) - own.get(word, 0) <= 0
        )


def _rows_near(lines: list[str], issue: SyntaxIssue) -> list[int]:
    """The error's line, the code line before it (and blank lines between), the next."""
    row = min(issue.line - 1, len(lines) - 1)
    rows = {row, row + 1}
    previous = _previous_code_row(lines, row)
    rows.update(range(max(previous, 0), row))
    for extra in range(row, min(issue.end_line, row + 6)):
        rows.add(extra)
    return sorted(r for r in rows if 0 <= r < len(lines) and lines[r])


def _hinted(
    lines: list[str], issue: SyntaxIssue, language: str
) -> list[tuple[int, str, tuple[float, ...]]]:
    """Edits that Python's own error messages name exactly."""
    if language != "python" or issue.line > len(lines):
        return []
    row, col = issue.line - 1, issue.column - 1
    line, message = lines[row], issue.message
    found: list[tuple[int, str, tuple[float, ...]]] = []
    if message.startswith("expected ':'"):
        found.append((row, line[:col] + ":" + line[col:], (1, 0)))
        stripped = line.rstrip()
        found.append((row, stripped + ":" + line[len(stripped) :], (1, 1)))
    if "was never closed" in message and col < len(line):
        closer = {"(": ")", "[": "]", "{": "}"}.get(line[col], "")
        stripped = line.rstrip()
        if closer:
            found.append((row, stripped + closer + line[len(stripped) :], (1, 2)))
    if "indent" in message:
        found += [(row, new, (1, 3)) for new in _reindents(lines, row)]
        if row + 1 < len(lines):
            found += [(row + 1, new, (1, 4)) for new in _reindents(lines, row + 1)]
    return found


def _keyword_fixes(line: str, language: str, text: str) -> list[tuple[str, int]]:
    keywords = KEYWORDS.get(language, "").split()
    if not keywords:
        return []
    known = set(keywords)
    fixes = []
    for match in _WORD.finditer(line):
        word = match.group()
        if word in known:
            continue
        if len(re.findall(rf"\b{re.escape(word)}\b", text)) > 2:
            continue  # a name used elsewhere is a name, not a typo
        for keyword in keywords:
            if _near(word, keyword):
                fixed = line[: match.start()] + keyword + line[match.end() :]
                fixes.append((fixed, match.start()))
    return fixes


def _near(word: str, keyword: str) -> bool:
    """Damerau-Levenshtein distance 1 (2 for keywords of 6+ letters)."""
    if word == keyword or abs(len(word) - len(keyword)) > 2:
        return False
    limit = 2 if len(keyword) >= 6 else 1
    return _distance(word, keyword) <= limit


def _distance(a: str, b: str) -> int:
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current.append(value)
        previous2, previous = previous, current
    return previous[-1]


def _reindents(lines: list[str], row: int) -> list[str]:
    line = lines[row]
    body = line.lstrip()
    if not body:
        return []
    levels: list[str] = []
    above = row - 1
    while above >= 0 and len(levels) < 8 and above > row - 40:
        text = lines[above]
        if text.strip():
            indent = text[: len(text) - len(text.lstrip())]
            unit = "\t" if indent.startswith("\t") else "    "
            for option in (
                indent,
                indent + unit,
                indent[: -len(unit)] if indent else "",
            ):
                if option not in levels:
                    levels.append(option)
        above -= 1
    if not levels:
        levels = ["", "    "]
    return [level + body for level in levels]


def _insertions_and_deletions(
    line: str, tokens: tuple[str, ...], focus: int | None
) -> list[tuple[str, int, str]]:
    """(new line, column, kind) for one token inserted or deleted.

    Kinds: "line-end" (a token people often forget there), "line-start" (a
    separator before the first token, which nobody writes), "empty-pair" (an
    opener right before its closer), "split" (inside a name, where a lost
    bracket joins two names), "insert", and the deletions.
    """
    found: list[tuple[str, int, str]] = []
    start, end = _indent_width(line), len(line.rstrip())
    for spot in _boundaries(line):
        if not _in_reach(spot, focus, end):
            continue
        for token in tokens:
            found.append(
                (
                    line[:spot] + token + line[spot:],
                    spot,
                    _insert_kind(line, spot, token, start, end),
                )
            )
    for match in _TOKEN.finditer(line):
        first, stop = match.span()
        if not _in_reach(first, focus, end):
            continue
        word = match.group()
        kind = "delete-word" if word[0].isalnum() or word[0] == "_" else "delete"
        kind = "delete-quote" if word in "\"'`" else kind
        found.append((line[:first] + line[stop:], first, kind))
        if first > 0 and line[first - 1] == " ":
            found.append((line[: first - 1] + line[stop:], first, kind))
        if focus is not None and kind == "delete-word" and abs(first - focus) <= 40:
            for inner in range(first + 1, stop):
                for token in SPLIT_TOKENS:
                    found.append((line[:inner] + token + line[inner:], inner, "split"))
    return found


def _insert_kind(line: str, spot: int, token: str, start: int, end: int) -> str:
    if spot == end and token in LINE_END_TOKENS:
        return "line-end"
    if spot == start and token in ",;:.":
        return "line-start"
    after = line[spot : spot + 1]
    before = line[spot - 1 : spot] if spot else ""
    if PAIRS.get(token) == after or PAIRS.get(before) == token:
        return "empty-pair"
    if token in SEPARATORS and (after in SEPARATORS or before in SEPARATORS):
        return "cluster"  # `[:,` or `,,`: separators side by side are rare
    return "insert"


def _indent_width(line: str) -> int:
    return len(line) - len(line.lstrip())


def _previous_code_row(lines: list[str], row: int) -> int:
    previous = min(row, len(lines)) - 1
    while previous >= 0 and not lines[previous].strip():
        previous -= 1
    return previous


def _in_reach(spot: int, focus: int | None, end: int) -> bool:
    """Long lines: only spots near the error, or near either end of the line."""
    if focus is not None and abs(spot - focus) <= REACH:
        return True
    return spot <= REACH or spot >= end - REACH


def _boundaries(line: str) -> list[int]:
    start = len(line) - len(line.lstrip())
    stop = len(line.rstrip())
    spots = {start, stop}
    for i in range(start + 1, stop):
        before, after = line[i - 1], line[i]
        if _kind(before) != _kind(after) or _kind(before) == "p":
            spots.add(i)
    return sorted(spots)


def _kind(char: str) -> str:
    if char.isalnum() or char == "_":
        return "w"
    return "s" if char.isspace() else "p"
