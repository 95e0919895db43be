"""Staged mode: fix what the index will commit, following the pre-commit convention.

The index is only read, never written, and nothing is stashed: a fix goes to the
working tree file only when that file is the staged version (byte for byte, or
in the line endings git checks out), so unstaged work can never be touched.
Every write is atomic.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from hybridcode.config import FixSettings
from hybridcode.context.git import StagedFile, read_blobs, staged_files
from hybridcode.context.languages import detect_language
from hybridcode.context.sourcefile import (
    NotTextError,
    SourceText,
    atomic_write,
    decode_source,
)
from hybridcode.context.syntax import check_syntax
from hybridcode.errors import HcError

if TYPE_CHECKING:
    from hybridcode.engine.base import Engine
    from hybridcode.fix import FixResult

log = logging.getLogger(__name__)

# What happened to each staged file.
CLEAN = "clean"  # nothing to fix
WRITTEN = "written"  # fix written to the working tree; the user reviews and re-adds
PARTIAL = "partial"  # working tree differs from the index: patch shown, nothing written
REPORTED = "reported"  # --check: fix shown, nothing written
UNFIXABLE = "unfixable"  # problems found, no verified fix
SKIPPED = "skipped"  # not text hc can read (not UTF-8, binary, too big)
FAILED = "failed"  # the model or engine failed on this file


class TooBig(Exception):
    """A staged source file over fix.max_file_bytes: skipped, without failing."""


@dataclass(frozen=True)
class StagedRequest:
    root: Path  # the work tree root
    git_env: Mapping[str, str]  # environment for git (GIT_INDEX_FILE, GIT_DIR…)
    check: bool  # report only; write nothing
    settings: FixSettings


@dataclass(frozen=True)
class StagedOutcome:
    path: str  # repo-relative, as git will commit it
    action: str  # one of the constants above
    result: FixResult
    reason: str = ""
    exit_code: int = 0  # what this file alone would make hc exit with


def fix_staged(
    request: StagedRequest, engine: Callable[[], Engine]
) -> list[StagedOutcome]:
    """Check every staged source file; fix broken ones under hook semantics.

    The engine is asked for only when a staged file has a problem, so a clean
    commit never loads the model.
    """
    outcomes = []
    for entry, data in _staged_blobs(request):
        outcome = _check_one(request, entry, data, engine)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def git_env(env: Mapping[str, str], cwd: Path) -> dict[str, str]:
    """The environment git gave a hook, with a relative GIT_INDEX_FILE made absolute.

    git hands a plain `git commit`'s hook GIT_INDEX_FILE=.git/index, relative to
    the directory the hook runs in.
    """
    fixed = dict(env)
    index = fixed.get("GIT_INDEX_FILE")
    if index and not os.path.isabs(index):
        fixed["GIT_INDEX_FILE"] = str(cwd / index)
    return fixed


def count_clean(request: StagedRequest) -> int | None:
    """Return how many staged source files there are if all are clean, else None.

    The hook's fast path: parsing only, no engine, no fix machinery beyond that.
    """
    count = 0
    for entry, data in _staged_blobs(request):
        try:
            found = _source_of(entry, data, request.settings)
        except (NotTextError, TooBig):
            return None
        if found is None:
            continue
        language, source = found
        if check_syntax(source.text, language):
            return None
        count += 1
    return count


def _staged_blobs(request: StagedRequest) -> list[tuple[StagedFile, bytes]]:
    """Staged files that may be source, with their blobs, read in one git call.

    Files whose name already rules them out (images, archives, docs) are never
    read; a name without a suffix may still be a script with a shebang.
    """
    entries = [
        entry
        for entry in staged_files(request.root, request.git_env)
        if detect_language(entry.path) is not None or not PurePath(entry.path).suffix
    ]
    blobs = read_blobs(request.root, [e.blob for e in entries], request.git_env)
    return [(entry, blobs[entry.blob]) for entry in entries]


def _source_of(
    entry: StagedFile, data: bytes, settings: FixSettings
) -> tuple[str, SourceText] | None:
    """The language and decoded text of a staged file; None when hc has no checker.

    Raises NotTextError for binary or undecodable source, and TooBig.
    """
    first_line = data[:256].split(b"\n", 1)[0].decode("utf-8", "replace")
    language = detect_language(entry.path, first_line)
    if language is None:
        return None  # not source hc knows: images, docs, lock files
    if len(data) > settings.max_file_bytes:
        raise TooBig(
            f"{len(data):,} bytes is over the {settings.max_file_bytes:,}-byte "
            "limit (fix.max_file_bytes)"
        )
    return language, decode_source(data, entry.path)


def _check_one(
    request: StagedRequest, entry: StagedFile, data: bytes, engine: Callable[[], Engine]
) -> StagedOutcome | None:
    # The repair machinery loads here, not on count_clean's fast path.
    from hybridcode.fix import FixResult, find_problems, fix_source

    try:
        found = _source_of(entry, data, request.settings)
    except TooBig as exc:
        # Large generated files (data, bundles) are committed often; say so, pass.
        result = FixResult(entry.path, "skipped", (), "", None, reason=str(exc))
        return StagedOutcome(entry.path, SKIPPED, result, str(exc), exit_code=0)
    except NotTextError as exc:
        reason = exc.message.removeprefix(f"{entry.path}: ")
        result = FixResult(entry.path, "skipped", (), "", None, reason=reason)
        return StagedOutcome(entry.path, SKIPPED, result, reason, exc.exit_code)
    if found is None:
        return None
    language, source = found
    findings = find_problems(entry.path, source.text, language)
    if not findings:
        result = FixResult(entry.path, "clean", (), source.text, None)
        return StagedOutcome(entry.path, CLEAN, result)
    try:
        result = fix_source(entry.path, source, engine, request.settings, language)
    except HcError as exc:
        log.debug("fixing %s failed", entry.path, exc_info=True)
        result = FixResult(
            entry.path, "unfixable", tuple(findings), source.text, None, reason=str(exc)
        )
        return StagedOutcome(entry.path, FAILED, result, str(exc), exc.exit_code)
    return _apply(request, entry, data, source, result)


def _apply(
    request: StagedRequest,
    entry: StagedFile,
    staged: bytes,
    source: SourceText,
    result: FixResult,
) -> StagedOutcome:
    if result.status == "clean":
        return StagedOutcome(entry.path, CLEAN, result)
    if result.status != "fixed" or result.fixed is None:
        # Like `hc fix`: under --check a broken file is "found" (1), else a failure.
        code = 1 if request.check else 3
        return StagedOutcome(entry.path, UNFIXABLE, result, result.reason, code)
    if request.check:
        return StagedOutcome(entry.path, REPORTED, result, exit_code=1)
    target = request.root / entry.path
    current = _staged_version_on_disk(target, staged, source)
    if current is None:
        return StagedOutcome(entry.path, PARTIAL, result, exit_code=1)
    from hybridcode.fix import encode_fixed

    data, style = current
    atomic_write(target, encode_fixed(data, style, result.fixed))
    return StagedOutcome(entry.path, WRITTEN, result, exit_code=1)


def _staged_version_on_disk(
    path: Path, staged: bytes, source: SourceText
) -> tuple[bytes, SourceText] | None:
    """The work tree file's bytes and style when it holds the staged version.

    That is byte for byte, or, where git converts line endings on checkout
    (core.autocrlf, eol=crlf), the same text in the file's own line endings;
    the fix is then written in those. None when the file holds other work.
    """
    try:
        if path.is_symlink() or not path.is_file():
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if data == staged:
        return data, source
    try:
        on_disk = decode_source(data, str(path))
    except NotTextError:
        return None
    return (data, on_disk) if on_disk.text == source.text else None
