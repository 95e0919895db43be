"""`hc config`: show and set settings."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from hybridcode.cli.state import get_state

config_app = typer.Typer(help="Show and change settings.", no_args_is_help=True)
SECRET_KEYS = {"escalate.api_key", "model.api_key"}


def register(app: typer.Typer) -> None:
    """Add `hc config …` to the root app."""
    app.add_typer(config_app, name="config")


@config_app.command("list")
def list_settings(ctx: typer.Context) -> None:
    """Print every setting with its effective value (secrets hidden)."""
    state = get_state(ctx)
    for section, values in dataclasses.asdict(state.settings).items():
        for name, value in values.items():
            key = f"{section}.{name}"
            hidden = "(set)" if value else "(not set)"
            print(f"{key} = {hidden if key in SECRET_KEYS else repr(value)}")


@config_app.command("set")
def set_setting(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="section.name, e.g. model.id")],
    value: Annotated[
        str | None, typer.Argument(help="Omit for secrets: asked.")
    ] = None,
) -> None:
    """Store a setting in the user config file (mode 600).

    For secrets such as escalate.api_key, leave VALUE out: it is read from the
    terminal without echo, or from stdin, so it never lands in shell history.
    """
    from hybridcode.config import KEY_ALIASES, set_user_value
    from hybridcode.errors import InputError

    state = get_state(ctx)
    key = KEY_ALIASES.get(key, key)
    if key in SECRET_KEYS and value is not None:
        raise InputError(
            f"{key} is a secret: do not pass it on the command line",
            f"run `hc config set {key}` and type it, or pipe it in",
        )
    if value is None:
        value = _read_secret(key)
    path = set_user_value(state.paths, key, value)
    state.say(f"set {key} in {path}")


@config_app.command("path")
def show_paths(ctx: typer.Context) -> None:
    """Print where hybridcode keeps config, cache, data and logs."""
    paths = get_state(ctx).paths
    for name in ("config_dir", "cache_dir", "data_dir", "log_dir", "models_dir"):
        print(f"{name}: {getattr(paths, name)}")


def _read_secret(key: str) -> str:
    import sys

    from hybridcode.errors import InputError

    if sys.stdin.isatty():
        value = typer.prompt(key, hide_input=True)
    else:
        value = sys.stdin.readline().strip()
    if not value:
        raise InputError(f"no value given for {key}")
    return str(value)
