"""The one home of git access: the git command line, NUL-separated, never C-quoted."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hybridcode.errors import GitError

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@dataclass(frozen=True)
class HeadState:
    """Where HEAD points; every field is safe to show in a repo with no commits."""

    branch: str | None  # None when detached or unborn with no name
    sha: str | None  # None when there are no commits yet
    detached: bool

    @property
    def no_commits(self) -> bool:
        return self.sha is None

    def describe(self) -> str:
        if self.sha is None:
            return f"{self.branch or 'unborn branch'} (no commits yet)"
        if self.detached:
            return f"detached at {self.sha[:7]}"
        return f"{self.branch} at {self.sha[:7]}"


def run_git(
    args: Sequence[str],
    cwd: Path,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> bytes:
    """Run git with quoting off and return stdout; raise GitError on failure."""
    command = ["git", "-c", "core.quotepath=off", *args]
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            input=stdin,
            capture_output=True,
            env=dict(os.environ if env is None else env),
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if check and done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {detail[-1] if detail else 'no output'}")
    return done.stdout


def find_repo(cwd: Path) -> Path | None:
    """Return the work tree root containing cwd, or None outside a repo."""
    try:
        out = run_git(["rev-parse", "--show-toplevel"], cwd, check=True)
    except GitError:
        return None
    return Path(os.fsdecode(out.rstrip(b"\n")))


def list_files(root: Path) -> list[str]:
    """Tracked files plus untracked files that are not ignored, repo-relative."""
    out = run_git(
        ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], root
    )
    names = [os.fsdecode(n) for n in out.split(b"\0") if n]
    return sorted(set(names))


def submodule_paths(root: Path) -> set[str]:
    """Paths of submodule pointers (gitlinks) in the index."""
    out = run_git(["ls-files", "-z", "--stage"], root)
    found = set()
    for entry in out.split(b"\0"):
        if entry.startswith(b"160000 "):
            found.add(os.fsdecode(entry.split(b"\t", 1)[1]))
    return found


def is_ignored(root: Path, relpaths: Sequence[str]) -> set[str]:
    """Return which of relpaths git ignores."""
    if not relpaths:
        return set()
    data = b"\0".join(os.fsencode(p) for p in relpaths) + b"\0"
    out = run_git(["check-ignore", "-z", "--stdin", "--no-index"], root, data,
                  check=False)
    return {os.fsdecode(n) for n in out.split(b"\0") if n}


def head_state(root: Path) -> HeadState:
    """Describe HEAD without failing on unborn branches or a detached HEAD."""
    sha_out = run_git(["rev-parse", "--verify", "-q", "HEAD^{commit}"], root,
                      check=False)
    sha = sha_out.decode().strip() or None
    ref = run_git(["symbolic-ref", "-q", "--short", "HEAD"], root, check=False)
    branch = ref.decode("utf-8", "replace").strip() or None
    return HeadState(branch=branch, sha=sha, detached=branch is None)


def blob_ids(root: Path) -> dict[str, str]:
    """Map each tracked path to its index blob id."""
    out = run_git(["ls-files", "-z", "--stage"], root)
    ids: dict[str, str] = {}
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta, name = entry.split(b"\t", 1)
        ids[os.fsdecode(name)] = meta.split(b" ")[1].decode()
    return ids
