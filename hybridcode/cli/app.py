"""The root `hc` command, global flags, and the one error boundary."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.exceptions import Abort, Exit, TyperException

from hybridcode import __version__
from hybridcode.cli.state import AppState, setup_logging
from hybridcode.errors import EXIT_INPUT, EXIT_RUNTIME, HcError

COMMAND_MODULES = (
    "fix",
    "complete",
    "serve",
    "ask",
    "escalate",
    "log",
    "models",
    "hook",
    "doctor",
    "config",
)

app = typer.Typer(
    name="hc",
    help="hybridcode: a local model for routine work, a frontier model on consent.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: rich rendering doubles start-up
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"hc {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    verbose: Annotated[
        int, typer.Option("-v", "--verbose", count=True, help="More output; -vv debug.")
    ] = 0,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Errors only.")] = False,
    model: Annotated[
        Optional[str], typer.Option("--model", help="Model id or .gguf path.")
    ] = None,
    backend: Annotated[
        Optional[str], typer.Option("--backend", help="llama, openai or fake.")
    ] = None,
    base_url: Annotated[
        Optional[str], typer.Option("--base-url", help="OpenAI-compatible server URL.")
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show version."
        ),
    ] = False,
) -> None:
    """hybridcode: fix, complete and ask locally; escalate with consent."""
    overrides = {
        "model.id": model,
        "model.backend": backend,
        "model.base_url": base_url,
    }
    ctx.obj = AppState(
        verbosity=-1 if quiet else verbose, cwd=Path.cwd(), overrides=overrides
    )
    setup_logging(ctx.obj.verbosity)


for _name in COMMAND_MODULES:
    importlib.import_module(f"hybridcode.cli.{_name}").register(app)


def main(argv: list[str] | None = None) -> None:
    """Run hc and turn every failure into one line on stderr and an exit code."""
    debug = os.environ.get("HC_DEBUG") == "1" or _wants_debug(argv)
    try:
        code = app(args=argv, prog_name="hc", standalone_mode=False)
    except HcError as exc:
        if debug:
            raise
        _fail(f"hc: error: {exc}", exc.exit_code)
    except Exit as exc:
        code = exc.exit_code
    except TyperException as exc:
        # Usage errors: typer prints them with the usage line, as click did.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            sys.stderr.write(f"hc: error: {exc.format_message()}\n")
        sys.exit(EXIT_INPUT if exc.exit_code in (1, 2) else exc.exit_code)
    except (KeyboardInterrupt, Abort):
        sys.stderr.write("\n")
        sys.exit(130)
    except BrokenPipeError:
        _quiet_broken_pipe()
    except Exception as exc:
        if debug:
            raise
        _fail(
            f"hc: internal error: {type(exc).__name__}: {exc} (run with -vv)",
            EXIT_RUNTIME,
        )
    _flush_stdout()
    sys.exit(code if isinstance(code, int) else 0)


def _wants_debug(argv: list[str] | None) -> bool:
    args = sys.argv[1:] if argv is None else argv
    return any(a in {"-vv", "-vvv"} for a in args) or args.count("-v") >= 2


def _fail(message: str, code: int) -> None:
    first = message.splitlines()[0] if message else "hc: error"
    with contextlib.suppress(BrokenPipeError):
        sys.stderr.write(first + "\n")
    sys.exit(code)


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()


def _quiet_broken_pipe() -> None:
    # The reader went away (hc ... | head): stop quietly, as cat does.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)
