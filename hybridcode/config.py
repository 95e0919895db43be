"""Layered settings: defaults < user config < repo file < HC_* env < flags."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from hybridcode.errors import ConfigError

REPO_CONFIG_NAME = ".hybridcode.toml"
USER_CONFIG_NAME = "config.toml"

# Short environment names for the settings people change most often.
# Other names for settings, accepted in config files and by `hc config set`.
KEY_ALIASES = {
    "anthropic.api_key": "escalate.api_key",
    "anthropic.model": "escalate.model",
}

ENV_ALIASES = {
    "HC_MODEL": "model.id",
    "HC_BACKEND": "model.backend",
    "HC_BASE_URL": "model.base_url",
}


@dataclass(frozen=True)
class ModelSettings:
    id: str = "smollm2-135m"  # a registry id or a path to a .gguf file
    backend: str = "llama"  # llama | openai | fake
    base_url: str = ""  # for the openai backend
    remote_model: str = ""  # model name sent to the openai backend
    api_key: str = ""  # for the openai backend, if the server needs one
    n_ctx: int = 2048
    threads: int = 0  # 0: every core
    seed: int = 0
    gpu_layers: int = 0
    timeout_s: float = 120.0  # per HTTP request, openai backend


@dataclass(frozen=True)
class FixSettings:
    max_file_bytes: int = 1_000_000
    samples: int = 3
    sample_temperature: float = 0.8
    max_new_tokens: int = 384


@dataclass(frozen=True)
class CompleteSettings:
    deadline_ms: int = 2000
    max_lines: int = 8
    max_tokens: int = 64
    server_url: str = ""  # an `hc serve` address to use instead of loading the model


@dataclass(frozen=True)
class AskSettings:
    top_k: int = 8
    max_file_bytes: int = 1_000_000
    chunk_lines: int = 60
    parse_timeout_s: float = 2.0
    max_tokens: int = 256
    escalate_threshold: float = 0.6


@dataclass(frozen=True)
class EscalateSettings:
    model: str = "claude-sonnet-4-5"
    api_key: str = ""
    timeout_s: float = 60.0
    max_retries: int = 2
    retry_after_cap_s: float = 30.0
    backoff_s: float = 0.5  # first wait between retries; doubles each time
    max_tokens: int = 4096
    budget_tokens: int = 30_000
    monthly_budget_usd: float = 0.0  # 0: no monthly budget
    prices_file: str = ""  # overrides the built-in dated price table


@dataclass(frozen=True)
class FakeSettings:
    script: str = ""  # JSON file with scripted replies for the fake backend


@dataclass(frozen=True)
class Settings:
    model: ModelSettings = field(default_factory=ModelSettings)
    fix: FixSettings = field(default_factory=FixSettings)
    complete: CompleteSettings = field(default_factory=CompleteSettings)
    ask: AskSettings = field(default_factory=AskSettings)
    escalate: EscalateSettings = field(default_factory=EscalateSettings)
    fake: FakeSettings = field(default_factory=FakeSettings)


@dataclass(frozen=True)
class Paths:
    """Every directory hybridcode writes to; HC_HOME moves them all."""

    config_dir: Path
    cache_dir: Path
    data_dir: Path
    log_dir: Path

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"

    @property
    def user_config(self) -> Path:
        return self.config_dir / USER_CONFIG_NAME


def user_paths(env: Mapping[str, str] | None = None) -> Paths:
    """Return the user directories, under HC_HOME when it is set."""
    env = os.environ if env is None else env
    home = env.get("HC_HOME")
    if home:
        root = Path(home).expanduser()
        return Paths(root / "config", root / "cache", root / "data", root / "logs")
    import platformdirs

    return Paths(
        Path(platformdirs.user_config_dir("hybridcode")),
        Path(platformdirs.user_cache_dir("hybridcode")),
        Path(platformdirs.user_data_dir("hybridcode")),
        Path(platformdirs.user_log_dir("hybridcode")),
    )


def find_repo_config(start: Path) -> Path | None:
    """Return the nearest .hybridcode.toml at or above start, up to the repo root."""
    for folder in [start, *start.parents]:
        candidate = folder / REPO_CONFIG_NAME
        if candidate.is_file():
            return candidate
        if (folder / ".git").exists():
            return None
    return None


def load_settings(
    cwd: Path,
    env: Mapping[str, str],
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge every layer into one Settings; flags come in as dotted overrides."""
    merged: dict[str, Any] = {}
    user_file = user_paths(env).user_config
    if user_file.is_file():
        merged.update(_flatten(_read_toml(user_file)))
    repo_file = find_repo_config(cwd)
    if repo_file is not None:
        merged.update(_flatten(_read_toml(repo_file)))
    merged.update(_from_env(env))
    merged.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return _build(merged)


def known_keys() -> list[str]:
    """Return every dotted setting name."""
    return [
        f"{section.name}.{item.name}"
        for section in fields(Settings)
        for item in fields(section.default_factory())  # type: ignore[misc,operator]
    ]


def set_user_value(paths: Paths, key: str, value: str) -> Path:
    """Store one setting in the user config file (mode 600) and return its path."""
    import tomli_w

    key = KEY_ALIASES.get(key, key)
    if key not in known_keys():
        raise ConfigError(f"unknown setting '{key}'", "see `hc config list`")
    _coerce(key, value)
    data = _read_toml(paths.user_config) if paths.user_config.is_file() else {}
    section, name = key.split(".", 1)
    data.setdefault(section, {})[name] = value
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    tmp = paths.user_config.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        tomli_w.dump(data, handle)
    os.replace(tmp, paths.user_config)
    os.chmod(paths.user_config, 0o600)
    return paths.user_config


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from exc


def _flatten(data: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for section, values in data.items():
        if not isinstance(values, Mapping):
            raise ConfigError(f"config: '{section}' must be a table like [{section}]")
        for name, value in values.items():
            key = f"{section}.{name}"
            flat[KEY_ALIASES.get(key, key)] = value
    return flat


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key in known_keys():
        name = "HC_" + key.replace(".", "_").upper()
        if name in env:
            found[key] = env[name]
    for name, key in ENV_ALIASES.items():
        if env.get(name):
            found[key] = env[name]
    return found


def _build(flat: Mapping[str, Any]) -> Settings:
    unknown = sorted(set(flat) - set(known_keys()))
    if unknown:
        raise ConfigError(f"unknown setting '{unknown[0]}'", "see `hc config list`")
    sections: dict[str, Any] = {}
    for section in fields(Settings):
        default = section.default_factory()  # type: ignore[misc,operator]
        changes = {
            item.name: _coerce(f"{section.name}.{item.name}", flat[key])
            for item in fields(default)
            if (key := f"{section.name}.{item.name}") in flat
        }
        sections[section.name] = dataclasses.replace(default, **changes)
    return Settings(**sections)


def _coerce(key: str, value: Any) -> Any:
    section, name = key.split(".", 1)
    kind = type(getattr(getattr(Settings(), section), name))
    try:
        if kind is bool and isinstance(value, str):
            if value.lower() not in {"1", "0", "true", "false", "yes", "no"}:
                raise ValueError(value)
            return value.lower() in {"1", "true", "yes"}
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"setting '{key}' must be {kind.__name__}, got {value!r}"
        ) from None
