"""Model engines: llama-cpp-python in-process, an OpenAI-compatible server, a fake."""

from __future__ import annotations

from pathlib import Path

from hybridcode.config import Paths, Settings
from hybridcode.engine.base import Engine
from hybridcode.errors import ConfigError


def open_engine(settings: Settings, paths: Paths, verbose: bool = False) -> Engine:
    """Build the configured engine; a local model loads on first use, not here."""
    backend = settings.model.backend
    if backend == "fake":
        from hybridcode.engine.fake import FakeEngine

        if not settings.fake.script:
            raise ConfigError("the fake backend needs fake.script (HC_FAKE_SCRIPT)")
        return FakeEngine.from_file(Path(settings.fake.script))
    if backend == "openai":
        from hybridcode.engine.openai import OpenAIEngine

        return OpenAIEngine.from_settings(settings.model)
    if backend == "llama":
        from hybridcode.engine.llama import LlamaEngine
        from hybridcode.models.cache import resolve

        model = resolve(settings.model.id, paths)
        return LlamaEngine(model.path, settings.model, name=model.id, verbose=verbose)
    raise ConfigError(f"unknown backend '{backend}'", "use llama, openai or fake")
