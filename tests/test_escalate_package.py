"""What goes into the package: notes, the ranked repo map, chunks, budgets."""

from __future__ import annotations

import json
import math
from pathlib import Path

from conftest import git

from hybridcode.escalate.packaging import (
    EscalateRequest,
    FileSpec,
    build_package,
    estimate_tokens,
)


def request(root: Path, question: str, **changes: object) -> EscalateRequest:
    values: dict[str, object] = {
        "cwd": root,
        "question": question,
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "budget_tokens": 30_000,
    }
    values.update(changes)
    return EscalateRequest(**values)  # type: ignore[arg-type]


def prompt(body: bytes) -> str:
    return json.loads(body)["messages"][0]["content"]


def test_project_notes_and_readme_head_are_included(repo: Path) -> None:
    (repo / "AGENTS.md").write_text("Always run the tests with pytest -q.\n")
    (repo / "README.md").write_text("".join(f"readme line {n}\n" for n in range(100)))
    package = build_package(request(repo, "how do we run tests?"))
    text = prompt(package.body)
    assert '<notes path="AGENTS.md" lines="1-1">' in text
    assert '<notes path="README.md" lines="1-60">' in text
    assert "readme line 59" in text and "readme line 60" not in text


def test_repo_map_ranks_definitions_the_retrieved_code_uses(repo: Path) -> None:
    (repo / "billing.py").write_text(
        "from money import round_cents, to_cents\n\n\n"
        "def invoice_total(lines):\n"
        "    return round_cents(sum(to_cents(x) for x in lines)) + round_cents(0)\n"
    )
    (repo / "money.py").write_text(
        "def to_cents(x):\n    return int(x * 100)\n\n\n"
        "def round_cents(c):\n    return c\n\n\n"
        "def unrelated_helper():\n    return None\n"
    )
    git(repo, "add", ".")
    package = build_package(request(repo, "why is the invoice total wrong?"))
    text = prompt(package.body)
    repo_map = text.split("<repo_map>\n", 1)[1].split("\n</repo_map>", 1)[0]
    lines = repo_map.splitlines()
    assert lines[0] == "money.py:5: def round_cents(c):"
    assert lines.index("money.py:1: def to_cents(x):") < lines.index(
        "money.py:9: def unrelated_helper():"
    )
    assert '<code path="billing.py" lines="1-5">' in text


def test_budget_bounds_the_context_and_cuts_are_reported(repo: Path) -> None:
    (repo / "big.py").write_text(
        "".join(f"value_{n} = {n}  # padding text\n" for n in range(3000))
    )
    package = build_package(
        request(repo, "what is value_10?", budget_tokens=2000, files=())
    )
    assert package.input_tokens <= 2000 + 50
    named = build_package(
        request(
            repo, "what is value_10?", budget_tokens=2000, files=(FileSpec("big.py"),)
        )
    )
    piece = next(p for p in named.pieces if p.kind == "file")
    assert piece.start == 1 and piece.end < 3000
    assert piece.note.startswith("cut to budget")
    assert named.input_tokens <= 2000 + 50


def test_token_estimate_is_local_and_conservative() -> None:
    text = "def f(x):\n    return x\n" * 10
    assert estimate_tokens(text) == math.ceil(len(text) / 3)


def test_question_is_redacted_too(repo: Path) -> None:
    package = build_package(
        request(repo, "why does sk-ant-api03-QUESTIONCANARY0000000000000000 fail?")
    )
    assert b"QUESTIONCANARY" not in package.body
    assert [r.where for r in package.redactions] == ["question"]


def test_named_files_resolve_from_cwd_or_from_the_repo_root(repo: Path) -> None:
    (repo / "src").mkdir()
    (repo / "src" / "a.py").write_text("A = 1\n")
    (repo / "src" / "b.py").write_text("B = 2\n")
    package = build_package(
        request(repo / "src", "x", files=(FileSpec("a.py"), FileSpec("src/b.py")))
    )
    assert [p.path for p in package.pieces if p.kind == "file"] == [
        "src/a.py",
        "src/b.py",
    ]
