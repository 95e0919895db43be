"""The `hc serve` state file: which local model server runs, where, for which model.

`hc serve` writes it; local commands read it to reuse a warm model instead of
loading their own.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from hybridcode.config import Paths, Settings

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
    target = state_path(paths)
    tmp = target.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(asdict(state), handle)
    os.replace(tmp, target)


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
