"""A repo map: tree-sitter definitions, ranked by how often retrieved code uses them."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hybridcode.context.languages import detect_language, parser

if TYPE_CHECKING:
    import tree_sitter

log = logging.getLogger(__name__)

DEFINITION_TYPES = frozenset(
    {
        "function_definition",
        "class_definition",
        "function_declaration",
        "class_declaration",
        "method_definition",
        "method_declaration",
        "generator_function_declaration",
        "interface_declaration",
        "enum_declaration",
        "type_alias_declaration",
        "constructor_declaration",
        "type_spec",
        "function_item",
        "struct_item",
        "enum_item",
        "trait_item",
        "mod_item",
        "struct_specifier",
        "class_specifier",
        "method",
        "singleton_method",
        "class",
        "module",
    }
)
MAP_LANGUAGES = frozenset(
    {
        "python",
        "javascript",
        "typescript",
        "tsx",
        "go",
        "rust",
        "java",
        "c",
        "cpp",
        "ruby",
    }
)
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_FILES = 300


@dataclass(frozen=True)
class Definition:
    path: str
    line: int  # 1-based
    name: str
    signature: str  # the definition's first line, trimmed
    references: int = 0


def definitions(path: str, text: str) -> list[Definition]:
    """Definitions in one file, in source order; empty for languages without a map."""
    first = text.split("\n", 1)[0]
    language = detect_language(path, first)
    if language not in MAP_LANGUAGES:
        return []
    try:
        tree = parser(language).parse(text.encode("utf-8"))
    except (ImportError, ValueError, RuntimeError) as exc:
        log.info("repo map: cannot parse %s: %s", path, exc)
        return []
    lines = text.split("\n")
    return [
        Definition(path, row + 1, name, lines[row].strip()[:160])
        for row, name in _walk(tree.root_node)
    ]


def rank(found: Iterable[Definition], retrieved: Iterable[str]) -> list[Definition]:
    """Order definitions by how often the retrieved text names them, most first."""
    uses = Counter(IDENTIFIER.findall("\n".join(retrieved)))
    ranked = [
        Definition(d.path, d.line, d.name, d.signature, uses[d.name]) for d in found
    ]
    ranked.sort(key=lambda d: (-d.references, d.path, d.line))
    return ranked


def build_map(
    texts: Mapping[str, str], retrieved: Iterable[str], max_files: int = MAX_FILES
) -> list[Definition]:
    """Definitions ranked against the retrieved code.

    Only the max_files files sharing the most names with the retrieved code are
    parsed, so a large repo costs a regex pass, not a parse of every file.
    """
    code = list(retrieved)
    names = {n for n in IDENTIFIER.findall("\n".join(code)) if len(n) > 2}
    shared = {
        path: len(names.intersection(IDENTIFIER.findall(text)))
        for path, text in texts.items()
    }
    chosen = sorted(texts, key=lambda p: (-shared[p], p))[:max_files]
    found = [d for path in sorted(chosen) for d in definitions(path, texts[path])]
    return rank(found, code)


def _walk(root: tree_sitter.Node) -> Iterable[tuple[int, str]]:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type in DEFINITION_TYPES:
            name = _name(node)
            if name:
                yield node.start_point[0], name
        stack.extend(reversed(node.children))


def _name(node: tree_sitter.Node) -> str | None:
    current: tree_sitter.Node | None = node
    for _ in range(6):
        if current is None:
            return None
        named = current.child_by_field_name("name")
        if named is not None and named.text is not None:
            return named.text.decode("utf-8", "replace")
        if current.type in {"identifier", "field_identifier"} and current.text:
            return current.text.decode("utf-8", "replace")
        current = current.child_by_field_name("declarator")
    return None
