"""The installed pre-commit hook, run by a real `git commit` in real temp repos."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import git

BROKEN = b"def f(:\n    pass\n"
FIXED = b"def f():\n    pass\n"
REPLY = "def f():\n    pass\n"


@dataclass
class Commit:
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Snapshot:
    """Everything a hook must leave alone: index, stash, HEAD, working tree."""

    index: str
    stash: str
    head: str
    files: dict[str, bytes]


def snapshot(repo: Path) -> Snapshot:
    files = {
        str(p.relative_to(repo)): p.read_bytes()
        for p in repo.rglob("*")
        if ".git" not in p.relative_to(repo).parts and p.is_file()
    }
    head = subprocess.run(
        ["git", "rev-parse", "-q", "--verify", "HEAD"],
        cwd=repo,
        capture_output=True,
        text=True,
    ).stdout
    return Snapshot(
        git(repo, "ls-files", "-s"), git(repo, "stash", "list"), head, files
    )


@pytest.fixture
def hook_env(hc_home: Path) -> dict[str, str]:
    """The environment `git commit` runs with: no HC_* from outside, our HC_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HC_", "GIT_"))}
    env.update({"HC_HOME": str(hc_home), "NO_COLOR": "1"})
    return env


@pytest.fixture
def commit(hook_env: dict[str, str]) -> Callable[..., Commit]:
    """Run `git commit ARGS` with the given extra env (a fake engine, usually)."""

    def run(
        repo: Path,
        *args: str,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Commit:
        done = subprocess.run(
            ["git", "commit", *args],
            cwd=cwd or repo,
            env={**hook_env, **(env or {})},
            capture_output=True,
            timeout=120,
            check=False,
        )
        return Commit(
            done.returncode,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
        )

    return run


@pytest.fixture
def hooked(repo: Path, run_hc: Callable[..., object]) -> Path:
    """The `repo` fixture with hc's pre-commit hook installed."""
    done = run_hc("hook", "install", cwd=repo)
    assert done.returncode == 0, done.stderr  # type: ignore[attr-defined]
    return repo


def add_commit(repo: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(data)
    git(repo, "add", *files)
    git(repo, "commit", "-qm", "setup", "--no-verify")


def stage(repo: Path, name: str, data: bytes) -> None:
    (repo / name).parent.mkdir(parents=True, exist_ok=True)
    (repo / name).write_bytes(data)
    git(repo, "add", "--", name)


def staged(repo: Path, name: str) -> bytes:
    return subprocess.run(
        ["git", "show", f":{name}"], cwd=repo, capture_output=True, check=True
    ).stdout


def no_traceback(done: Commit) -> None:
    assert "Traceback" not in done.stderr + done.stdout


def test_c29_broken_file_is_fixed_in_work_tree_and_commit_stops(
    hooked, commit, fake_engine
):
    add_commit(hooked, {"good.py": FIXED})
    stage(hooked, "bad.py", BROKEN)
    head = git(hooked, "rev-parse", "HEAD")

    done = commit(hooked, "-m", "x", env=fake_engine(REPLY))

    assert done.returncode != 0
    assert "modified bad.py — review and git add" in done.stderr
    no_traceback(done)
    assert (hooked / "bad.py").read_bytes() == FIXED
    assert staged(hooked, "bad.py") == BROKEN
    assert git(hooked, "rev-parse", "HEAD") == head

    git(hooked, "add", "bad.py")
    again = commit(hooked, "-m", "x", env=fake_engine(REPLY))
    assert again.returncode == 0, again.stderr
    assert git(hooked, "show", "HEAD:bad.py").encode() == FIXED


def test_check_flag_reports_without_writing(repo, run_hc, fake_engine):
    add_commit(repo, {"good.py": FIXED})
    stage(repo, "bad.py", BROKEN)
    before = snapshot(repo)

    done = run_hc("fix", "--staged", "--check", cwd=repo, env=fake_engine(REPLY))

    assert done.returncode == 1
    assert "+def f():" in done.stdout
    assert snapshot(repo) == before


def test_c18_repo_with_no_commits(hooked, commit, fake_engine):
    stage(hooked, "a.py", BROKEN)

    done = commit(hooked, "-m", "first", env=fake_engine(REPLY))

    assert done.returncode != 0
    assert "modified a.py — review and git add" in done.stderr
    assert "Reference at" not in done.stderr and "did not resolve" not in done.stderr
    assert (hooked / "a.py").read_bytes() == FIXED
    assert staged(hooked, "a.py") == BROKEN


def test_c19_detached_head(hooked, commit, fake_engine):
    add_commit(hooked, {"a.py": b"x = 1\n"})
    git(hooked, "checkout", "-q", "--detach", "HEAD")
    stage(hooked, "b.py", BROKEN)

    done = commit(hooked, "-m", "x", env=fake_engine(REPLY))

    assert done.returncode != 0
    assert "modified b.py — review and git add" in done.stderr
    assert (hooked / "b.py").read_bytes() == FIXED


def test_c20_unicode_path_with_space_printed_literally(hooked, commit, fake_engine):
    add_commit(hooked, {"a.py": b"x = 1\n"})
    name = "src/se\u00f1al de prueba.py"
    (hooked / "src").mkdir()
    (hooked / name).write_bytes(BROKEN)
    git(hooked, "add", "-A")

    done = commit(hooked, "-m", "x", env=fake_engine(REPLY))

    assert done.returncode != 0
    assert f"modified {name} — review and git add" in done.stderr
    assert "\\303" not in done.stderr + done.stdout
    assert f'"{name}"' not in done.stderr + done.stdout
    assert (hooked / name).read_bytes() == FIXED
    porcelain = git(hooked, "status", "--porcelain", "-z").split("\0")
    assert [e for e in porcelain if e] == [f"AM {name}"]


PARTIAL_HEAD = b"def a():\n    return 1\n\n\ndef b():\n    return 2\n"
PARTIAL_INDEX = b"def a():\n    return (1\n\n\ndef b():\n    return 2\n"
PARTIAL_TREE = b"def a():\n    return (1\n\n\ndef b():\n    return 22  # WIP\n"
PARTIAL_REPLY = "def a():\n    return (1)\n"


def partially_staged(repo: Path) -> Snapshot:
    add_commit(repo, {"m.py": PARTIAL_HEAD})
    blob = git(repo, "hash-object", "-w", "--stdin", input=PARTIAL_INDEX).strip()
    git(repo, "update-index", "--cacheinfo", f"100644,{blob},m.py")
    (repo / "m.py").write_bytes(PARTIAL_TREE)
    git(repo, "stash", "list")
    return snapshot(repo)


def test_c23_partial_staging_prints_patch_and_keeps_unstaged_work(
    hooked, commit, fake_engine
):
    before = partially_staged(hooked)

    done = commit(hooked, "-m", "try", env=fake_engine(PARTIAL_REPLY))

    assert done.returncode != 0
    no_traceback(done)
    assert "m.py: partially staged" in done.stderr
    assert "+    return (1)" in done.stderr  # git sends a hook's stdout to stderr
    assert snapshot(hooked) == before
    assert b"# WIP" not in staged(hooked, "m.py")


def test_c25_non_utf8_staged_file_is_skipped_with_exit_2(hooked, commit, fake_engine):
    add_commit(hooked, {"menu.py": b"# Men\xfa del d\xeda\nprice = 3\n"})
    stage(hooked, "menu.py", b"# Men\xfa del d\xeda   \nprice = (3\n")
    with (hooked / "menu.py").open("ab") as handle:
        handle.write(b"# caf\xe9\n")
    before = snapshot(hooked)

    done = commit(hooked, "-m", "try", env=fake_engine("price = (3)\n"))

    assert done.returncode != 0
    no_traceback(done)
    assert "menu.py" in done.stderr and "not valid UTF-8" in done.stderr
    assert snapshot(hooked) == before
    data = (hooked / "menu.py").read_bytes()
    assert b"\xfa" in data and b"\xed" in data and data.endswith(b"# caf\xe9\n")
    assert b"\xef\xbf\xbd" not in data
    assert staged(hooked, "menu.py").startswith(b"# Men\xfa del d\xeda   \n")


def test_clean_commit_passes_without_opening_the_engine(hooked, commit):
    stage(hooked, "a.py", b"x = 1\n")
    stage(hooked, "web/app.js", b"export const x = () => 1;\n")
    stage(hooked, "README.md", b"# hi (\n")
    stage(hooked, "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00")

    # The fake backend without a script fails as soon as anything opens it.
    done = commit(
        hooked,
        "-m",
        "clean",
        env={"HC_BACKEND": "fake", "PYTHONPROFILEIMPORTTIME": "1"},
    )

    assert done.returncode == 0, done.stderr
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "tree_sitter" in imported  # the trace is real: parsing did happen
    heavy = {
        "llama_cpp",
        "hybridcode.engine.llama",
        "hybridcode.engine.openai",
        "hybridcode.engine.fake",
        "anthropic",
        "httpx",
        "bm25s",
        "git",
        "detect_secrets",
        "huggingface_hub",
        "typer",  # the hook's fast path answers before the CLI framework loads
        "rich",
    }
    assert imported.isdisjoint(heavy), imported & heavy


def test_amended_commit_is_checked(hooked, commit, fake_engine):
    add_commit(hooked, {"a.py": b"x = 1\n"})
    stage(hooked, "a.py", BROKEN)

    done = commit(hooked, "--amend", "-m", "amended", env=fake_engine(REPLY))

    assert done.returncode != 0
    assert "modified a.py — review and git add" in done.stderr
    assert git(hooked, "show", "HEAD:a.py") == "x = 1\n"


def test_merge_commit_after_conflict_is_checked(hooked, commit, fake_engine):
    add_commit(hooked, {"a.py": b"x = 1\n"})
    git(hooked, "checkout", "-qb", "side")
    add_commit(hooked, {"a.py": b"x = 2\n"})
    git(hooked, "checkout", "-q", "main")
    add_commit(hooked, {"a.py": b"x = 3\n"})
    subprocess.run(["git", "merge", "-q", "side"], cwd=hooked, capture_output=True)
    stage(hooked, "a.py", BROKEN)

    done = commit(hooked, "--no-edit", env=fake_engine(REPLY))

    assert done.returncode != 0
    assert "modified a.py — review and git add" in done.stderr
    assert (hooked / ".git" / "MERGE_HEAD").exists()
    git(hooked, "add", "a.py")
    assert commit(hooked, "--no-edit", env=fake_engine(REPLY)).returncode == 0
    assert len(git(hooked, "log", "-1", "--format=%P").split()) == 2


def test_renamed_broken_file_is_fixed_under_its_new_name(hooked, commit, fake_engine):
    body = b"".join(b"value_%d = %d\n" % (i, i) for i in range(20))
    add_commit(hooked, {"old name.py": body})
    git(hooked, "mv", "old name.py", "new name.py")
    stage(hooked, "new name.py", body + BROKEN)

    done = commit(hooked, "-m", "mv", env=fake_engine(REPLY))

    assert done.returncode != 0
    assert "modified new name.py — review and git add" in done.stderr
    assert (hooked / "new name.py").read_bytes() == body + FIXED
    assert not (hooked / "old name.py").exists()


def test_file_deleted_in_index_is_not_checked(hooked, commit, fake_engine):
    add_commit(hooked, {"a.py": b"x = 1\n", "b.py": b"y = 1\n"})
    git(hooked, "rm", "-q", "a.py")
    git(hooked, "rm", "-q", "--cached", "b.py")
    (hooked / "b.py").write_bytes(BROKEN)  # untracked now: not part of the commit

    done = commit(hooked, "-m", "rm", env={"HC_BACKEND": "fake"})

    assert done.returncode == 0, done.stderr
    assert (hooked / "b.py").read_bytes() == BROKEN


def test_hook_run_from_a_subdirectory(hooked, commit, fake_engine):
    add_commit(hooked, {"pkg/a.py": b"x = 1\n"})
    stage(hooked, "pkg/b.py", BROKEN)

    done = commit(hooked, "-m", "x", env=fake_engine(REPLY), cwd=hooked / "pkg")

    assert done.returncode != 0
    assert "modified pkg/b.py — review and git add" in done.stderr
    assert (hooked / "pkg" / "b.py").read_bytes() == FIXED


@pytest.mark.parametrize("how", [["-a"], ["--", "a.py"]], ids=["all", "path"])
def test_commit_with_temporary_index_checks_what_is_committed(
    hooked, commit, fake_engine, how
):
    add_commit(hooked, {"a.py": b"x = 1\n", "b.py": b"y = 1\n"})
    (hooked / "a.py").write_bytes(BROKEN)  # not added: only -a / PATH commits it
    index_before = git(hooked, "ls-files", "-s")

    done = commit(hooked, "-m", "x", *how, env=fake_engine(REPLY))

    assert done.returncode != 0
    assert "modified a.py — review and git add" in done.stderr
    assert (hooked / "a.py").read_bytes() == FIXED
    assert git(hooked, "ls-files", "-s") == index_before
    assert not list((hooked / ".git").glob("*.lock"))


# Needs more than a one-token edit, so the hook has to ask the (slow) model.
MODEL_INDEX = b'def a():\n    print "a" "b" c\n\n\ndef b():\n    return 2\n'
MODEL_TREE = b'def a():\n    print "a" "b" c\n\n\ndef b():\n    return 22  # WIP\n'
MODEL_REPLY = 'def a():\n    print("a", "b", c)\n'


def partially_staged_for_model(repo: Path) -> Snapshot:
    add_commit(repo, {"m.py": PARTIAL_HEAD})
    blob = git(repo, "hash-object", "-w", "--stdin", input=MODEL_INDEX).strip()
    git(repo, "update-index", "--cacheinfo", f"100644,{blob},m.py")
    (repo / "m.py").write_bytes(MODEL_TREE)
    return snapshot(repo)


def wait_for(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def wait_for_group_exit(pgid: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError("the hook's processes did not exit")


def wholly_staged_for_model(repo: Path) -> Snapshot:
    """Work tree equals the index: hc would write its fix if it ran to the end."""
    add_commit(repo, {"m.py": PARTIAL_HEAD})
    stage(repo, "m.py", MODEL_INDEX)
    return snapshot(repo)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["int", "term"])
@pytest.mark.parametrize(
    "prepare",
    [partially_staged_for_model, wholly_staged_for_model],
    ids=["partial", "whole"],
)
def test_c23_interrupted_during_model_call_keeps_everything(
    hooked, hook_env, fake_engine, tmp_path, sig, prepare
):
    before = prepare(hooked)
    # Had hc ignored the signal, it would write the fix once the 20 s are up.
    env = {**hook_env, **fake_engine({"text": MODEL_REPLY, "delay_s": 20})}
    proc = subprocess.Popen(
        ["git", "commit", "-m", "try"],
        cwd=hooked,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    wait_for(tmp_path / "prompts.jsonl")

    os.killpg(proc.pid, sig)  # what a terminal's Ctrl-C (or a CI timeout) does
    _, err = proc.communicate(timeout=60)
    wait_for_group_exit(proc.pid)

    assert proc.returncode != 0
    assert b"Traceback" not in err
    assert snapshot(hooked) == before
    assert staged(hooked, "m.py") == MODEL_INDEX
    assert not list((hooked / ".git").glob("*.lock"))


def test_c23_model_failure_exits_3_and_keeps_everything(hooked, commit, fake_engine):
    before = partially_staged_for_model(hooked)

    done = commit(
        hooked,
        "-m",
        "try",
        env=fake_engine({"text": MODEL_REPLY, "finish_reason": "length"}),
    )

    assert done.returncode != 0
    no_traceback(done)
    assert snapshot(hooked) == before


def test_c23_model_failure_exit_code_is_3(repo, run_hc, fake_engine):
    partially_staged_for_model(repo)

    done = run_hc(
        "fix",
        "--staged",
        cwd=repo,
        env=fake_engine({"text": MODEL_REPLY, "finish_reason": "length"}),
    )

    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr


def test_c23_slow_model_partial_staging_prints_patch(hooked, commit, fake_engine):
    before = partially_staged_for_model(hooked)

    done = commit(hooked, "-m", "try", env=fake_engine(MODEL_REPLY))

    assert done.returncode != 0
    assert '+    print("a", "b", c)' in done.stderr
    assert snapshot(hooked) == before


@pytest.mark.parametrize(
    ("files", "args", "code"),
    [
        ({"a.py": FIXED}, (), 0),
        ({"a.py": BROKEN}, (), 1),
        ({"a.py": BROKEN}, ("--check",), 1),
        ({"menu.py": b"# Men\xfa\nprice = (3\n"}, (), 2),
        ({"a.py": FIXED, "menu.py": b"# Men\xfa\nprice = (3\n"}, ("--check",), 2),
    ],
    ids=["clean", "broken", "check", "not-utf8", "not-utf8-check"],
)
def test_staged_exit_codes(repo, run_hc, fake_engine, files, args, code):
    for name, data in files.items():
        stage(repo, name, data)

    done = run_hc("fix", "--staged", *args, cwd=repo, env=fake_engine(REPLY))

    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr


def test_after_git_add_the_hook_exits_0(repo, run_hc, fake_engine):
    stage(repo, "bad.py", BROKEN)
    assert run_hc("fix", "--staged", cwd=repo, env=fake_engine(REPLY)).returncode == 1
    git(repo, "add", "bad.py")

    done = run_hc("fix", "--staged", cwd=repo, env=fake_engine(REPLY))

    assert done.returncode == 0
    assert "hc: OK: 1 staged file checked" in done.stderr


def test_staged_github_format_annotates_findings(repo, run_hc, fake_engine):
    stage(repo, "src/bad file.py", BROKEN)

    done = run_hc(
        "fix",
        "--staged",
        "--check",
        "--format",
        "github",
        cwd=repo,
        env=fake_engine(REPLY),
    )

    assert done.returncode == 1
    assert done.stdout.startswith("::error file=src/bad file.py,line=1,col=")
    assert (repo / "src" / "bad file.py").read_bytes() == BROKEN


def test_staged_json_says_which_files_were_written(repo, run_hc, fake_engine):
    stage(repo, "written.py", BROKEN)
    stage(repo, "partial.py", BROKEN)
    (repo / "partial.py").write_bytes(BROKEN + b"# WIP\n")

    done = run_hc("fix", "--staged", "--json", cwd=repo, env=fake_engine(REPLY))

    assert done.returncode == 1
    files = {f["path"]: f for f in json.loads(done.stdout)["files"]}
    assert files["written.py"]["written"] is True
    assert files["partial.py"]["written"] is False
    assert files["partial.py"]["patch"].startswith("--- a/partial.py\n")
    assert (repo / "partial.py").read_bytes() == BROKEN + b"# WIP\n"


def test_commit_in_a_linked_worktree(hooked, commit, fake_engine):
    add_commit(hooked, {"a.py": b"x = 1\n"})
    worktree = hooked.parent / "wt"
    git(hooked, "worktree", "add", "-q", "-b", "side", str(worktree))
    stage(worktree, "b.py", BROKEN)

    done = commit(worktree, "-m", "x", env=fake_engine(REPLY))

    assert done.returncode != 0
    assert "modified b.py — review and git add" in done.stderr
    assert (worktree / "b.py").read_bytes() == FIXED
    assert staged(worktree, "b.py") == BROKEN


def test_commit_with_core_hooks_path(repo, run_hc, commit, fake_engine):
    git(repo, "config", "core.hooksPath", ".githooks")
    assert run_hc("hook", "install", cwd=repo).returncode == 0
    stage(repo, "a.py", BROKEN)

    done = commit(repo, "-m", "x", env=fake_engine(REPLY))

    assert done.returncode != 0
    assert "modified a.py — review and git add" in done.stderr


def test_oversized_source_is_skipped_without_blocking_the_commit(hooked, commit):
    big = b"[" + b"1, " * 100 + b"(\n"  # broken, but over the limit set below
    stage(hooked, "data.json", big)

    done = commit(
        hooked, "-m", "x", env={"HC_BACKEND": "fake", "HC_FIX_MAX_FILE_BYTES": "100"}
    )

    assert done.returncode == 0, done.stderr
    assert "skipped data.json: 303 bytes is over the 100-byte limit" in done.stderr
    assert (hooked / "data.json").read_bytes() == big


def test_staged_run_by_hand_from_a_subdirectory_names_paths_from_there(
    repo, run_hc, fake_engine
):
    stage(repo, "pkg/b.py", BROKEN)

    done = run_hc("fix", "--staged", cwd=repo / "pkg", env=fake_engine(REPLY))

    assert done.returncode == 1
    assert "modified b.py — review and git add" in done.stderr
    assert done.stdout.startswith("--- a/pkg/b.py\n+++ b/pkg/b.py\n")
    assert (repo / "pkg" / "b.py").read_bytes() == FIXED
