"""Cut source text into retrieval chunks: definitions via tree-sitter, else windows."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from hybridcode.context.languages import detect_language, grammar, parser

if TYPE_CHECKING:
    import tree_sitter

log = logging.getLogger(__name__)

# A chunk never holds more than this many characters, whatever its line count.
CHUNK_CHARS = 4000

# Node kinds that make a chunk of their own, per language.
DEFINITIONS = {
    "python": ("function_definition", "class_definition"),
    "javascript": (
        "function_declaration",
        "generator_function_declaration",
        "class_declaration",
        "method_definition",
    ),
    "typescript": (
        "function_declaration",
        "generator_function_declaration",
        "class_declaration",
        "abstract_class_declaration",
        "method_definition",
        "interface_declaration",
        "enum_declaration",
    ),
    "go": ("function_declaration", "method_declaration", "type_declaration"),
    "rust": (
        "function_item",
        "impl_item",
        "struct_item",
        "enum_item",
        "trait_item",
        "mod_item",
    ),
    "java": (
        "class_declaration",
        "interface_declaration",
        "enum_declaration",
        "method_declaration",
        "constructor_declaration",
        "record_declaration",
    ),
    "c": ("function_definition", "struct_specifier"),
    "cpp": (
        "function_definition",
        "struct_specifier",
        "class_specifier",
        "namespace_definition",
    ),
    "ruby": ("method", "singleton_method", "class", "module"),
    "bash": ("function_definition",),
}
DEFINITIONS["tsx"] = DEFINITIONS["typescript"]
# A definition inside one of these starts where the wrapper starts (decorators,
# `export`, `template <...>`).
WRAPPERS = {"decorated_definition", "export_statement", "template_declaration"}

STOPWORDS = frozenset(
    """
    a an and are as at be by for from has have in is it its of on or that the
    this to was were will with do does what where which who how why when we our
    you your can if not no
    """.split()  # noqa: SIM905
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


class ParseTimeout(Exception):
    """tree-sitter took longer than the time allowed for one file."""


@dataclass(frozen=True)
class Chunk:
    path: str  # repo-relative, "/" separated
    start: int  # first line, 1-based
    end: int  # last line, inclusive
    kind: str  # a tree-sitter node kind, or "lines"
    name: str
    text: str

    @property
    def source(self) -> str:
        return f"{self.path}:{self.start}-{self.end}"


@dataclass(frozen=True)
class Chunked:
    chunks: list[Chunk]
    language: str | None
    plain_reason: str | None = None  # why a file with a grammar got windows only


def tokenize(text: str) -> list[str]:
    """Lowercase words for BM25; identifiers also split on case and underscores."""
    seen = _SEEN
    if len(seen) > 500_000:
        seen.clear()
    return [
        token
        for word in _WORD.findall(text)
        for token in (seen.get(word) or seen.setdefault(word, _word_tokens(word)))
    ]


# Words already split: identifiers repeat so often that this halves indexing time.
_SEEN: dict[str, tuple[str, ...]] = {}


def _word_tokens(word: str) -> tuple[str, ...]:
    parts = [_stem(p.lower()) for p in _PART.findall(word)]
    parts = [p for p in parts if len(p) > 1 and p not in STOPWORDS]
    whole = word.strip("_").lower()
    if len(parts) > 1:
        return (whole, *parts)
    return tuple(parts)


def _stem(word: str) -> str:
    # Plurals only: enough to match "files" to "file" without a stemmer library.
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-3] + "y" if word.endswith("ies") else word[:-1]
    return word


def chunk_text(
    path: str,
    text: str,
    chunk_lines: int,
    parse_timeout_s: float,
) -> Chunked:
    """Cut one decoded file into chunks; fall back to windows if parsing is slow."""
    lines = text.split("\n")
    language = detect_language(path, lines[0] if lines else "")
    if language not in DEFINITIONS:
        return Chunked(_windows(path, lines, 0, len(lines), chunk_lines), language)
    try:
        spans = definition_spans(language, text.encode("utf-8"), parse_timeout_s)
    except ParseTimeout:
        reason = f"parse took over {parse_timeout_s:g} s, indexed as plain text"
        log.debug("%s: %s", path, reason)
        windows = _windows(path, lines, 0, len(lines), chunk_lines)
        return Chunked(windows, language, reason)
    return Chunked(_cover(path, lines, spans, chunk_lines), language)


def definition_spans(
    language: str, source: bytes, timeout_s: float
) -> list[tuple[int, int, str, str]]:
    """Return (first row, last row, kind, name) of each definition, 0-based rows."""
    import tree_sitter

    tree = parse_bounded(language, source, timeout_s)
    query = _query(language, DEFINITIONS[language])
    captured = tree_sitter.QueryCursor(query).captures(tree.root_node)
    # Node.parent walks down from the root each time; match wrappers by end instead.
    wrapped = {
        wrapper.end_byte: wrapper.start_point.row
        for wrapper in captured.get("wrapper", [])
    }
    spans = []
    for node in captured.get("def", []):
        first = min(
            node.start_point.row, wrapped.get(node.end_byte, node.start_point.row)
        )
        last = node.end_point.row
        if last > first:
            name_node = node.child_by_field_name("name")
            name = (
                (name_node.text or b"").decode("utf-8", "replace") if name_node else ""
            )
            spans.append((first, last, node.type, name))
    spans.sort(key=lambda s: (s[0], -s[1]))
    return spans


def parse_bounded(language: str, source: bytes, timeout_s: float) -> tree_sitter.Tree:
    """Parse with tree-sitter, cancelling through its progress callback at timeout.

    The reader also stops feeding input past the deadline, so a slow read cannot
    keep the parse going between two progress calls.
    """
    deadline = time.monotonic() + timeout_s
    slices = source_reader(source)

    def read(offset: int, point: object) -> bytes:
        return b"" if time.monotonic() > deadline else slices(offset, point)

    def progress(_offset: int, _has_error: bool) -> bool:
        return time.monotonic() > deadline

    try:
        tree = parser(language).parse(read, progress_callback=progress)
    except ValueError:  # tree-sitter reports a cancelled parse as "Parsing failed"
        tree = None
    if tree is None or time.monotonic() > deadline:
        raise ParseTimeout(language)
    return tree


def source_reader(source: bytes) -> Callable[[int, object], bytes]:
    """Feed tree-sitter the source in slices (the progress callback needs a reader)."""

    def read(offset: int, _point: object) -> bytes:
        return source[offset : offset + 65536]

    return read


@cache
def _query(language: str, kinds: tuple[str, ...]) -> tree_sitter.Query:
    import tree_sitter

    lang = grammar(language)
    wrappers = [w for w in sorted(WRAPPERS) if lang.id_for_node_kind(w, True)]
    pattern = " ".join(f"({kind}) @def" for kind in kinds)
    pattern += " ".join(f" ({kind}) @wrapper" for kind in wrappers)
    return tree_sitter.Query(lang, pattern)


def _cover(
    path: str,
    lines: list[str],
    spans: list[tuple[int, int, str, str]],
    chunk_lines: int,
) -> list[Chunk]:
    """Outermost definitions that fit become chunks; the rest is cut into windows."""
    chunks: list[Chunk] = []
    covered_to = -1  # last row inside an emitted definition
    gap_start = 0
    for first, last, kind, name in spans:
        if first <= covered_to or not _fits(lines, first, last, chunk_lines):
            continue
        chunks.extend(_windows(path, lines, gap_start, first, chunk_lines))
        body = "\n".join(lines[first : last + 1])
        chunks.append(Chunk(path, first + 1, last + 1, kind, name, body))
        covered_to = last
        gap_start = last + 1
    chunks.extend(_windows(path, lines, gap_start, len(lines), chunk_lines))
    return chunks


def _fits(lines: list[str], first: int, last: int, chunk_lines: int) -> bool:
    if last - first + 1 > chunk_lines:
        return False
    return sum(len(line) + 1 for line in lines[first : last + 1]) <= CHUNK_CHARS


def _windows(
    path: str, lines: list[str], start: int, stop: int, chunk_lines: int
) -> list[Chunk]:
    """Cut rows [start, stop) into windows of at most chunk_lines and CHUNK_CHARS."""
    return [
        Chunk(
            path, first + 1, last + 1, "lines", "", "\n".join(lines[first : last + 1])
        )
        for first, last in _window_rows(lines, start, stop, chunk_lines)
    ]


def _window_rows(
    lines: list[str], start: int, stop: int, chunk_lines: int
) -> Iterator[tuple[int, int]]:
    row = start
    while row < stop:
        while row < stop and not lines[row].strip():
            row += 1
        if row >= stop:
            return
        first, size = row, 0
        while row < stop and row - first < chunk_lines:
            size += len(lines[row]) + 1
            if size > CHUNK_CHARS and row > first:
                break
            row += 1
        last = row - 1
        while last > first and not lines[last].strip():
            last -= 1
        yield first, last
