"""The escalate parts of C18 and C19, and --diff: git states that must not break it."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import git


def prompt_of(stdout: str) -> str:
    return json.loads(stdout)["messages"][0]["content"]


def test_c18_dry_run_in_a_repo_with_no_commits(run_hc, repo: Path) -> None:
    (repo / "a.py").write_text("def f(:\n    pass\n")
    git(repo, "add", "a.py")
    result = run_hc("escalate", "--dry-run", "x", cwd=repo, input="")
    assert result.returncode == 0, result.stderr
    assert "no commits yet" in result.stderr
    assert 'head="main (no commits yet)"' in prompt_of(result.stdout)
    for bad in ("Reference at", "did not resolve", "Traceback"):
        assert bad not in result.stderr


def test_c18_diff_with_no_commits_shows_the_staged_file(run_hc, repo: Path) -> None:
    (repo / "a.py").write_text("def f(:\n    pass\n")
    git(repo, "add", "a.py")
    result = run_hc("escalate", "--dry-run", "--diff", "x", cwd=repo, input="")
    assert result.returncode == 0, result.stderr
    assert '<diff kind="staged">' in prompt_of(result.stdout)
    assert "+def f(:" in prompt_of(result.stdout)


def test_c19_dry_run_on_a_detached_head(run_hc, repo: Path) -> None:
    (repo / "a.py").write_text("x = 1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "i")
    git(repo, "checkout", "-q", "--detach", "HEAD")
    (repo / "b.py").write_text("def f(:\n    pass\n")
    git(repo, "add", "b.py")
    sha = git(repo, "rev-parse", "HEAD").strip()
    result = run_hc("escalate", "--dry-run", "x", cwd=repo, input="")
    assert result.returncode == 0, result.stderr
    assert f"detached at {sha[:7]}" in result.stderr
    assert "active branch" not in result.stderr and "Traceback" not in result.stderr


def test_diff_sends_staged_and_unstaged_but_never_denied_files(
    run_hc, repo: Path
) -> None:
    (repo / "app.py").write_text("def run():\n    return 1\n")
    (repo / "config").mkdir()
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "i")
    (repo / "app.py").write_text("def run():\n    return 2  # staged\n")
    git(repo, "add", "app.py")
    with (repo / "app.py").open("a") as handle:
        handle.write("# unstaged note\n")
    (repo / "config" / ".env.production").write_text("TOKEN=DIFFCANARY\n")
    git(repo, "add", "config/.env.production")
    result = run_hc(
        "escalate", "--dry-run", "--diff", "what changed?", cwd=repo, input=""
    )
    assert result.returncode == 0, result.stderr
    prompt = prompt_of(result.stdout)
    assert "+    return 2  # staged" in prompt
    assert "+# unstaged note" in prompt
    assert "DIFFCANARY" not in result.stdout
    assert "config/.env.production (always denied" in result.stderr
    assert "diff      staged" in result.stderr and "diff      unstaged" in result.stderr


def test_outside_a_repo_is_a_usage_error(run_hc, tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    result = run_hc("escalate", "--dry-run", "x", cwd=folder, input="")
    assert result.returncode == 2
    assert "not inside a git repository" in result.stderr


def test_empty_question_is_a_usage_error(run_hc, repo: Path) -> None:
    result = run_hc("escalate", "--dry-run", "  ", cwd=repo, input="")
    assert result.returncode == 2
    assert "the question is empty" in result.stderr
