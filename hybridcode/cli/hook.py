"""`hc hook install|uninstall|status`, and `hc fix --staged` as the hook runs it."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import typer

from hybridcode.cli.hook_fast import ok_message
from hybridcode.cli.state import AppState, get_state
from hybridcode.errors import InputError

if TYPE_CHECKING:
    from hybridcode.hooks import HookStatus
    from hybridcode.staged import StagedOutcome

hook_app = typer.Typer(
    help="Manage the git pre-commit hook that runs `hc fix --staged`.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(hook_app, name="hook")


@hook_app.command("install")
def install(ctx: typer.Context) -> None:
    """Install the pre-commit hook; a hook already there is kept and runs first."""
    from hybridcode.hooks import install_hook

    state = get_state(ctx)
    action = install_hook(_repo_root(state), sys.executable)
    status = _status(state)
    chained = f" (runs {status.chained.name} first)" if status.chained else ""
    state.say(f"hc: {action} {status.path}{chained}")


@hook_app.command("uninstall")
def uninstall(ctx: typer.Context) -> None:
    """Remove hc's pre-commit hook and put back the one it chained to."""
    from hybridcode.hooks import uninstall_hook

    state = get_state(ctx)
    action = uninstall_hook(_repo_root(state))
    messages = {
        "absent": "no hc hook installed; nothing to do",
        "removed": "removed the pre-commit hook",
        "restored": "removed hc's hook; the earlier pre-commit hook is back",
    }
    state.say(f"hc: {messages[action]}")


@hook_app.command("status")
def status(ctx: typer.Context) -> None:
    """Show whether the hook is installed; exit 1 when it is not (or is broken)."""
    state = get_state(ctx)
    current = _status(state)
    if current.installed:
        health = "" if current.python_ok else " (interpreter missing: reinstall)"
        lines = [f"installed: {current.path}", f"runs: {current.python}{health}"]
        if current.chained is not None:
            lines.append(f"chained: {current.chained}")
    elif current.foreign:
        lines = [f"not installed: {current.path} is another tool's hook"]
    else:
        lines = [f"not installed: {current.path}"]
    for line in lines:
        state.out.print(line, markup=False, highlight=False)
    if not (current.installed and current.python_ok):
        raise typer.Exit(1)


def run_staged_fix(state: AppState, check: bool, fmt: str) -> int:
    """Check (and under hook rules fix) what is staged; return the exit code."""
    from hybridcode.staged import StagedRequest, fix_staged, git_env

    root = _repo_root(state)
    request = StagedRequest(
        root=root,
        git_env=git_env(state.env, state.cwd),
        check=check,
        settings=state.settings.fix,
    )
    with _sigterm_as_interrupt():
        outcomes = fix_staged(request, state.engine)
    if fmt == "text":
        _render_text(state, root, outcomes)
    elif fmt == "json":
        _render_json(state, outcomes)
    else:
        from hybridcode.cli.fix import render_results

        render_results(state, [o.result for o in outcomes], fmt, True, check=True)
    _tell_actions(state, root, outcomes)
    return max((o.exit_code for o in outcomes), default=0)


def _render_text(state: AppState, root: Path, outcomes: list[StagedOutcome]) -> None:
    for outcome in outcomes:
        if outcome.action in ("written", "partial", "reported"):
            state.out.file.write(outcome.result.patch())
        elif outcome.action in ("unfixable", "failed"):
            shown = _shown_path(state, root, outcome.path)
            for item in outcome.result.findings:
                line = f"{shown}:{item.line}:{item.column}: {item.message}"
                state.out.file.write(line + "\n")
    if all(o.action == "clean" for o in outcomes):
        state.say(ok_message(len(outcomes)))


def _render_json(state: AppState, outcomes: list[StagedOutcome]) -> None:
    """`hc fix --json`'s document; `written` is true only where hc wrote the file."""
    from hybridcode.cli.fix import _as_json

    document = _as_json([o.result for o in outcomes], written=False)
    files = document["files"]
    assert isinstance(files, list)
    for entry, outcome in zip(files, outcomes, strict=True):
        entry["written"] = outcome.action == "written"
    state.out.file.write(json.dumps(document, indent=2) + "\n")


def _tell_actions(state: AppState, root: Path, outcomes: list[StagedOutcome]) -> None:
    """Say on stderr what happened to each file that was not clean, even with -q."""
    for outcome in outcomes:
        if outcome.action == "clean":
            continue
        shown = _shown_path(state, root, outcome.path)
        reason = f" ({outcome.reason})" if outcome.reason else ""
        message = {
            "written": f"modified {shown} — review and git add",
            "partial": f"{shown}: partially staged; working tree not touched — "
            "the patch above fixes the staged version",
            "reported": f"{shown}: fix available",
            "unfixable": f"{shown}: could not fix{reason}",
            "skipped": f"skipped {shown}: {outcome.reason}",
            "failed": f"{shown}: {outcome.reason}",
        }[outcome.action]
        state.err.print(message, markup=False, highlight=False)


def _shown_path(state: AppState, root: Path, path: str) -> str:
    """The path relative to where hc runs (the repo root when git runs the hook)."""
    try:
        return os.path.relpath(root / path, state.cwd)
    except ValueError:
        return path


def _repo_root(state: AppState) -> Path:
    from hybridcode.context.git import find_repo

    root = find_repo(state.cwd)
    if root is None:
        raise InputError(f"{state.cwd} is not inside a git work tree")
    return root


def _status(state: AppState) -> HookStatus:
    from hybridcode.hooks import hook_status

    return hook_status(_repo_root(state))


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Let SIGTERM unwind like Ctrl-C, so temp files are cleaned up on the way out."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
