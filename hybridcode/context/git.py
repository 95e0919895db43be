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
    out = run_git(
        ["check-ignore", "-z", "--stdin", "--no-index"], root, data, check=False
    )
    return {os.fsdecode(n) for n in out.split(b"\0") if n}


def head_state(root: Path) -> HeadState:
    """Describe HEAD without failing on unborn branches or a detached HEAD."""
    sha_out = run_git(
        ["rev-parse", "--verify", "-q", "HEAD^{commit}"], root, check=False
    )
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


@dataclass(frozen=True)
class StagedFile:
    """A regular file as the index will commit it."""

    path: str  # repo-relative, never C-quoted
    blob: str  # index blob id
    mode: str  # "100644" or "100755"
    status: str  # A added, M modified, R renamed, C copied, T type changed
    old_path: str | None = None  # the source of a rename or copy


def diff_base(root: Path, env: Mapping[str, str] | None = None) -> str:
    """The commit the index is compared with: HEAD, or the empty tree before any."""
    out = run_git(
        ["rev-parse", "--verify", "-q", "HEAD^{commit}"], root, env=env, check=False
    )
    return out.decode().strip() or EMPTY_TREE


def staged_files(root: Path, env: Mapping[str, str] | None = None) -> list[StagedFile]:
    """Regular files added or changed in the index (GIT_INDEX_FILE honoured).

    Deletions, submodule pointers (160000) and symlinks (120000) are left out:
    none of them has source text to check.
    """
    args = [
        "diff",
        "--cached",
        "--raw",
        "-z",
        "--no-abbrev",
        "--find-renames",
        "--no-ext-diff",
        "--no-textconv",
        diff_base(root, env),
        "--",
    ]
    fields = run_git(args, root, env=env).split(b"\0")
    found: list[StagedFile] = []
    at = 0
    while at < len(fields) - 1:
        meta = fields[at].decode("ascii").lstrip(":").split(" ")
        new_mode, new_blob, status = meta[1], meta[3], meta[4][:1]
        two_paths = status in ("R", "C")
        names = [os.fsdecode(n) for n in fields[at + 1 : at + (3 if two_paths else 2)]]
        at += 3 if two_paths else 2
        if status in ("D", "U") or new_mode not in ("100644", "100755"):
            continue
        old = names[0] if two_paths else None
        found.append(StagedFile(names[-1], new_blob, new_mode, status, old))
    return found


def read_blobs(
    root: Path, blob_ids: Sequence[str], env: Mapping[str, str] | None = None
) -> dict[str, bytes]:
    """Read blobs by id in one `git cat-file --batch` call."""
    wanted = list(dict.fromkeys(blob_ids))
    if not wanted:
        return {}
    out = run_git(
        ["cat-file", "--batch"],
        root,
        "".join(f"{b}\n" for b in wanted).encode("ascii"),
        env=env,
    )
    blobs: dict[str, bytes] = {}
    at = 0
    for blob in wanted:
        end = out.index(b"\n", at)
        header = out[at:end].decode("ascii").split(" ")
        if len(header) != 3:
            raise GitError(f"git cat-file: blob {blob} is missing")
        size = int(header[2])
        blobs[blob] = out[end + 1 : end + 1 + size]
        at = end + 1 + size + 1
    return blobs


def hooks_dir(root: Path) -> Path:
    """The hooks folder git runs from (core.hooksPath and worktrees honoured)."""
    out = run_git(["rev-parse", "--git-path", "hooks"], root)
    return (root / os.fsdecode(out.rstrip(b"\n"))).resolve()
