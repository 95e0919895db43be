"""Syntax findings from tree-sitter for every registered language, plus compile()."""

from __future__ import annotations

import pytest

from hybridcode.context.languages import LANGUAGES
from hybridcode.context.syntax import check_syntax, enclosing_regions
from hybridcode.fix import find_problems

# (language, valid source, broken source, line of the first problem)
SAMPLES = [
    ("python", "def f(x):\n    return x\n", "def f(x)\n    return x\n", 1),
    (
        "javascript",
        "function f(a) {\n  return a;\n}\n",
        "function f(a {\n  return a;\n}\n",
        1,
    ),
    (
        "typescript",
        "function f(a: number): number {\n  return a;\n}\n",
        "function f(a: number: number {\n  return a;\n}\n",
        1,
    ),
    ("tsx", "const A = () => <div>hi</div>;\n", "const A = () => <div>hi</div;\n", 1),
    (
        "go",
        "package main\n\nfunc main() {\n\tx := 1\n\t_ = x\n}\n",
        "package main\n\nfunc main() {\n\tx := foo(1, 2\n}\n",
        4,
    ),
    (
        "rust",
        "fn main() {\n    let x = 1;\n}\n",
        "fn main() {\n    let x = (1;\n}\n",
        2,
    ),
    (
        "java",
        "class A {\n  int f() { return 1; }\n}\n",
        "class A {\n  int f() { return 1 }\n}\n",
        2,
    ),
    ("c", "int main(void) {\n  return 0;\n}\n", "int main(void) {\n  return 0\n}\n", 2),
    ("cpp", "int main() {\n  return 0;\n}\n", "int main() {\n  return (0;\n}\n", 2),
    ("ruby", "def f(x)\n  x + 1\nend\n", "def f(x)\n  x + (1\nend\n", 2),
    ("bash", "if true; then\n  echo hi\nfi\n", "if true; then\n  echo hi\n", 3),
    ("json", '{"a": 1, "b": 2}\n', '{"a": 1 "b": 2}\n', 1),
    ("yaml", "a: 1\nb:\n  - x\n", "a: 1\nb: [x\n", 1),
    ("toml", 'a = 1\n[t]\nb = "x"\n', 'a = 1\n[t\nb = "x"\n', 2),
]


def test_every_registered_language_has_a_sample() -> None:
    assert {s[0] for s in SAMPLES} == set(LANGUAGES)


@pytest.mark.parametrize(
    ("language", "good", "bad", "line"), SAMPLES, ids=[s[0] for s in SAMPLES]
)
def test_valid_code_is_clean_and_broken_code_is_found(
    language: str, good: str, bad: str, line: int
) -> None:
    assert check_syntax(good, language) == []
    found = check_syntax(bad, language)
    assert found, f"no problem found in broken {language}"
    assert found[0].line == line


def test_python_compile_catches_what_tree_sitter_accepts() -> None:
    text = "def f():\nreturn 1\n"
    found = find_problems("m.py", text)
    assert [(f.line, f.message.split(" after")[0]) for f in found] == [
        (2, "expected an indented block")
    ]


def test_python_that_compiles_is_clean() -> None:
    assert find_problems("m.py", "match x:\n    case 1:\n        pass\n") == []


def test_columns_count_characters_not_bytes() -> None:
    text = 'const s = "ééé"; const t = [1, 2;\n'
    found = find_problems("a.js", text)
    assert found[0].column == text.index(";", 20) + 1


def test_python_columns_count_characters() -> None:
    text = 's = "ééé"; x = (1 +\n'
    found = find_problems("a.py", text)
    assert found[0].column == text.index("(") + 1


def test_language_comes_from_shebang_when_there_is_no_extension() -> None:
    assert find_problems("tool", "#!/usr/bin/env python3\ndef f(:\n    pass\n")


def test_unknown_file_type_has_no_findings() -> None:
    assert find_problems("notes.txt", "def f(:\n") == []


def test_regions_run_from_statement_to_file() -> None:
    text = "x = 1\n\n\nclass A:\n    def m(self):\n        y = (1\n        return y\n"
    regions = enclosing_regions(text, "python", 6)
    assert regions[-1].kind == "file"
    assert any(r.is_definition and r.start == 5 for r in regions)
    spans = [(r.start, r.end) for r in regions]
    assert spans == sorted(spans, key=lambda s: s[1] - s[0])
