"""The git side of staged mode: what the index will commit, read without quoting."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import git

from hybridcode.context.git import (
    EMPTY_TREE,
    diff_base,
    hooks_dir,
    read_blobs,
    staged_files,
)


def commit_file(repo: Path, name: str, data: bytes) -> None:
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    git(repo, "add", name)
    git(repo, "commit", "-qm", f"add {name}")


def test_no_commits_diffs_against_the_empty_tree(repo: Path) -> None:
    (repo / "a.py").write_bytes(b"def f(:\n    pass\n")
    git(repo, "add", "a.py")

    assert diff_base(repo) == EMPTY_TREE
    [entry] = staged_files(repo)
    assert (entry.path, entry.status, entry.mode) == ("a.py", "A", "100644")
    assert read_blobs(repo, [entry.blob]) == {entry.blob: b"def f(:\n    pass\n"}


def test_detached_head_diffs_against_head(repo: Path) -> None:
    commit_file(repo, "a.py", b"x = 1\n")
    git(repo, "checkout", "-q", "--detach", "HEAD")
    (repo / "b.py").write_bytes(b"y = (\n")
    git(repo, "add", "b.py")

    assert diff_base(repo) == git(repo, "rev-parse", "HEAD").strip()
    assert [e.path for e in staged_files(repo)] == ["b.py"]


def test_unicode_and_space_paths_are_not_quoted(repo: Path) -> None:
    commit_file(repo, "a.py", b"x = 1\n")
    name = "src/se\u00f1al de prueba.py"
    (repo / "src").mkdir()
    (repo / name).write_bytes(b"def f(:\n")
    git(repo, "add", "-A")

    assert [e.path for e in staged_files(repo)] == [name]


def test_deletions_submodules_and_symlinks_are_skipped(repo: Path) -> None:
    commit_file(repo, "gone.py", b"x = 1\n")
    git(repo, "rm", "-q", "gone.py")
    sha = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{sha},sub")
    os.symlink("target.py", repo / "link.py")
    (repo / "real.py").write_bytes(b"z = 1\n")
    git(repo, "add", "link.py", "real.py")

    assert [e.path for e in staged_files(repo)] == ["real.py"]


def test_rename_reports_the_new_path(repo: Path) -> None:
    commit_file(repo, "old name.py", b"value = 1\n" * 20)
    git(repo, "mv", "old name.py", "new name.py")

    [entry] = staged_files(repo)
    assert (entry.status, entry.old_path, entry.path) == (
        "R",
        "old name.py",
        "new name.py",
    )


def test_alternate_index_file_is_honoured(repo: Path) -> None:
    commit_file(repo, "a.py", b"x = 1\n")
    (repo / "a.py").write_bytes(b"x = (\n")
    other = repo / ".git" / "other-index"
    env = {**os.environ, "GIT_INDEX_FILE": str(other)}
    subprocess.run(["git", "read-tree", "HEAD"], cwd=repo, env=env, check=True)
    subprocess.run(["git", "add", "a.py"], cwd=repo, env=env, check=True)

    assert staged_files(repo) == []
    [entry] = staged_files(repo, env)
    assert read_blobs(repo, [entry.blob], env)[entry.blob] == b"x = (\n"


def test_blob_reading_keeps_every_byte(repo: Path) -> None:
    data = b"# Men\xfa del d\xeda\r\nprice = 3\n\x00tail"
    (repo / "m.py").write_bytes(data)
    (repo / "n.py").write_bytes(b"")
    git(repo, "add", "m.py", "n.py")
    ids = {e.path: e.blob for e in staged_files(repo)}

    blobs = read_blobs(repo, [ids["m.py"], ids["n.py"]])
    assert blobs[ids["m.py"]] == data
    assert blobs[ids["n.py"]] == b""


def test_hooks_dir_honours_core_hooks_path_and_worktrees(repo: Path) -> None:
    commit_file(repo, "a.py", b"x = 1\n")
    assert hooks_dir(repo) == (repo / ".git" / "hooks").resolve()

    worktree = repo.parent / "wt"
    git(repo, "worktree", "add", "-q", str(worktree))
    assert hooks_dir(worktree) == (repo / ".git" / "hooks").resolve()

    git(repo, "config", "core.hooksPath", ".githooks")
    assert hooks_dir(repo) == (repo / ".githooks").resolve()
