"""`hc fix`: repair syntax errors with verified fixes; report as text, JSON or GitHub.

JSON output (`--json` or `--format json`) is one document, stable across releases:

    {"version": 1,
     "files": [{"path": str, "status": "clean"|"fixed"|"unfixable"|"skipped",
                "written": bool, "findings": [{"line": int, "column": int,
                "message": str}], "patch": str, "reason": str,
                "model": str|null, "prompt_tokens": int,
                "completion_tokens": int, "seconds": float}],
     "summary": {"clean": int, "fixed": int, "unfixable": int, "skipped": int}}

Lines and columns are 1-based; columns count characters. `patch` is a unified
diff ("" when there is nothing to change); `written` says whether hc wrote it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Optional

import typer

from hybridcode.cli.state import AppState, get_state
from hybridcode.context.languages import detect_language
from hybridcode.context.sourcefile import atomic_write, decode_source
from hybridcode.errors import (
    EXIT_FOUND,
    EXIT_INPUT,
    EXIT_OK,
    EXIT_RUNTIME,
    HcError,
    InputError,
)
from hybridcode.fix import FixResult, encode_fixed, find_problems, fix_source

FORMATS = ("text", "json", "github")
SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".tox",
    "dist",
    "build",
}
STATUSES = ("clean", "fixed", "unfixable", "skipped")


@dataclass(frozen=True)
class Target:
    path: Path
    name: str  # as shown to the user
    explicit: bool  # named on the command line, not found by walking a folder


def register(app: typer.Typer) -> None:
    """Add `hc fix` to the root app."""
    app.command("fix")(fix_command)


def fix_command(
    ctx: typer.Context,
    paths: Annotated[
        Optional[list[Path]],
        typer.Argument(
            help="Files or folders (default: the current folder).", show_default=False
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if a fix is needed.")
    ] = False,
    diff: Annotated[
        bool,
        typer.Option(
            "--diff", help="Write nothing; print the patch; exit 1 if a fix is needed."
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Same as --format json.")
    ] = False,
    fmt: Annotated[
        str, typer.Option("--format", help="text, json or github (annotations).")
    ] = "text",
    staged: Annotated[
        bool,
        typer.Option(
            "--staged",
            help="Check what `git commit` would commit (the pre-commit hook mode).",
        ),
    ] = False,
    model: Annotated[
        Optional[str], typer.Option("--model", help="Model id or .gguf path.")
    ] = None,
) -> None:
    """Repair syntax errors; write only fixes that parse (and compile) cleanly."""
    state = get_state(ctx)
    if model:
        state.overrides["model.id"] = model  # settings are read lazily, after this
    fmt = "json" if as_json else fmt
    if fmt not in FORMATS:
        raise InputError(f"unknown format '{fmt}'", "use text, json or github")
    if staged:
        from hybridcode.cli.hook import run_staged_fix

        raise typer.Exit(run_staged_fix(state, check=check or diff, fmt=fmt))
    targets = collect_targets(state.cwd, paths or [Path(".")])
    dry = check or diff
    failures: dict[str, int] = {}
    results = [fix_target(state, t, not dry, failures) for t in targets]
    render_results(state, results, fmt, diff or not dry, check=dry)
    raise typer.Exit(exit_code(results, targets, dry, failures))


def fix_target(
    state: AppState, target: Target, write: bool, failures: dict[str, int]
) -> FixResult:
    """Read, repair and (when asked) write one file; unreadable files are skipped.

    A model or configuration error is recorded in failures with its exit code.
    """
    settings = state.settings.fix
    try:
        data = target.path.read_bytes()
        source = decode_source(data, target.name, settings.max_file_bytes)
    except InputError as exc:
        return _skipped(target.name, exc.message)
    except FileNotFoundError:
        return _skipped(target.name, _missing_reason(target.name))
    except IsADirectoryError:
        return _skipped(target.name, "is a directory")
    except PermissionError:
        return _skipped(target.name, "permission denied")
    try:
        result = fix_source(
            target.name,
            source,
            state.engine,
            settings,
            progress=state.say if state.verbosity >= 1 else None,
        )
    except HcError as exc:
        failures[target.name] = exc.exit_code
        findings = tuple(find_problems(target.name, source.text))
        return FixResult(
            target.name, "unfixable", findings, source.text, None, reason=str(exc)
        )
    if write and result.status == "fixed" and result.fixed is not None:
        mode = target.path.stat().st_mode & 0o7777
        atomic_write(target.path, encode_fixed(data, source, result.fixed), mode)
    return result


def render_results(
    state: AppState,
    results: Sequence[FixResult],
    fmt: str,
    diff: bool,
    check: bool = False,
) -> None:
    """Print results: patches and findings on stdout, talk on stderr."""
    if fmt == "json":
        state.out.file.write(
            json.dumps(_as_json(results, written=not check), indent=2) + "\n"
        )
        return
    if fmt == "github":
        for line in _github_lines(results, check):
            state.out.file.write(line + "\n")
        _say_summary(state, results, check)
        return
    for result in results:
        _render_text(state, result, diff, check)
    _say_summary(state, results, check)


def exit_code(
    results: Sequence[FixResult],
    targets: Sequence[Target],
    check: bool,
    failures: dict[str, int] | None = None,
) -> int:
    """2 for a named file hc could not read, 3 for a failed repair, 1 for --check."""
    explicit = {t.name for t in targets if t.explicit}
    if any(r.status == "skipped" and r.name in explicit for r in results):
        return EXIT_INPUT
    if failures:
        return max(failures.values())
    if check:
        return EXIT_FOUND if any(r.findings for r in results) else EXIT_OK
    if any(r.status == "unfixable" for r in results):
        return EXIT_RUNTIME
    return EXIT_OK


def collect_targets(cwd: Path, paths: Iterable[Path]) -> list[Target]:
    """Expand folders (git-tracked files inside a repo, a plain walk outside)."""
    targets: list[Target] = []
    for raw in paths:
        path = raw if raw.is_absolute() else cwd / raw
        if path.is_dir():
            targets += [Target(p, _shown(cwd, p), False) for p in _walk(path)]
        else:
            targets.append(Target(path, str(raw), True))
    return targets


def _walk(folder: Path) -> list[Path]:
    from hybridcode.context.git import find_repo, list_files

    root = find_repo(folder)
    if root is not None:
        inside = folder.resolve()
        found = [root / name for name in list_files(root)]
        files = [p for p in found if p.resolve().is_relative_to(inside)]
    else:
        files = []
        for base, dirs, names in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            files += [Path(base) / n for n in sorted(names)]
    return [p for p in files if p.is_file() and not p.is_symlink() and _is_code(p)]


def _is_code(path: Path) -> bool:
    if detect_language(path) is not None:
        return True
    if path.suffix:
        return False
    try:
        with path.open("rb") as handle:
            first = handle.read(200).split(b"\n", 1)[0].decode("utf-8", "replace")
    except OSError:
        return False
    return detect_language(path, first) is not None


def _shown(cwd: Path, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(cwd.resolve()))
    except ValueError:
        return str(path)


def _missing_reason(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "'\"":
        return (
            f"no such file (the quotes are part of the name; "
            f"did you mean {name[1:-1]}?)"
        )
    return "no such file"


def _skipped(name: str, reason: str) -> FixResult:
    prefix = f"{name}: "
    reason = reason[len(prefix) :] if reason.startswith(prefix) else reason
    return FixResult(name, "skipped", (), "", None, reason=reason)


def _render_text(state: AppState, result: FixResult, diff: bool, check: bool) -> None:
    if result.status == "fixed" and diff:
        _print_patch(state, result.patch())
    if result.status == "unfixable" or (result.status == "fixed" and not diff):
        for item in result.findings:
            _print_out(
                state, f"{result.name}:{item.line}:{item.column}: {item.message}"
            )
    if result.status == "fixed":
        action = "fix available" if check else "fixed"
        state.say(f"hc: {result.name}: {action}" + _model_note(result))
    elif result.status == "unfixable":
        _tell(state, f"hc: {result.name}: could not fix: {result.reason}")
    elif result.status == "skipped":
        _tell(state, f"hc: skipped {result.name}: {result.reason}")


def _tell(state: AppState, message: str) -> None:
    """A problem the user must see, even with -q."""
    state.err.print(message, markup=False, highlight=False)


def _say_summary(state: AppState, results: Sequence[FixResult], check: bool) -> None:
    counts = {status: sum(r.status == status for r in results) for status in STATUSES}
    files = f"{len(results)} file{'s' * (len(results) != 1)}"
    if counts["clean"] == len(results):
        state.say(f"hc: OK: {files} checked, nothing to fix")
        return
    words = {
        "fixed": "fix available" if check else "fixed",
        "clean": "ok",
        "unfixable": "could not fix",
        "skipped": "skipped",
    }
    parts = [f"{counts[s]} {words[s]}" for s in STATUSES if counts[s]]
    state.say(f"hc: {files}: " + ", ".join(parts))


def _model_note(result: FixResult) -> str:
    if result.model is None or not result.completion_tokens:
        return ""
    return f" (model {result.model}, {result.seconds:.1f}s)"


def _print_patch(state: AppState, patch: str) -> None:
    console = state.out
    if not console.is_terminal or console.no_color:
        console.file.write(patch)
        return
    styles = {"+": "green", "-": "red", "@": "cyan"}
    for line in patch.splitlines():
        style = "bold" if line.startswith(("+++", "---")) else styles.get(line[:1])
        console.print(line, style=style, markup=False, highlight=False)


def _print_out(state: AppState, line: str) -> None:
    state.out.file.write(line + "\n")


def _as_json(results: Sequence[FixResult], written: bool) -> dict[str, object]:
    files = [
        {
            "path": r.name,
            "status": r.status,
            "written": written and r.status == "fixed",
            "findings": [
                {"line": f.line, "column": f.column, "message": f.message}
                for f in r.findings
            ],
            "patch": r.patch(),
            "reason": r.reason,
            "model": r.model,
            "prompt_tokens": r.prompt_tokens,
            "completion_tokens": r.completion_tokens,
            "seconds": round(r.seconds, 3),
        }
        for r in results
    ]
    summary = {status: sum(r.status == status for r in results) for status in STATUSES}
    return {"version": 1, "files": files, "summary": summary}


def _github_lines(results: Sequence[FixResult], check: bool) -> list[str]:
    lines = []
    for r in results:
        if r.status == "skipped":
            lines.append(
                f"::error file={_prop(r.name)}::{_data('skipped: ' + r.reason)}"
            )
            continue
        kind = "notice" if r.status == "fixed" and not check else "error"
        for f in r.findings:
            note = "fixed: " if kind == "notice" else ""
            lines.append(
                f"::{kind} file={_prop(r.name)},line={f.line},col={f.column}"
                f"::{_data(note + f.message)}"
            )
    return lines


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
