"""`hc complete FILE:LINE:COL`: print only the text to insert at a cursor."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hybridcode.cli.state import AppState, get_state
from hybridcode.complete import (
    Completion,
    CompletionRequest,
    Snippet,
    check_position,
    complete,
    parse_target,
)
from hybridcode.context.sourcefile import SourceText, decode_source, read_source

if TYPE_CHECKING:
    from hybridcode.engine.base import Engine


def register(app: typer.Typer) -> None:
    """Add `hc complete` to the root app."""
    app.command("complete")(complete_command)


def complete_command(
    ctx: typer.Context,
    target: Annotated[
        str, typer.Argument(metavar="FILE:LINE:COL", help="1-based line and column.")
    ],
    stdin: Annotated[
        bool,
        typer.Option(
            "--stdin", help="Read the unsaved buffer from stdin; FILE names it."
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Also give the range, model, tokens, timings."),
    ] = False,
    no_context: Annotated[
        bool, typer.Option("--no-context", help="Use only this file, no repo context.")
    ] = False,
) -> None:
    """Complete code at a cursor; stdout holds only the text to insert.

    COL counts characters (code points). With --json, "range" is what to
    replace: usually empty at the cursor, but on a whitespace-only line it can
    cover the indentation after the cursor.
    """
    state = get_state(ctx)
    name, line, column = parse_target(target)
    path = Path(name)
    source = _read_buffer(state, path, stdin)
    check_position(source.text, line, column, name)
    request = _request(state, path, source, (line, column), not no_context)
    engine, request = _engine_for(state, request)

    result = complete(engine, request)
    if result.note:
        state.say(f"hc: note: {result.note}")
    if as_json:
        sys.stdout.write(json.dumps(_as_json(result), ensure_ascii=False) + "\n")
    else:
        sys.stdout.buffer.write(result.text.encode("utf-8"))


def _read_buffer(state: AppState, path: Path, stdin: bool) -> SourceText:
    limit = state.settings.fix.max_file_bytes
    if stdin:
        return decode_source(sys.stdin.buffer.read(), str(path), limit)
    return read_source(path, limit)


def _request(
    state: AppState,
    path: Path,
    source: SourceText,
    position: tuple[int, int],
    with_context: bool,
) -> CompletionRequest:
    from hybridcode.context.languages import detect_language

    settings = state.settings.complete
    language = detect_language(path, source.text.split("\n", 1)[0])
    snippets: list[Snippet] = []
    if with_context and language is not None:
        from hybridcode.context.signatures import gather_snippets

        # The work is bounded by file counts; this limit is only a safety net,
        # since context cut short at different points would change the prompt's
        # start and defeat the server's prompt cache.
        limit = time.monotonic() + settings.deadline_ms / 4_000
        snippets = gather_snippets(path, source.text, position[0], language, limit)
    return CompletionRequest(
        source=source,
        line=position[0],
        column=position[1],
        max_tokens=settings.max_tokens,
        max_lines=settings.max_lines,
        deadline_s=settings.deadline_ms / 1000,
        language=language,
        snippets=tuple(snippets),
    )


def _engine_for(
    state: AppState, request: CompletionRequest
) -> tuple[Engine, CompletionRequest]:
    """Use a warm `hc serve` server for the configured model when one runs."""
    from hybridcode.engine.fim import family_of, format_for
    from hybridcode.engine.served import served_settings

    served = served_settings(state.settings, state.paths)
    if served is None:
        fmt = format_for(family_of(state.settings.model.id))
        return state.engine(), replace(request, fim_format=fmt)
    from hybridcode.engine.openai import OpenAIEngine

    settings, family = served
    fmt = format_for(family or family_of(state.settings.model.id))
    engine = OpenAIEngine.from_settings(settings.model)
    return engine, replace(request, fim_format=fmt, fim_as_text=fmt is not None)


def _as_json(result: Completion) -> dict[str, object]:
    return {
        "text": result.text,
        "range": {
            "start": {"line": result.start[0], "column": result.start[1]},
            "end": {"line": result.end[0], "column": result.end[1]},
        },
        "mode": result.mode,
        "model": result.model,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "finish_reason": result.finish_reason,
        "timings_ms": result.timings_ms,
        "context": list(result.context),
    }
