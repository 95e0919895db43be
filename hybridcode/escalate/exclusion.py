"""Decide which repo files may leave the machine, before any of them is read."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hybridcode.context.git import is_ignored

HCIGNORE = ".hcignore"

# Names no flag can send. Matched against every path component, case-insensitively.
DENIED_NAMES = (
    ".env*",
    "id_*",
    "*.pem",
    "*.key",
    "*.crt",
    "*.cer",
    "*.der",
    "*.p12",
    "*.pfx",
    "*.p8",
    "*.jks",
    "*.keystore",
    "*.ppk",
    "*.gpg",
    "*.kdbx",
    ".npmrc",
    ".pypirc",
    ".netrc",
    "_netrc",
    ".pgpass",
    ".git-credentials",
    ".htpasswd",
    ".dockercfg",
    "*credential*.json",
    "client_secret*.json",
    "*service*account*.json",
    "*.tfstate",
    "*.tfstate.*",
    "*.tfvars",
)
ALLOWED_NAMES = (".env.example",)
DENIED_DIRS = (".aws", ".ssh", ".gnupg", ".terraform", ".kube", ".docker")


@dataclass(frozen=True)
class Exclusion:
    path: str
    reason: str


@dataclass(frozen=True)
class Selection:
    """Repo-relative files that may be sent, and the ones held back with why."""

    allowed: tuple[str, ...]
    excluded: tuple[Exclusion, ...]


def denied_reason(relpath: str) -> str | None:
    """Return why a path is on the always-denied list, or None."""
    parts = PurePosixPath(relpath).parts
    for folder in parts[:-1]:
        if folder.lower() in DENIED_DIRS:
            return f"always denied: inside {folder}/"
    name = parts[-1].lower() if parts else ""
    if name in ALLOWED_NAMES:
        return None
    for pattern in DENIED_NAMES:
        if fnmatch.fnmatchcase(name, pattern):
            return f"always denied: matches {pattern}"
    return None


def outside_reason(root: Path, relpath: str) -> str | None:
    """Return why a path resolves outside the repo (through a symlink), or None."""
    real_root = root.resolve()
    target = (root / relpath).resolve()
    if target != real_root and real_root not in target.parents:
        return "resolves outside the repo"
    return None


def hcignore_matcher(root: Path) -> HcIgnore:
    """Load the repo's .hcignore (gitignore syntax); an absent file matches nothing."""
    path = root / HCIGNORE
    lines = path.read_text("utf-8", "replace").splitlines() if path.is_file() else []
    return HcIgnore(lines)


class HcIgnore:
    def __init__(self, lines: Iterable[str]) -> None:
        import pathspec

        self._spec = pathspec.GitIgnoreSpec.from_lines(list(lines))

    def matches(self, relpath: str) -> bool:
        return bool(self._spec.match_file(relpath))


def select(root: Path, relpaths: Iterable[str], require_file: bool = True) -> Selection:
    """Split candidate paths into allowed and excluded, in the order of checks.

    require_file=False keeps paths that no longer exist (deleted in a diff).
    """
    candidates = list(dict.fromkeys(relpaths))
    ignored = is_ignored(root, candidates)
    hcignore = hcignore_matcher(root)
    allowed: list[str] = []
    excluded: list[Exclusion] = []
    for rel in candidates:
        reason = _reason(root, rel, ignored, hcignore, require_file)
        if reason is None:
            allowed.append(rel)
        else:
            excluded.append(Exclusion(rel, reason))
    return Selection(tuple(allowed), tuple(excluded))


def _reason(
    root: Path, rel: str, ignored: set[str], hcignore: HcIgnore, require_file: bool
) -> str | None:
    if os.path.isabs(rel) or ".." in PurePosixPath(rel).parts:
        return "outside the repo"
    if reason := denied_reason(rel):
        return reason
    if rel in ignored:
        return "ignored by git"
    if hcignore.matches(rel):
        return f"matches {HCIGNORE}"
    if reason := outside_reason(root, rel):
        return reason
    if require_file and not (root / rel).is_file():
        return "not a regular file" if os.path.lexists(root / rel) else "no such file"
    return None
