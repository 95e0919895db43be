"""Signatures of definitions elsewhere in the repo that the code near a cursor uses.

The model sees the file around the cursor; this finds what it cannot see: the
headers of functions and classes defined in other files of the repository that
are imported or called near the cursor. Everything is bounded by a time limit,
because completion runs on every keystroke.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hybridcode.complete import Snippet
from hybridcode.context.languages import LANGUAGES, detect_language, parser

if TYPE_CHECKING:
    import tree_sitter

log = logging.getLogger(__name__)

NEAR_BEFORE = 30  # lines above the cursor whose names count as "near"
NEAR_AFTER = 5
MAX_FILES = 100  # same-language files read, most likely first
MAX_FILE_BYTES = 200_000
MAX_SNIPPETS = 8
MAX_SIGNATURE_LINES = 6

DEFINITIONS = {
    "python": {"function_definition", "class_definition"},
    "javascript": {
        "function_declaration",
        "class_declaration",
        "method_definition",
        "generator_function_declaration",
    },
    "typescript": {
        "function_declaration",
        "class_declaration",
        "method_definition",
        "interface_declaration",
        "type_alias_declaration",
    },
    "go": {"function_declaration", "method_declaration", "type_spec"},
    "rust": {"function_item", "struct_item", "enum_item", "trait_item"},
    "java": {"method_declaration", "class_declaration", "interface_declaration"},
    "ruby": {"method", "class", "module"},
}
DEFINITIONS["tsx"] = DEFINITIONS["typescript"]
# Containers whose children may hold more definitions (classes, Go type blocks).
CONTAINERS = {
    "class_definition",
    "class_declaration",
    "decorated_definition",
    "class_body",
    "block",
    "type_declaration",
    "export_statement",
    "declaration_list",
    "impl_item",
    "body_statement",
    "class",
}
CLASSES = {
    "class_definition",
    "class_declaration",
    "class",
    "interface_declaration",
    "trait_item",
}
IMPORTS = {
    "import_statement",
    "import_from_statement",
    "import_declaration",
    "use_declaration",
    "import_spec",
}
IDENTIFIERS = {
    "identifier",
    "property_identifier",
    "field_identifier",
    "type_identifier",
    "constant",
}
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Definition:
    name: str
    path: str
    line: int
    signature: str


def gather_snippets(
    path: Path, text: str, line: int, language: str, time_limit: float
) -> list[Snippet]:
    """Signatures from other repo files for names used or imported near line."""
    if language not in DEFINITIONS:
        return []
    from hybridcode.context.git import find_repo, list_files

    folder = path.resolve().parent
    root = find_repo(folder) if folder.is_dir() else None
    if root is None:
        return []
    tree = parser(language).parse(text.encode("utf-8"))
    wanted, imported = names_near(tree.root_node, line), imported_words(tree.root_node)
    if not wanted:
        return []
    here = path.resolve().relative_to(root).as_posix() if _inside(path, root) else ""
    candidates = _rank_files(list_files(root), here, language, imported)
    found = _find_definitions(root, candidates, set(wanted), time_limit)
    return _pick(wanted, found)


def names_near(root: tree_sitter.Node, line: int) -> list[str]:
    """Identifiers around a 1-based line, nearest first, the cursor line excluded.

    The cursor line changes with every keystroke; leaving it out keeps the
    context (which comes first in the prompt) stable while a line is typed.
    """
    low, high = line - 1 - NEAR_BEFORE, line - 1 + NEAR_AFTER
    seen: dict[str, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if node.end_point[0] < low or node.start_point[0] > high:
            continue
        row = node.start_point[0]
        if node.type in IDENTIFIERS and row != line - 1 and node.text:
            name = node.text.decode("utf-8", "replace")
            distance = abs(row - (line - 1))
            seen[name] = min(distance, seen.get(name, distance))
        stack.extend(node.children)
    return sorted(seen, key=lambda name: (seen[name], name))


def imported_words(root: tree_sitter.Node) -> set[str]:
    """Every word in the file's import statements (module names, imported names)."""
    words: set[str] = set()
    for node in root.children:
        if node.type in IMPORTS or any(c.type in IMPORTS for c in node.children):
            words.update(WORD.findall((node.text or b"").decode("utf-8", "replace")))
    return words


