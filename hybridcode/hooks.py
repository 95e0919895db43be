"""Install, remove and inspect hc's pre-commit hook, chaining to one already there."""

from __future__ import annotations

import os
import shlex
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hybridcode.context.git import hooks_dir
from hybridcode.context.sourcefile import atomic_write
from hybridcode.errors import InputError

HOOK_NAME = "pre-commit"
CHAINED_NAME = "pre-commit.hc-chained"
MARKER = "# hybridcode pre-commit hook"

SCRIPT = """\
#!/bin/sh
{marker}: written by `hc hook install`, removed by `hc hook uninstall`.
# Checks what is staged with `hc fix --staged`. A hook that was here before
# was moved to {chained} and runs first.
HC_PYTHON={python}
chained="$(dirname "$0")/{chained}"
if [ -f "$chained" ] && [ -x "$chained" ]; then
  "$chained" "$@" || exit $?
fi
if [ -x "$HC_PYTHON" ]; then
  # `hc fix --staged`, answering a clean commit before the CLI framework loads.
  exec "$HC_PYTHON" -m hybridcode.cli.hook_fast </dev/null
fi
if command -v hc >/dev/null 2>&1; then
  exec hc fix --staged </dev/null
fi
echo "hc: pre-commit hook: $HC_PYTHON is gone; run 'hc hook install' again" >&2
exit 3
"""


class HookConflict(InputError):
    """A pre-commit hook hc did not write is in the way and cannot be chained."""


@dataclass(frozen=True)
class HookStatus:
    """What the repository's pre-commit hook slot holds."""

    path: Path
    installed: bool  # hc's hook is in the slot
    foreign: bool  # some other hook is in the slot
    chained: Path | None  # the earlier hook hc's hook runs first
    python: str | None  # the interpreter hc's hook runs

    @property
    def python_ok(self) -> bool:
        return self.python is not None and os.access(self.python, os.X_OK)


def hook_script(python: str) -> str:
    """The pre-commit script that runs `python -m hybridcode fix --staged`."""
    return SCRIPT.format(
        marker=MARKER, chained=CHAINED_NAME, python=shlex.quote(python)
    )


def hook_status(root: Path) -> HookStatus:
    """Describe the pre-commit hook git would run for this repository."""
    folder = hooks_dir(root)
    hook, chained = folder / HOOK_NAME, folder / CHAINED_NAME
    python = _our_python(hook)
    present = os.path.lexists(hook)
    return HookStatus(
        path=hook,
        installed=python is not None,
        foreign=present and python is None,
        chained=chained if python is not None and os.path.lexists(chained) else None,
        python=python,
    )


def install_hook(root: Path, python: str) -> str:
    """Install (or refresh) hc's hook; return "installed", "updated" or "chained"."""
    current = hook_status(root)
    with _changing(current.path.parent):
        return _install(current, python)


def _install(current: HookStatus, python: str) -> str:
    hook, chained = current.path, current.path.with_name(CHAINED_NAME)
    script = hook_script(python).encode()
    if current.installed or not current.foreign:
        _write(hook, script)
        return "updated" if current.installed else "installed"
    _check_chainable(hook, chained)
    os.rename(hook, chained)
    try:
        _write(hook, script)
    except BaseException:
        os.rename(chained, hook)
        raise
    return "chained"


def uninstall_hook(root: Path) -> str:
    """Remove hc's hook, putting back a chained one; return what happened."""
    current = hook_status(root)
    if current.foreign:
        raise HookConflict(
            f"{current.path} was not written by hc; left alone",
            "remove it yourself if you meant to",
        )
    if not current.installed:
        return "absent"
    with _changing(current.path.parent):
        if current.chained is not None:
            os.replace(current.chained, current.path)
            return "restored"
        current.path.unlink()
    return "removed"


def _our_python(hook: Path) -> str | None:
    """The interpreter named in hc's hook at `hook`, or None if it is not ours."""
    if hook.is_symlink() or not hook.is_file():
        return None
    try:
        with hook.open("rb") as handle:
            head = handle.read(4096).decode("utf-8", "replace")
    except OSError:
        return None
    if MARKER not in head:
        return None
    for line in head.splitlines():
        if line.startswith("HC_PYTHON="):
            words = shlex.split(line.removeprefix("HC_PYTHON="))
            return words[0] if words else ""
    return ""


def _check_chainable(hook: Path, chained: Path) -> None:
    """Refuse when moving the foreign hook aside would lose or break something."""
    hint = (
        "move it away and run `hc hook install` again, or use the pre-commit framework"
    )
    if os.path.lexists(chained):
        raise HookConflict(f"{hook} is not hc's and {chained.name} is taken", hint)
    if hook.is_symlink() and not hook.exists():
        raise HookConflict(f"{hook} is a broken symlink; cannot chain to it", hint)
    if not stat.S_ISREG(hook.stat().st_mode):
        raise HookConflict(f"{hook} is not a regular file; cannot chain to it", hint)


def _write(hook: Path, script: bytes) -> None:
    hook.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(hook, script, 0o755)


@contextmanager
def _changing(folder: Path) -> Iterator[None]:
    """Turn a failure to change the hooks folder into a one-line usage error."""
    try:
        yield
    except OSError as exc:
        raise InputError(f"cannot change {folder}: {exc.strerror}") from None
