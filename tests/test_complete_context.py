"""Signatures of definitions in other repo files, found with tree-sitter."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import git

from hybridcode.context.languages import parser
from hybridcode.context.signatures import definitions, gather_snippets, names_near

SOURCES = {
    "python": (
        b"import os\n\n\nclass Shape:\n    @property\n    def size(self) -> int:\n"
        b"        return 1\n\n\ndef area(w: float, h: float) -> float:\n"
        b"    return w * h\n",
        {
            "Shape": "class Shape:\n    def size(self) -> int:",
            "size": "def size(self) -> int:",
            "area": "def area(w: float, h: float) -> float:",
        },
    ),
    "javascript": (
        b"export function area(w, h) {\n  return w * h;\n}\n\n"
        b"class Box {\n  volume(depth) {\n    return depth;\n  }\n}\n",
        {
            "area": "function area(w, h)",
            "Box": "class Box\n    volume(depth)",
            "volume": "volume(depth)",
        },
    ),
    "go": (
        b"package geom\n\ntype Point struct {\n\tX, Y int\n}\n\n"
        b"func (p Point) Dist(q Point) float64 {\n\treturn 0\n}\n\n"
        b"func Area(w, h int) int {\n\treturn w * h\n}\n",
        {
            "Point": "Point struct {\n\tX, Y int\n}",
            "Dist": "func (p Point) Dist(q Point) float64",
            "Area": "func Area(w, h int) int",
        },
    ),
}


@pytest.mark.parametrize("language", list(SOURCES), ids=list(SOURCES))
def test_definitions_keep_headers_and_drop_bodies(language: str) -> None:
    source, expected = SOURCES[language]
    tree = parser(language).parse(source)

    found = {
        d.name: d.signature for d in definitions(tree.root_node, source, language, "x")
    }

    assert {name: found.get(name) for name in expected} == expected


def test_names_near_the_cursor_come_nearest_first_without_the_cursor_line() -> None:
    source = b"a = far()\n\n\n\nb = near(a)\nc = typing_now\n"
    tree = parser("python").parse(source)

    names = names_near(tree.root_node, 6)

    assert set(names[:3]) == {"a", "b", "near"}  # all one line away
    assert names[3] == "far"
    assert "typing_now" not in names


def test_go_and_javascript_files_get_signatures_from_their_own_language(
    repo: Path,
) -> None:
    (repo / "geom.go").write_bytes(SOURCES["go"][0])
    (repo / "geom.js").write_bytes(SOURCES["javascript"][0])
    (repo / "main.go").write_text(
        "package geom\n\nfunc main() {\n\tx := Area(1, 2)\n\t\n}\n"
    )
    git(repo, "add", ".")
    text = (repo / "main.go").read_text()

    snippets = gather_snippets(repo / "main.go", text, 5, "go", time.monotonic() + 5)

    assert [(s.path, s.text) for s in snippets] == [
        ("geom.go", "func Area(w, h int) int")
    ]


def test_no_repo_means_no_context(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = f()\n\n")

    assert (
        gather_snippets(
            tmp_path / "a.py", "x = f()\n\n", 2, "python", time.monotonic() + 5
        )
        == []
    )
