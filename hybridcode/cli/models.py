"""`hc models`: list, pull, add, remove, inspect and verify GGUF weights."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hybridcode.cli.state import AppState, get_state
from hybridcode.errors import ModelError

if TYPE_CHECKING:
    from rich.progress import Progress

models_app = typer.Typer(
    help="Manage GGUF model weights in the user cache.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add `hc models …` to the root app."""
    app.add_typer(models_app, name="models")


@models_app.command("list")
def list_models(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False,
) -> None:
    """List known and imported models and whether each is downloaded."""
    from hybridcode.models.cache import cached_entries

    state = get_state(ctx)
    default = state.settings.model.id
    rows: list[dict[str, Any]] = []
    for entry, model_id, path, present in cached_entries(state.paths):
        rows.append(
            {
                "id": model_id,
                "present": present,
                "default": model_id == default,
                "path": str(path),
                "size": entry.size if entry else None,
                "fim": entry.fim if entry else "unknown",
                "good_for": entry.good_for
                if entry
                else "imported with `hc models add`",
            }
        )
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        mark = "*" if row["default"] else " "
        status = "downloaded" if row["present"] else "not downloaded"
        size = f"{row['size'] / 1e6:,.0f} MB" if row["size"] else ""
        print(f"{mark} {row['id']:<30} {status:<15} {size:>9}  {row['good_for']}")


@models_app.command("pull")
def pull(
    ctx: typer.Context, model_id: Annotated[str, typer.Argument(help="Id.")]
) -> None:
    """Download a registry model into the cache and verify its sha256."""
    from hybridcode.models.cache import pull as pull_model

    state = get_state(ctx)
    with _progress(state) as bar:
        task = bar.add_task(model_id, total=None)
        model = pull_model(
            model_id,
            state.paths,
            lambda done, total: bar.update(task, completed=done, total=total),
        )
    state.say(f"{model.id}: verified sha256 {model.sha256} at {model.path}")


@models_app.command("add")
def add(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A local .gguf file.")],
    model_id: Annotated[str | None, typer.Option("--id", help="Name to use.")] = None,
) -> None:
    """Reference a local GGUF file (not copied) after checking its header."""
    from hybridcode.models.cache import add as add_model

    state = get_state(ctx)
    model = add_model(path, state.paths, model_id)
    state.say(
        f"added {model.id}: {model.path} (referenced, not copied; "
        f"sha256 {model.sha256})"
    )


@models_app.command("rm")
def remove(ctx: typer.Context, model_id: Annotated[str, typer.Argument()]) -> None:
    """Delete a downloaded model, or forget an imported one."""
    from hybridcode.models.cache import remove as remove_model

    state = get_state(ctx)
    path = remove_model(model_id, state.paths)
    state.say(f"removed {model_id} ({path})")


@models_app.command("info")
def info(
    ctx: typer.Context,
    model_id: Annotated[str, typer.Argument(help="Id or .gguf path.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show a model's registry entry and its GGUF metadata."""
    from hybridcode.models.cache import resolve
    from hybridcode.models.gguf import inspect_gguf
    from hybridcode.models.registry import load_registry

    state = get_state(ctx)
    entry = load_registry().get(model_id)
    details: dict[str, object] = dict(entry.__dict__) if entry else {"id": model_id}
    try:
        model = resolve(model_id, state.paths)
    except ModelError as exc:
        details["status"] = str(exc)
    else:
        gguf = inspect_gguf(model.path)
        details.update(
            path=str(model.path),
            sha256=model.sha256,
            status="ready",
            architecture=gguf.architecture,
            gguf_version=gguf.version,
            tensors=gguf.tensor_count,
            has_chat_template=bool(gguf.chat_template),
            gguf_context_length=gguf.context_length,
        )
    if as_json:
        print(json.dumps(details, indent=2, default=str))
        return
    for key, value in details.items():
        print(f"{key:>20}: {value}")


@models_app.command("verify")
def verify(ctx: typer.Context) -> None:
    """Re-check the header and sha256 of every downloaded model."""
    from hybridcode.models.cache import verify_all

    state = get_state(ctx)
    results = verify_all(state.paths)
    failed = [r for r in results if r[2]]
    for model_id, path, error in results:
        print(f"{model_id}: {'FAILED: ' + error if error else 'ok'} ({path})")
    if not results:
        state.say("no models downloaded; run `hc models pull smollm2-135m`")
    if failed:
        raise typer.Exit(3)


def _progress(state: AppState) -> Progress:
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=state.err,
        disable=state.verbosity < 0,
        transient=True,
    )
