"""`hc ask`: answer from the repository with local retrieval and the local model."""

from __future__ import annotations

import json
import os
import stat
import sys
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from hybridcode.cli.state import AppState, get_state

if TYPE_CHECKING:
    from hybridcode.ask import AskResult
    from hybridcode.context.index import Refresh


def register(app: typer.Typer) -> None:
    """Add `hc ask` to the root app."""
    app.command("ask")(ask_command)


def ask_command(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    files: Annotated[
        Optional[list[str]],
        typer.Option("--files", "-f", help="Only retrieve from these paths (repeat)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Answer, sources, model and timings.")
    ] = False,
    no_model: Annotated[
        bool, typer.Option("--no-model", help="Print the retrieved sources only.")
    ] = False,
) -> None:
    """Answer a question from the repo's code; piped stdin is extra context."""
    from hybridcode.ask import AskRequest, ask

    state = get_state(ctx)
    streaming = not as_json and not no_model and sys.stdout.isatty()
    streamed: list[str] = []

    def stream(text: str) -> None:
        streamed.append(text)
        sys.stdout.write(text)
        sys.stdout.flush()

    request = AskRequest(
        question=question,
        cwd=state.cwd,
        files=tuple(files or ()),
        extra=_read_stdin(),
        use_model=not no_model,
        on_text=stream if streaming else None,
    )
    engine = None if no_model else state.engine
    result = ask(request, state.settings.ask, state.paths.cache_dir, engine)
    _report_index(state, result.refresh)
    if as_json:
        print(json.dumps(as_data(result), indent=2))
    elif no_model:
        for chunk in result.sources:
            print(chunk.source)
    else:
        _print_answer(result, streamed=bool(streamed))
    _suggest(state, result)


def _read_stdin() -> str:
    """Piped or redirected stdin, or "" when stdin is a terminal or nothing."""
    try:
        if sys.stdin is None or sys.stdin.isatty():
            return ""
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError):
        return ""
    if not (stat.S_ISFIFO(mode) or stat.S_ISREG(mode)):
        return ""
    data = sys.stdin.buffer.read()
    return data.decode("utf-8", "replace").replace("\0", "")


def _print_answer(result: AskResult, streamed: bool) -> None:
    if streamed:
        print()
    else:
        print(result.answer or "")
    if result.sources:
        print("\nSources:")
        for chunk in result.sources:
            print(chunk.source)


def _report_index(state: AppState, refresh: Refresh) -> None:
    if not refresh.workspace.in_git:
        state.say(
            f"hc: not a git repository; answering from the files under "
            f"{refresh.workspace.root}"
        )
    if state.verbosity >= 1:
        for line in verbose_lines(refresh):
            state.say(line)


def verbose_lines(refresh: Refresh) -> list[str]:
    """What -v shows about the index: counts, skipped files, plain-text files."""
    from hybridcode.context.index import describe

    lines = [f"hc: {describe(refresh)}"]
    lines += [f"hc: skipped {s.path}: {s.reason}" for s in refresh.skipped]
    lines += [f"hc: plain text {p.path}: {p.reason}" for p in refresh.plain_text]
    return lines


def _suggest(state: AppState, result: AskResult) -> None:
    escalation = result.escalation
    if not escalation.suggested:
        return
    reasons = "; ".join(escalation.reasons)
    state.say(
        f"hc: this may need a frontier model (score {escalation.score:.2f}: "
        f"{reasons}); nothing was sent. To ask one: {escalation.command}"
    )


def as_data(result: AskResult) -> dict[str, Any]:
    """The result as JSON-ready data."""
    from hybridcode.context.index import as_json

    escalation = result.escalation
    return {
        "question": result.question,
        "answer": result.answer,
        "model": result.model,
        "finish_reason": result.finish_reason,
        "sources": [
            {
                "path": c.path,
                "start": c.start,
                "end": c.end,
                "kind": c.kind,
                "name": c.name,
                "source": c.source,
            }
            for c in result.sources
        ],
        "escalation": {
            "score": escalation.score,
            "threshold": escalation.threshold,
            "suggested": escalation.suggested,
            "reasons": list(escalation.reasons),
            "command": escalation.command,
        },
        "index": as_json(result.refresh),
        "timings": result.timings,
    }
