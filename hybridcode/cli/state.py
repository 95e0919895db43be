"""Per-invocation state shared by every command: settings, paths, engine, consoles."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from hybridcode.config import Paths, Settings, load_settings, user_paths

if TYPE_CHECKING:
    from hybridcode.engine.base import Engine


@dataclass
class AppState:
    verbosity: int = 0  # -1 quiet, 0 normal, 1 info, 2 debug
    cwd: Path = field(default_factory=Path.cwd)
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    overrides: dict[str, Any] = field(default_factory=dict)
    _settings: Settings | None = None
    _engine: Engine | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.cwd, self.env, self.overrides)
        return self._settings

    @property
    def paths(self) -> Paths:
        return user_paths(self.env)

    @property
    def debug(self) -> bool:
        return self.verbosity >= 2 or self.env.get("HC_DEBUG") == "1"

    @property
    def err(self) -> Console:
        return stderr_console(self.env)

    @property
    def out(self) -> Console:
        return stdout_console(self.env)

    def engine(self) -> Engine:
        """Open the configured engine once; the model itself loads on first use."""
        if self._engine is None:
            from hybridcode.engine import open_engine
            from hybridcode.engine.served import served_settings

            # A running `hc serve` for the same model saves every command the load.
            served = served_settings(self.settings, self.paths)
            settings = served[0] if served is not None else self.settings
            self._engine = open_engine(settings, self.paths, self.debug)
        return self._engine

    def say(self, message: str) -> None:
        """Print a status line on stderr unless -q."""
        if self.verbosity >= 0:
            self.err.print(message, markup=False, highlight=False)

    def warn(self, message: str) -> None:
        """Print a warning on stderr, even with -q."""
        self.err.print(f"hc: warning: {message}", markup=False, highlight=False)


def get_state(ctx: typer.Context) -> AppState:
    """Return the AppState the root callback stored on the context."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    return root.obj


def stderr_console(env: Mapping[str, str]) -> Console:
    return Console(
        stderr=True, no_color="NO_COLOR" in env, highlight=False, soft_wrap=True
    )


def stdout_console(env: Mapping[str, str]) -> Console:
    return Console(no_color="NO_COLOR" in env, highlight=False, soft_wrap=True)


def setup_logging(verbosity: int) -> None:
    level = {2: logging.DEBUG, 1: logging.INFO}.get(min(verbosity, 2), logging.WARNING)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("hc: %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("hybridcode")
    root.handlers[:] = [handler]
    root.setLevel(level)
