"""Syntax problems and code regions: tree-sitter for each language, compile() too.

Tree-sitter accepts some invalid Python (a body that is not indented, `return`
outside a function), so Python is judged by `compile()` first: a file that
compiles is clean even where the tree-sitter grammar disagrees, and tree-sitter
only adds the problems it sees after compile's first error (compile stops there).
"""

from __future__ import annotations

import ast
import textwrap
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hybridcode.context.languages import parser

if TYPE_CHECKING:
    import tree_sitter

# Node types that open a definition: the model gets the innermost one that fits.
DEFINITION_WORDS = (
    "function",
    "method",
    "class",
    "def",
    "impl",
    "struct",
    "interface",
    "enum",
    "module",
    "trait",
    "constructor",
    "lambda",
    "arrow",
)

STATEMENT_WORDS = (
    "statement",
    "declaration",
    "definition",
    "ERROR",
    "clause",
    "item",
    "pair",
    "element",
    "command",
    "assignment",
)


@dataclass(frozen=True)
class SyntaxIssue:
    """One syntax problem: 1-based line and character column."""

    line: int
    column: int
    message: str
    end_line: int  # last line the parser blamed (an ERROR node can span lines)
    missing: str | None = None  # the token tree-sitter inserted, when it says which


@dataclass(frozen=True)
class Region:
    """A run of whole lines (1-based, inclusive) covering one syntax node."""

    start: int
    end: int
    kind: str

    @property
    def is_definition(self) -> bool:
        return any(word in self.kind for word in DEFINITION_WORDS)

    @property
    def is_statement(self) -> bool:
        return self.is_definition or any(w in self.kind for w in STATEMENT_WORDS)


def check_syntax(text: str, language: str) -> list[SyntaxIssue]:
    """Return the syntax problems in text, first in the file first."""
    if language == "python":
        first = python_compile_issue(text)
        if first is None:
            return []
        later = [i for i in tree_issues(text, language) if i.line > first.line]
        return [first, *later]
    return tree_issues(text, language)


def tree_issues(text: str, language: str) -> list[SyntaxIssue]:
    """Return tree-sitter's ERROR and MISSING nodes, one issue per line."""
    tree = parse(text, language)
    if not tree.root_node.has_error:
        return []
    lines = text.split("\n")
    issues: list[SyntaxIssue] = []
    seen: set[int] = set()
    for node in error_nodes(tree.root_node):
        row, byte_col = _blamed(node).start_point
        if row + 1 in seen:
            continue
        seen.add(row + 1)
        column = _char_column(lines, row, byte_col)
        issues.append(_issue_for(node, row + 1, column))
    return issues


def error_sites(text: str, language: str) -> list[int]:
    """Return the 1-based lines where tree-sitter found an error (cheap)."""
    tree = parse(text, language)
    if not tree.root_node.has_error:
        return []
    return sorted({node.start_point[0] + 1 for node in error_nodes(tree.root_node)})


def python_compile_issue(text: str, name: str = "<source>") -> SyntaxIssue | None:
    """Compile Python source (never run it) and return its first error, if any."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, name, "exec", dont_inherit=True)
    except SyntaxError as exc:
        line = exc.lineno or 1
        end = exc.end_lineno if exc.end_lineno and exc.end_lineno >= line else line
        return SyntaxIssue(line, max(exc.offset or 1, 1), exc.msg, end)
    except (ValueError, RecursionError, MemoryError) as exc:
        return SyntaxIssue(1, 1, f"cannot compile: {exc}", 1)
    return None


def python_fragment_issue(fragment: str) -> SyntaxIssue | None:
    """Parse an indented fragment of a Python file on its own (grammar only).

    Only the parser runs (no compiler pass), so `return` or `await` out of
    context are accepted here; the whole-file check still compiles.
    """
    body = textwrap.dedent(fragment)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(body, "<fragment>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as exc:
        line = exc.lineno or 1
        return SyntaxIssue(line, max(exc.offset or 1, 1), exc.msg, line)
    except (ValueError, RecursionError, MemoryError) as exc:
        return SyntaxIssue(1, 1, f"cannot parse: {exc}", 1)
    return None


def parse(text: str, language: str) -> tree_sitter.Tree:
    """Parse text with the language's tree-sitter grammar."""
    return parser(language).parse(text.encode("utf-8"))


def error_nodes(root: tree_sitter.Node) -> list[tree_sitter.Node]:
    """Return ERROR and MISSING nodes, outermost only, in file order."""
    found: list[tree_sitter.Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            found.append(node)
        elif node.has_error:
            stack.extend(reversed(node.children))
    return found


def enclosing_regions(
    text: str, language: str, line: int, end_line: int | None = None
) -> list[Region]:
    """Return the whole-line nodes around lines line..end_line, innermost first.

    The last region is always the whole file.
    """
    lines = text.split("\n")
    last = len(lines) - 1 if lines[-1] == "" else len(lines)
    end_line = max(end_line or line, line)
    tree = parse(text, language)
    row = min(line, max(last, 1)) - 1
    start = _first_code_byte(lines, row)
    node: tree_sitter.Node | None = tree.root_node.descendant_for_point_range(
        (row, start), (row, start)
    )
    regions: list[Region] = []
    while node is not None and node.parent is not None:
        first, final = node.start_point[0] + 1, _last_line(node)
        if first <= line and final >= end_line:
            region = Region(first, max(final, first), node.type)
            if not regions or (region.start, region.end) != (
                regions[-1].start,
                regions[-1].end,
            ):
                regions.append(region)
            elif region.is_definition and not regions[-1].is_definition:
                regions[-1] = region
        node = node.parent
    regions.append(Region(1, max(last, 1), "file"))
    return regions


def top_level_region(text: str, language: str, line: int, end_line: int) -> Region:
    """Return the span of the top-level nodes that cover lines line..end_line."""
    tree = parse(text, language)
    first, last = line, end_line
    for child in tree.root_node.children:
        child_first, child_last = child.start_point[0] + 1, _last_line(child)
        if child_last >= line and child_first <= end_line:
            first, last = min(first, child_first), max(last, child_last)
    return Region(first, last, "top-level")


def _blamed(node: tree_sitter.Node) -> tree_sitter.Node:
    """Inside an ERROR node, a nested ERROR or MISSING node is the sharper place."""
    stack = list(reversed(node.children))
    while stack:
        child = stack.pop()
        if child.is_error or child.is_missing:
            return child
        if child.has_error:
            stack.extend(reversed(child.children))
    return node


def _last_line(node: tree_sitter.Node) -> int:
    row, column = node.end_point
    return row if column == 0 and row > node.start_point[0] else row + 1


def _first_code_byte(lines: list[str], row: int) -> int:
    if row >= len(lines):
        return 0
    text = lines[row]
    return len(text[: len(text) - len(text.lstrip())].encode("utf-8"))


def _char_column(lines: list[str], row: int, byte_col: int) -> int:
    if row >= len(lines):
        return 1
    head = lines[row].encode("utf-8")[:byte_col]
    return len(head.decode("utf-8", errors="ignore")) + 1


def _issue_for(node: tree_sitter.Node, line: int, column: int) -> SyntaxIssue:
    if node.is_missing:
        token = node.type
        return SyntaxIssue(line, column, f"missing '{token}'", line, missing=token)
    end = _last_line(node)
    text = (node.text or b"").decode("utf-8", "replace").strip()
    first = text.split()[0] if text.split() else ""
    if len(first) > 20:
        first = first[:20] + "…"
    message = f"unexpected '{first}'" if first else "syntax error"
    return SyntaxIssue(line, column, message, max(end, line))
