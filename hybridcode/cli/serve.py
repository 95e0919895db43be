"""`hc serve`: keep the local model warm in llama-cpp-python's own server."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from hybridcode.cli.state import get_state


def register(app: typer.Typer) -> None:
    """Add `hc serve` to the root app."""
    app.command("serve")(serve_command)


def serve_command(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option(
            "--host", help="Listen address; anything but loopback is exposed."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="0 picks a free port.")] = 0,
    stop: Annotated[
        bool, typer.Option("--stop", help="Stop the running server.")
    ] = False,
    status: Annotated[
        bool,
        typer.Option("--status", help="Print the running server, if any, as JSON."),
    ] = False,
) -> None:
    """Start the configured model in a local server and print its address.

    `hc complete` and the other local commands use it while it runs, so an
    editor pays for loading the model once. It listens on 127.0.0.1 only,
    unless --host says otherwise. `hc serve --stop` ends it.
    """
    from hybridcode.engine.served import read_state, start_server, stop_server

    state = get_state(ctx)
    if stop:
        stopped = stop_server(state.paths)
        state.say(
            f"stopped the model server at {stopped.url}"
            if stopped
            else "no model server was running"
        )
        return
    running = read_state(state.paths)
    if status:
        if running is None:
            state.say("no model server is running")
            raise typer.Exit(1)
        print(
            json.dumps(
                {
                    "url": running.url,
                    "pid": running.pid,
                    "model": running.model_id,
                    "n_ctx": running.n_ctx,
                }
            )
        )
        return
    if running is not None:
        state.say(f"already running: {running.model_id} (pid {running.pid})")
        print(running.url)
        return
    if host not in ("127.0.0.1", "localhost", "::1"):
        state.warn(f"listening on {host}: other machines may reach the model server")
    state.say(f"starting {state.settings.model.id} ...")
    started = start_server(state.settings, state.paths, host, port)
    state.say(f"serving {started.model_id} (pid {started.pid}); stop: hc serve --stop")
    print(started.url)
