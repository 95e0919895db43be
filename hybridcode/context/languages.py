"""Which tree-sitter grammar reads which file; grammars load lazily, once."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import PurePath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tree_sitter


@dataclass(frozen=True)
class LanguageSpec:
    name: str  # our name: python, javascript, typescript, tsx, go, ...
    module: str  # the official grammar wheel's module
    function: str = "language"  # the module function returning the grammar pointer


LANGUAGES = {
    spec.name: spec
    for spec in (
        LanguageSpec("python", "tree_sitter_python"),
        LanguageSpec("javascript", "tree_sitter_javascript"),
        LanguageSpec("typescript", "tree_sitter_typescript", "language_typescript"),
        LanguageSpec("tsx", "tree_sitter_typescript", "language_tsx"),
        LanguageSpec("go", "tree_sitter_go"),
        LanguageSpec("rust", "tree_sitter_rust"),
        LanguageSpec("java", "tree_sitter_java"),
        LanguageSpec("c", "tree_sitter_c"),
        LanguageSpec("cpp", "tree_sitter_cpp"),
        LanguageSpec("ruby", "tree_sitter_ruby"),
        LanguageSpec("bash", "tree_sitter_bash"),
        LanguageSpec("json", "tree_sitter_json"),
        LanguageSpec("yaml", "tree_sitter_yaml"),
        LanguageSpec("toml", "tree_sitter_toml"),
    )
}

EXTENSIONS = {
    ".py": "python",
    ".pyi": "python",
    ".pyw": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".rb": "ruby",
    ".rake": "ruby",
    ".gemspec": "ruby",
    ".sh": "bash",
    ".bash": "bash",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
}
FILE_NAMES = {
    "Rakefile": "ruby",
    "Gemfile": "ruby",
    ".bashrc": "bash",
    ".bash_profile": "bash",
    "Pipfile": "toml",
}
INTERPRETERS = {
    "python": "python",
    "python3": "python",
    "node": "javascript",
    "bash": "bash",
    "sh": "bash",
    "zsh": "bash",
    "ruby": "ruby",
    "deno": "typescript",
    "ts-node": "typescript",
}


def detect_language(path: str | PurePath, first_line: str = "") -> str | None:
    """Pick a language by extension or name, then by a shebang line."""
    pure = PurePath(path)
    if pure.name in FILE_NAMES:
        return FILE_NAMES[pure.name]
    if pure.suffix.lower() in EXTENSIONS:
        return EXTENSIONS[pure.suffix.lower()]
    if first_line.startswith("#!"):
        words = first_line[2:].strip().split()
        if words and PurePath(words[0]).name == "env":
            words = [w for w in words[1:] if not w.startswith("-")]
        if words:
            interpreter = PurePath(words[0]).name.rstrip("0123456789.")
            return INTERPRETERS.get(interpreter) or INTERPRETERS.get(
                PurePath(words[0]).name
            )
    return None


@cache
def grammar(name: str) -> tree_sitter.Language:
    """Load one grammar from its official wheel the first time it is needed."""
    import tree_sitter

    spec = LANGUAGES[name]
    module = importlib.import_module(spec.module)
    return tree_sitter.Language(getattr(module, spec.function)())


def parser(name: str) -> tree_sitter.Parser:
    """Return a new parser for one language (parsers are cheap; grammars are cached)."""
    import tree_sitter

    return tree_sitter.Parser(grammar(name))
