"""`hc complete`: positions, unsaved buffers, JSON, prefix-only fallback, context."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import git, recorded_prompts

FIM = {"prefix": 1, "suffix": 2, "middle": 3}
SOURCE = "def f(x):\n    return x\n"


@pytest.mark.parametrize(
    ("position", "message"),
    [
        ("3:2", "valid columns: 1-1"),
        ("4:1", "valid lines: 1-3"),
        ("1:0", "valid columns: 1-10"),
        ("1:11", "valid columns: 1-10"),
        ("0:1", "valid lines: 1-3"),
    ],
    ids=[
        "past-empty-last-line",
        "past-end-of-file",
        "column-zero",
        "past-end-of-line",
        "line-zero",
    ],
)
def test_position_outside_the_file_is_bad_input_naming_the_range(
    run_hc, fake_engine, tmp_path: Path, position: str, message: str
) -> None:
    (tmp_path / "f.py").write_text(SOURCE)

    result = run_hc("complete", f"f.py:{position}", cwd=tmp_path, env=fake_engine("x"))

    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_columns_count_characters_not_bytes(
    run_hc, fake_engine, tmp_path: Path
) -> None:
    (tmp_path / "u.py").write_text("s = 'héllo😀'\n")
    env = fake_engine("x", fim=FIM)

    end = run_hc("complete", "u.py:1:13", cwd=tmp_path, env=env)
    past = run_hc("complete", "u.py:1:14", cwd=tmp_path, env=env)

    assert end.returncode == 0, end.stderr
    assert past.returncode == 2
    assert "valid columns: 1-13" in past.stderr


@pytest.mark.parametrize(
    "target", ["f.py", "f.py:1", "f.py:a:b"], ids=["no-position", "no-col", "words"]
)
def test_malformed_target_is_bad_input(run_hc, tmp_path: Path, target: str) -> None:
    result = run_hc("complete", target, cwd=tmp_path)

    assert result.returncode == 2
    assert "FILE:LINE:COL" in result.stderr or "numbers" in result.stderr


def test_missing_file_is_bad_input(run_hc, fake_engine, tmp_path: Path) -> None:
    result = run_hc("complete", "nope.py:1:1", cwd=tmp_path, env=fake_engine("x"))

    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_stdin_buffer_is_completed_instead_of_the_file_on_disk(
    run_hc, fake_engine, tmp_path: Path
) -> None:
    (tmp_path / "f.py").write_text(SOURCE)
    unsaved = "def g(y):\n    total = \n"

    result = run_hc(
        "complete",
        "f.py:2:13",
        "--stdin",
        cwd=tmp_path,
        env=fake_engine("y * 2"),
        input=unsaved,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "y * 2"
    (prompt,) = recorded_prompts(tmp_path)
    assert prompt.endswith("def g(y):\n    total = ")
    assert "def f(x)" not in prompt


def test_stdin_names_a_file_that_need_not_exist(
    run_hc, fake_engine, tmp_path: Path
) -> None:
    result = run_hc(
        "complete",
        "new.go:1:9",
        "--stdin",
        cwd=tmp_path,
        env=fake_engine("main\n"),
        input="package \n",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "main"


def test_json_gives_range_model_tokens_and_timings(
    run_hc, fake_engine, tmp_path: Path
) -> None:
    (tmp_path / "f.py").write_text(SOURCE)

    result = run_hc(
        "complete",
        "f.py:2:13",
        "--json",
        cwd=tmp_path,
        env=fake_engine(" + 1", fim=FIM),
    )

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["text"] == " + 1"
    assert data["range"] == {
        "start": {"line": 2, "column": 13},
        "end": {"line": 2, "column": 13},
    }
    assert data["model"] == "fake"
    assert data["mode"] == "fim"
    assert data["prompt_tokens"] > 0 and data["completion_tokens"] > 0
    assert set(data["timings_ms"]) >= {"prompt", "generate", "total"}


def test_model_without_fim_tokens_falls_back_to_prefix_and_says_so_once(
    run_hc, fake_engine, tmp_path: Path
) -> None:
    (tmp_path / "f.py").write_text(SOURCE + "\n\nprint(f(2))\n")

    result = run_hc("complete", "f.py:2:13", cwd=tmp_path, env=fake_engine(" + 1"))

    assert result.returncode == 0
    assert result.stdout == " + 1"
    assert result.stderr.count("no FIM tokens") == 1
    (prompt,) = recorded_prompts(tmp_path)
    assert prompt == "def f(x):\n    return x"  # the prefix only


def test_nothing_worth_inserting_is_empty_output_and_success(
    run_hc, fake_engine, tmp_path: Path
) -> None:
    (tmp_path / "f.py").write_text(SOURCE)

    result = run_hc(
        "complete", "f.py:2:13", cwd=tmp_path, env=fake_engine("\n\n   ", fim=FIM)
    )

    assert result.returncode == 0
    assert result.stdout == ""


def test_reply_cut_at_the_deadline_keeps_whole_lines(
    run_hc, fake_engine, tmp_path: Path
) -> None:
    (tmp_path / "f.py").write_text("def f(x):\n    \n")
    reply = {"text": "y = x\n    z = y\n    return fo", "finish_reason": "deadline"}

    result = run_hc(
        "complete", "f.py:2:5", cwd=tmp_path, env=fake_engine(reply, fim=FIM)
    )

    assert result.stdout == "y = x\n    z = y"


def test_signatures_from_other_repo_files_are_given_as_context(
    run_hc, fake_engine, repo: Path, tmp_path: Path
) -> None:
    (repo / "shapes").mkdir()
    (repo / "shapes" / "geom.py").write_text(
        "def area(width: float, height: float) -> float:\n"
        "    return width * height\n\n\nclass Box:\n"
        "    def volume(self, depth: float) -> float:\n        return 0.0\n"
    )
    (repo / "app.py").write_text(
        "from shapes.geom import area, Box\n\n\ndef report(w, h):\n"
        "    a = area(w, h)\n    \n"
    )
    git(repo, "add", ".")

    result = run_hc(
        "complete", "app.py:6:5", "--json", cwd=repo, env=fake_engine("return a")
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["context"] == [
        "shapes/geom.py:1",  # area, called on the line above
        "shapes/geom.py:5",  # Box, imported
    ]
    (prompt,) = recorded_prompts(tmp_path)
    assert "# shapes/geom.py:1\n# def area(width: float, height: float) -> float:" in (
        prompt
    )
    assert prompt.index("shapes/geom.py") < prompt.index("def report")
    assert "#     def volume(self, depth: float) -> float:" in prompt
    assert "#     def volume(self, depth: float) -> float:" in prompt
    assert "return width * height" not in prompt  # signatures, not bodies

    bare = run_hc(
        "complete", "app.py:6:5", "--no-context", cwd=repo, env=fake_engine("return a")
    )
    assert bare.returncode == 0
    assert "shapes/geom.py" not in recorded_prompts(tmp_path)[-1]


def test_fallback_note_names_the_registry_family_the_gguf_lacks(
    run_hc, fake_engine, tmp_path: Path
) -> None:
    (tmp_path / "f.py").write_text(SOURCE)
    env = {**fake_engine(" + 1"), "HC_MODEL": "qwen2.5-coder-1.5b-instruct"}

    result = run_hc("complete", "f.py:2:13", cwd=tmp_path, env=env)

    assert result.returncode == 0, result.stderr
    assert "models.toml says qwen2.5-coder" in result.stderr
    (prompt,) = recorded_prompts(tmp_path)
    assert "<|fim_prefix|>" not in prompt
