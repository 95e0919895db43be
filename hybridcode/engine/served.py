"""The `hc serve` state file: which local model server runs, where, for which model.

`hc serve` writes it; local commands read it to reuse a warm model instead of
loading their own.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from hybridcode.config import Paths, Settings
from hybridcode.context.sourcefile import atomic_write

log = logging.getLogger(__name__)

STATE_NAME = "serve.json"
SERVER_MODULE = "llama_cpp.server"


@dataclass(frozen=True)
class ServerState:
    pid: int
    host: str
    port: int
    model_id: str
    model_path: str
    family: str
    n_ctx: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def state_path(paths: Paths) -> Path:
    return paths.data_dir / STATE_NAME


def write_state(paths: Paths, state: ServerState) -> None:
    """Record a started server (mode 600: it names local paths)."""
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    data = json.dumps(asdict(state)).encode("utf-8")
    atomic_write(state_path(paths), data, mode=0o600)


def clear_state(paths: Paths) -> None:
    state_path(paths).unlink(missing_ok=True)


def read_state(paths: Paths) -> ServerState | None:
    """Return the recorded server if its process still runs; forget a stale one."""
    target = state_path(paths)
    try:
        state = ServerState(**json.loads(target.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        log.warning("ignoring unreadable %s: %s", target, exc)
        return None
    if not is_server_process(state.pid):
        log.info("server pid %d is gone; forgetting %s", state.pid, target)
        clear_state(paths)
        return None
    return state


def is_server_process(pid: int) -> bool:
    """True when pid runs, and on Linux, when it is a llama_cpp.server process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process reusing the pid
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            return SERVER_MODULE.encode() in cmdline.read_bytes()
        except OSError:
            return False
    return True


def served_settings(settings: Settings, paths: Paths) -> tuple[Settings, str] | None:
    """Settings pointing at a warm server for the configured model, with its family.

    Used when the backend is the local one and either complete.server_url is
    set or `hc serve` runs the same model.
    """
    if settings.model.backend != "llama":
        return None
    if settings.complete.server_url:
        url, family = settings.complete.server_url, ""
        remote, n_ctx = settings.model.id, settings.model.n_ctx
    else:
        state = read_state(paths)
        if state is None or state.model_id != settings.model.id:
            return None
        url, family, remote, n_ctx = (
            state.url,
            state.family,
            state.model_id,
            state.n_ctx,
        )
    model = replace(
        settings.model, backend="openai", base_url=url, remote_model=remote, n_ctx=n_ctx
    )
    return replace(settings, model=model), family


SERVER_EXTRAS = (
    "uvicorn",
    "fastapi",
    "sse_starlette",
    "starlette_context",
    "pydantic_settings",
)
LOOPBACK = "127.0.0.1"


def start_server(
    settings: Settings,
    paths: Paths,
    host: str = LOOPBACK,
    port: int = 0,
    ready_timeout_s: float = 120.0,
) -> ServerState:
    """Start llama-cpp-python's server on the configured model and wait until ready."""
    import sys

    from hybridcode.engine.fim import family_of, guess_family
    from hybridcode.models.cache import resolve

    _check_extras()
    model = resolve(settings.model.id, paths)
    port = port or _free_port(host)
    command = [
        sys.executable,
        "-m",
        SERVER_MODULE,
        "--model",
        str(model.path),
        "--model_alias",
        settings.model.id,
        "--host",
        host,
        "--port",
        str(port),
        "--n_ctx",
        str(settings.model.n_ctx),
        "--n_gpu_layers",
        str(settings.model.gpu_layers),
    ]
    if settings.model.threads:
        command += ["--n_threads", str(settings.model.threads)]
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    log_file = paths.log_dir / "serve.log"
    with log_file.open("ab") as sink:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this command; `hc serve --stop` ends it
        )
    family = family_of(settings.model.id) or guess_family(model.path.name) or ""
    state = ServerState(
        process.pid,
        host,
        port,
        settings.model.id,
        str(model.path),
        family,
        settings.model.n_ctx,
    )
    _wait_ready(process, state, log_file, ready_timeout_s)
    write_state(paths, state)
    return state


def stop_server(paths: Paths, timeout_s: float = 10.0) -> ServerState | None:
    """Stop the recorded server; return what was stopped, or None if none ran."""
    import signal
    import time

    state = read_state(paths)
    if state is None:
        clear_state(paths)
        return None
    os.kill(state.pid, signal.SIGTERM)
    limit = time.monotonic() + timeout_s
    while is_server_process(state.pid) and time.monotonic() < limit:
        time.sleep(0.05)
        _reap(state.pid)
    if is_server_process(state.pid):
        os.kill(state.pid, signal.SIGKILL)
        _reap(state.pid)
    clear_state(paths)
    return state


def _check_extras() -> None:
    import importlib.util

    from hybridcode.errors import ModelError

    missing = [m for m in SERVER_EXTRAS if importlib.util.find_spec(m) is None]
    if missing or importlib.util.find_spec("llama_cpp") is None:
        raise ModelError(
            f"the model server needs {', '.join(missing or ['llama_cpp'])}",
            "install the extras: pip install 'hybridcode[server]'",
        )


def _free_port(host: str) -> int:
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _wait_ready(
    process: subprocess.Popen[bytes],
    state: ServerState,
    log_file: Path,
    timeout_s: float,
) -> None:
    """Poll /v1/models until the server answers; on failure, stop it and say why."""
    import time

    import httpx

    from hybridcode.errors import ModelError

    limit = time.monotonic() + timeout_s
    while time.monotonic() < limit:
        if process.poll() is not None:
            raise ModelError(
                f"the model server exited with code {process.returncode}: "
                f"{_last_line(log_file)}",
                f"see {log_file}",
            )
        try:
            if httpx.get(state.url + "/v1/models", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    process.wait()
    raise ModelError(
        f"the model server did not answer within {timeout_s:.0f}s", f"see {log_file}"
    )


def _last_line(log_file: Path) -> str:
    try:
        lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "no log"
    return next((line for line in reversed(lines) if line.strip()), "no output")


def _reap(pid: int) -> None:
    """Collect the exit status if pid is our own child (a server started here)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