def definitions(
    root: tree_sitter.Node, source: bytes, language: str, path: str
) -> list[Definition]:
    """Top-level definitions and those one container deep (methods, type specs)."""
    kinds = DEFINITIONS[language]
    found: list[Definition] = []
    stack = [(node, 0) for node in root.children]
    while stack:
        node, depth = stack.pop()
        if node.type in kinds:
            name = node.child_by_field_name("name")
            if name is not None and name.text:
                found.append(
                    Definition(
                        name.text.decode("utf-8", "replace"),
                        path,
                        node.start_point[0] + 1,
                        _signature(node, source, kinds),
                    )
                )
        if depth < 3 and (node.type in CONTAINERS or node.type in kinds):
            stack.extend((child, depth + 1) for child in node.children)
    return found


def _signature(node: tree_sitter.Node, source: bytes, kinds: set[str]) -> str:
    """The definition up to its body; a class adds its members' signatures."""
    body = node.child_by_field_name("body")
    whole = body is None or node.type == "type_spec"
    end = node.end_byte if whole else body.start_byte  # type: ignore[union-attr]
    text = source[node.start_byte : end].decode("utf-8", "replace").rstrip()
    lines = text.removesuffix("{").rstrip().split("\n")
    if body is not None and node.type in CLASSES:
        lines += [
            "    " + _signature(member, source, kinds).replace("\n", "\n    ")
            for member in _members(body, kinds)
        ]
    if len(lines) > MAX_SIGNATURE_LINES:
        lines = [*lines[:MAX_SIGNATURE_LINES], "..."]
    return "\n".join(lines)


def _members(body: tree_sitter.Node, kinds: set[str]) -> list[tree_sitter.Node]:
    members = []
    for child in body.named_children:
        if child.type == "decorated_definition":
            child = child.child_by_field_name("definition") or child
        if child.type in kinds:
            members.append(child)
    return members


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def _rank_files(
    files: list[str], here: str, language: str, imported: set[str]
) -> list[str]:
    """Same-language files: imported modules first, then the same folder."""
    folder = here.rsplit("/", 1)[0] if "/" in here else ""
    suffixes = {ext for ext, name in _extensions().items() if name == language}

    def rank(name: str) -> tuple[int, str]:
        stem = Path(name).stem
        parent = name.rsplit("/", 1)[0] if "/" in name else ""
        if stem in imported:
            return 0, name
        return (1 if parent == folder else 2), name

    same = [f for f in files if f != here and Path(f).suffix.lower() in suffixes]
    return sorted(same, key=rank)[:MAX_FILES]


def _extensions() -> dict[str, str]:
    from hybridcode.context.languages import EXTENSIONS

    return EXTENSIONS


def _find_definitions(
    root: Path, files: list[str], wanted: set[str], time_limit: float
) -> dict[str, Definition]:
    found: dict[str, Definition] = {}
    for name in files:
        if time.monotonic() > time_limit or wanted <= set(found):
            break
        path = root / name
        try:
            if path.stat().st_size > MAX_FILE_BYTES or path.is_symlink():
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if wanted.isdisjoint(WORD.findall(data.decode("utf-8", "replace"))):
            continue
        language = detect_language(name)
        if language is None or language not in LANGUAGES:
            continue
        tree = parser(language).parse(data)
        for definition in definitions(tree.root_node, data, language, name):
            if definition.name in wanted and definition.name not in found:
                found[definition.name] = definition
    return found


def _pick(wanted: list[str], found: dict[str, Definition]) -> list[Snippet]:
    picked = [found[name] for name in wanted if name in found][:MAX_SNIPPETS]
    return [Snippet(d.path, d.line, d.signature) for d in picked]
