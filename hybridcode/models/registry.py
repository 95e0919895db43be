"""The registry of known models, read from models.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from hybridcode.errors import ConfigError, InputError


@dataclass(frozen=True)
class ModelEntry:
    id: str
    name: str
    family: str
    fim: str
    file: str
    source: str
    sha256: str
    size: int
    quantization: str
    context_length: int
    license: str
    good_for: str

    @property
    def source_kind(self) -> str:
        return self.source.split(":", 1)[0]


def load_registry(path: Path | None = None) -> dict[str, ModelEntry]:
    """Read models.toml (the packaged copy unless a path is given)."""
    try:
        if path is None:
            text = (
                resources.files("hybridcode")
                .joinpath("data/models.toml")
                .read_text(encoding="utf-8")
            )
        else:
            text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
        entries = [ModelEntry(**row) for row in data.get("model", [])]
    except (OSError, tomllib.TOMLDecodeError, TypeError) as exc:
        raise ConfigError(f"cannot read the model registry: {exc}") from exc
    return {entry.id: entry for entry in entries}


def get_entry(model_id: str, registry: dict[str, ModelEntry]) -> ModelEntry:
    """Return one registry entry or a usage error listing the known ids."""
    if model_id not in registry:
        known = ", ".join(sorted(registry))
        raise InputError(f"unknown model '{model_id}'", f"known: {known}")
    return registry[model_id]
