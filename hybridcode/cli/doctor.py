"""`hc doctor`: what hybridcode sees on this machine, and whether it can work."""

from __future__ import annotations

import json
import platform
import time
from importlib import metadata
from typing import Annotated, Any

import typer

from hybridcode.cli.state import AppState, get_state
from hybridcode.errors import HcError

PACKAGES = (
    "llama-cpp-python",
    "tree-sitter",
    "anthropic",
    "typer",
    "rich",
    "huggingface-hub",
    "detect-secrets",
    "bm25s",
    "gitpython",
)


def register(app: typer.Typer) -> None:
    """Add `hc doctor` to the root app."""
    app.command("doctor")(doctor)


def doctor(
    ctx: typer.Context,
    smoke: Annotated[
        bool, typer.Option("--smoke", help="Load the model and generate a short reply.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False,
) -> None:
    """Report Python, packages, llama.cpp CPU features, models, paths and API key."""
    state = get_state(ctx)
    report = _collect(state)
    if smoke and report["model"]["usable"]:
        report["smoke"] = _smoke(state)
    if as_json:
        print(json.dumps(report, indent=2, default=str))
    else:
        _print(report)
    usable = report["model"]["usable"] and report.get("smoke", {}).get("ok", True)
    if not usable:
        raise typer.Exit(3)


def _collect(state: AppState) -> dict[str, Any]:
    settings = state.settings
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {name: _version(name) for name in PACKAGES},
        "llama_cpp_system": _system_info(),
        "paths": {
            k: str(getattr(state.paths, k))
            for k in ("config_dir", "cache_dir", "data_dir", "log_dir", "models_dir")
        },
        "model": _model_status(state),
        "backend": settings.model.backend,
        "anthropic_key": "configured"
        if (state.env.get("ANTHROPIC_API_KEY") or settings.escalate.api_key)
        else "not configured",
    }


def _model_status(state: AppState) -> dict[str, Any]:
    from hybridcode.models.cache import resolve

    model_id = state.settings.model.id
    if state.settings.model.backend != "llama":
        return {"id": model_id, "usable": True, "status": "served remotely"}
    try:
        model = resolve(model_id, state.paths)
    except HcError as exc:
        return {"id": model_id, "usable": False, "status": str(exc)}
    return {
        "id": model_id,
        "usable": True,
        "path": str(model.path),
        "status": f"verified sha256 {model.sha256}"
        if model.sha256
        else "header ok (no sha256 to check)",
    }


def _smoke(state: AppState) -> dict[str, Any]:
    from hybridcode.engine.base import GenerateOptions, Message

    started = time.monotonic()
    try:
        engine = state.engine()
        reply = engine.chat(
            [Message("user", "Complete: def add(a, b): return")],
            GenerateOptions(max_tokens=24, seed=state.settings.model.seed),
        )
    except HcError as exc:
        return {"ok": False, "error": str(exc)}
    return {
        "ok": True,
        "seconds": round(time.monotonic() - started, 2),
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "finish_reason": reply.finish_reason,
        "text": reply.text,
    }


def _system_info() -> str:
    try:
        import llama_cpp
    except ImportError:
        return "llama-cpp-python not installed"
    return str(llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip())


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "missing"


def _print(report: dict[str, Any]) -> None:
    print(f"python      {report['python']} on {report['platform']}")
    for name, version in report["packages"].items():
        print(f"package     {name} {version}")
    print(f"llama.cpp   {report['llama_cpp_system']}")
    for name, path in report["paths"].items():
        print(f"path        {name}: {path}")
    model = report["model"]
    print(f"model       {model['id']} ({report['backend']}): {model['status']}")
    print(f"anthropic   API key {report['anthropic_key']}")
    if "smoke" in report:
        smoke = report["smoke"]
        if smoke["ok"]:
            print(
                f"smoke       {smoke['completion_tokens']} tokens in "
                f"{smoke['seconds']}s ({smoke['finish_reason']}): "
                f"{smoke['text'].strip()[:60]!r}"
            )
        else:
            print(f"smoke       FAILED: {smoke['error']}")
