"""`hc hook install|uninstall|status`: lands where git looks, chains, refuses."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from conftest import git

FOREIGN = b'#!/bin/sh\necho foreign-ran >> "$(git rev-parse --git-dir)/foreign.log"\n'


def hook_path(repo: Path) -> Path:
    return repo / ".git" / "hooks" / "pre-commit"


def write_hook(path: Path, data: bytes, mode: int = 0o755) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)


def test_install_writes_an_executable_hook_running_this_interpreter(repo, run_hc):
    done = run_hc("hook", "install", cwd=repo)

    assert done.returncode == 0, done.stderr
    hook = hook_path(repo)
    assert hook.stat().st_mode & stat.S_IXUSR
    text = hook.read_text()
    assert text.startswith("#!/bin/sh\n")
    assert f"HC_PYTHON={sys.executable}\n" in text
    assert "-m hybridcode.cli.hook_fast" in text
    status = run_hc("hook", "status", cwd=repo)
    assert status.returncode == 0
    assert f"installed: {hook.resolve()}" in status.stdout


def test_status_exits_1_when_not_installed(repo, run_hc):
    done = run_hc("hook", "status", cwd=repo)

    assert done.returncode == 1
    assert done.stdout.startswith("not installed: ")


def test_install_twice_refreshes_without_chaining_itself(repo, run_hc):
    run_hc("hook", "install", cwd=repo)
    first = hook_path(repo).read_bytes()
    done = run_hc("hook", "install", cwd=repo)

    assert done.returncode == 0
    assert "updated" in done.stderr
    assert hook_path(repo).read_bytes() == first
    assert not (repo / ".git" / "hooks" / "pre-commit.hc-chained").exists()


def test_foreign_hook_is_chained_and_uninstall_puts_it_back(repo, run_hc):
    write_hook(hook_path(repo), FOREIGN, 0o750)
    done = run_hc("hook", "install", cwd=repo)

    assert done.returncode == 0, done.stderr
    assert "chained" in done.stderr
    chained = repo / ".git" / "hooks" / "pre-commit.hc-chained"
    assert chained.read_bytes() == FOREIGN
    assert "chained: " in run_hc("hook", "status", cwd=repo).stdout

    done = run_hc("hook", "uninstall", cwd=repo)
    assert done.returncode == 0
    assert hook_path(repo).read_bytes() == FOREIGN
    assert stat.S_IMODE(hook_path(repo).stat().st_mode) == 0o750
    assert not chained.exists()


def test_chained_hook_failure_stops_the_commit_before_hc(repo, run_hc):
    write_hook(hook_path(repo), b"#!/bin/sh\necho no >&2\nexit 7\n")
    run_hc("hook", "install", cwd=repo)
    (repo / "a.py").write_bytes(b"x = 1\n")
    git(repo, "add", "a.py")

    done = subprocess.run(
        ["git", "commit", "-qm", "x"], cwd=repo, capture_output=True, check=False
    )

    assert done.returncode != 0
    assert b"no\n" in done.stderr
    assert (
        subprocess.run(
            ["git", "rev-parse", "-q", "--verify", "HEAD"],
            cwd=repo,
            capture_output=True,
        ).returncode
        != 0
    )


def test_uninstall_leaves_a_foreign_hook_alone(repo, run_hc):
    write_hook(hook_path(repo), FOREIGN)
    done = run_hc("hook", "uninstall", cwd=repo)

    assert done.returncode == 2
    assert "not written by hc" in done.stderr
    assert hook_path(repo).read_bytes() == FOREIGN


def test_uninstall_without_hook_is_a_no_op(repo, run_hc):
    done = run_hc("hook", "uninstall", cwd=repo)

    assert done.returncode == 0
    assert not os.path.lexists(hook_path(repo))


def test_install_refuses_when_the_chain_slot_is_taken(repo, run_hc):
    write_hook(hook_path(repo), FOREIGN)
    taken = repo / ".git" / "hooks" / "pre-commit.hc-chained"
    write_hook(taken, b"#!/bin/sh\nexit 0\n")
    done = run_hc("hook", "install", cwd=repo)

    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert hook_path(repo).read_bytes() == FOREIGN
    assert taken.read_bytes() == b"#!/bin/sh\nexit 0\n"


def test_install_refuses_a_broken_symlink_hook(repo, run_hc):
    hook_path(repo).parent.mkdir(parents=True, exist_ok=True)
    os.symlink("nowhere", hook_path(repo))
    done = run_hc("hook", "install", cwd=repo)

    assert done.returncode == 2
    assert "broken symlink" in done.stderr
    assert os.readlink(hook_path(repo)) == "nowhere"


def test_install_follows_core_hooks_path(repo, run_hc):
    git(repo, "config", "core.hooksPath", "ci/hooks")
    done = run_hc("hook", "install", cwd=repo)

    assert done.returncode == 0, done.stderr
    assert "hybridcode" in (repo / "ci" / "hooks" / "pre-commit").read_text()
    assert not hook_path(repo).exists()


def test_install_from_a_linked_worktree_uses_the_shared_hooks(repo, run_hc):
    (repo / "a.py").write_bytes(b"x = 1\n")
    git(repo, "add", "a.py")
    git(repo, "commit", "-qm", "i")
    worktree = repo.parent / "wt"
    git(repo, "worktree", "add", "-q", str(worktree))
    done = run_hc("hook", "install", cwd=worktree)

    assert done.returncode == 0, done.stderr
    assert "hybridcode" in hook_path(repo).read_text()


def test_outside_a_repo_is_a_usage_error(tmp_path, run_hc):
    outside = tmp_path / "plain"
    outside.mkdir()
    done = run_hc(
        "hook", "install", cwd=outside, env={"GIT_CEILING_DIRECTORIES": str(tmp_path)}
    )

    assert done.returncode == 2
    assert "not inside a git work tree" in done.stderr


def test_hooks_folder_that_cannot_be_made_is_a_clean_usage_error(repo, run_hc):
    (repo / "not-a-folder").write_text("x")
    git(repo, "config", "core.hooksPath", "not-a-folder/hooks")

    done = run_hc("hook", "install", cwd=repo)

    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("hc: error: cannot change ")
    assert "Traceback" not in done.stderr


def test_interpreter_path_with_spaces_and_quotes_round_trips(repo):
    from hybridcode.hooks import hook_status, install_hook

    odd = str(repo.parent / "my env's" / "bin" / "python")
    install_hook(repo, odd)

    assert hook_status(repo).python == odd
    done = subprocess.run(["sh", "-n", str(hook_path(repo))], capture_output=True)
    assert done.returncode == 0, done.stderr


def point_hook_at(repo: Path, python: str) -> None:
    text = hook_path(repo).read_text()
    start = text.index("HC_PYTHON=")
    end = text.index("\n", start)
    hook_path(repo).write_text(text[:start] + f"HC_PYTHON={python}" + text[end:])


def commit_env(hc_home: Path, path: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HC_", "GIT_"))}
    return {**env, "HC_HOME": str(hc_home), "PATH": path}


def test_hook_falls_back_to_hc_on_path_when_its_interpreter_is_gone(
    repo, run_hc, hc_home
):
    run_hc("hook", "install", cwd=repo)
    point_hook_at(repo, "/nonexistent/python")
    (repo / "a.py").write_bytes(b"x = (\n")
    git(repo, "add", "a.py")
    status = run_hc("hook", "status", cwd=repo)
    assert status.returncode == 1
    assert "interpreter missing" in status.stdout

    venv_bin = str(Path(sys.executable).parent)
    with_hc = commit_env(hc_home, f"{venv_bin}:/usr/bin:/bin")
    done = subprocess.run(
        ["git", "commit", "-qm", "x"],
        cwd=repo,
        env=with_hc,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "modified a.py — review and git add" in done.stderr

    without = commit_env(hc_home, "/usr/bin:/bin")
    done = subprocess.run(
        ["git", "commit", "-qm", "x"],
        cwd=repo,
        env=without,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "/nonexistent/python is gone; run 'hc hook install' again" in done.stderr
