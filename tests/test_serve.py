"""`hc serve`: a warm llama-cpp-python server on loopback that `hc complete` uses."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from fim_model import build_fim_gguf


@pytest.fixture(scope="module")
def qwen_like_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny FIM model, named so its family (Qwen2.5-Coder markers) is known."""
    folder = tmp_path_factory.mktemp("served")
    return build_fim_gguf(folder / "tiny-qwen2.5-coder-fim.gguf")


@pytest.fixture
def served(run_hc, hc_home: Path, qwen_like_model: Path) -> Iterator[dict[str, str]]:
    """Start `hc serve` on the tiny model; always stop it afterwards."""
    started = run_hc("--model", str(qwen_like_model), "serve", timeout=180)
    state_file = hc_home / "data" / "serve.json"
    try:
        assert started.returncode == 0, started.stderr
        yield {
            "url": started.stdout.strip(),
            "stderr": started.stderr,
            **json.loads(state_file.read_text()),
        }
    finally:
        run_hc("serve", "--stop")
        if state_file.exists():  # the stop failed: do not leave a server behind
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(json.loads(state_file.read_text())["pid"], signal.SIGKILL)


def test_serve_listens_on_loopback_only_and_prints_its_address(served) -> None:
    import psutil

    assert served["url"] == f"http://127.0.0.1:{served['port']}"
    listening = [
        c.laddr
        for c in psutil.Process(served["pid"]).net_connections("inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert listening and all(addr.ip == "127.0.0.1" for addr in listening)


def test_complete_uses_the_running_server_with_the_family_fim_format(
    run_hc, served, qwen_like_model: Path, tmp_path: Path
) -> None:
    (tmp_path / "geom.py").write_text("def area(w, h):\n    return \n")

    result = run_hc(
        "--model",
        str(qwen_like_model),
        "complete",
        "geom.py:2:12",
        "--json",
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["model"].endswith("@" + served["url"])
    assert data["mode"] == "fim"
    assert data["completion_tokens"] > 0


def test_second_serve_reports_the_running_one(run_hc, served, qwen_like_model) -> None:
    again = run_hc("--model", str(qwen_like_model), "serve")

    assert again.returncode == 0
    assert again.stdout.strip() == served["url"]
    assert "already running" in again.stderr


def test_stop_ends_the_server_and_forgets_it(run_hc, served, hc_home: Path) -> None:
    import psutil

    stopped = run_hc("serve", "--stop")

    assert stopped.returncode == 0
    assert "stopped" in stopped.stderr
    assert not (hc_home / "data" / "serve.json").exists()
    assert not psutil.pid_exists(served["pid"]) or (
        psutil.Process(served["pid"]).status() == psutil.STATUS_ZOMBIE
    )


def test_stop_with_nothing_running_is_fine(run_hc) -> None:
    result = run_hc("serve", "--stop")

    assert result.returncode == 0
    assert "no model server was running" in result.stderr


def test_a_stale_state_file_is_forgotten(run_hc, hc_home: Path, tmp_path: Path) -> None:
    (hc_home / "data").mkdir(parents=True)
    state = {
        "pid": 2**22 + 12345,
        "host": "127.0.0.1",
        "port": 9,
        "n_ctx": 2048,
        "model_id": "smollm2-135m",
        "model_path": "x.gguf",
        "family": "",
    }
    (hc_home / "data" / "serve.json").write_text(json.dumps(state))

    result = run_hc("serve", "--status")

    assert result.returncode == 1
    assert "no model server is running" in result.stderr
    assert not (hc_home / "data" / "serve.json").exists()


@pytest.fixture
def fake_server_process() -> Iterator[int]:
    """A process whose command line names llama_cpp.server, as a live server's does."""
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "llama_cpp.server"]
    )
    try:
        yield process.pid
    finally:
        process.kill()
        process.wait()


def test_local_commands_use_a_running_server_only_for_the_same_model(
    hc_home: Path, fake_server_process: int
) -> None:
    from hybridcode.config import Settings, load_settings, user_paths
    from hybridcode.engine.served import ServerState, served_settings, write_state

    paths = user_paths()
    write_state(
        paths,
        ServerState(
            fake_server_process, "127.0.0.1", 8123, "smollm2-135m", "x.gguf", "", 4096
        ),
    )
    same = served_settings(Settings(), paths)
    other = load_settings(hc_home, {}, {"model.id": "qwen2.5-coder-1.5b-instruct"})
    fake = load_settings(hc_home, {}, {"model.backend": "fake"})

    assert same is not None
    settings, _family = same
    assert settings.model.backend == "openai"
    assert settings.model.base_url == "http://127.0.0.1:8123"
    assert settings.model.n_ctx == 4096
    assert served_settings(other, paths) is None
    assert served_settings(fake, paths) is None


def test_configured_server_url_is_used_without_a_state_file(hc_home: Path) -> None:
    from hybridcode.config import load_settings, user_paths
    from hybridcode.engine.served import served_settings

    settings = load_settings(hc_home, {}, {"complete.server_url": "http://127.0.0.1:9"})

    served = served_settings(settings, user_paths())

    assert served is not None
    assert served[0].model.base_url == "http://127.0.0.1:9"
