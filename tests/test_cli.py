"""The root command: help, version, the error boundary, quiet exits."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from hybridcode import __version__

HEAVY = ("llama_cpp", "anthropic", "tree_sitter", "git", "bm25s", "detect_secrets")


def test_version_prints_version_and_exits_0(run_hc):
    result = run_hc("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"hc {__version__}"


def test_help_lists_every_command(run_hc):
    result = run_hc("--help")
    assert result.returncode == 0
    for command in ("fix", "complete", "ask", "escalate", "models", "doctor"):
        assert command in result.stdout


def test_help_imports_no_heavy_library(hc_home):
    code = (
        "import sys\n"
        "from hybridcode.cli.app import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_usage_error_exits_2_without_traceback(run_hc):
    result = run_hc("no-such-command")
    assert result.returncode == 2
    assert "Traceback" not in result.output


def test_hc_error_is_one_line_with_its_exit_code(run_hc):
    result = run_hc("models", "rm", "no-such-model")
    assert result.returncode == 2
    assert result.stderr.startswith("hc: error: unknown model 'no-such-model'")
    assert len(result.stderr.strip().splitlines()) == 1


def test_debug_env_shows_the_traceback(run_hc):
    result = run_hc("models", "rm", "no-such-model", env={"HC_DEBUG": "1"})
    assert result.returncode != 0
    assert "Traceback" in result.stderr


def test_bad_config_file_is_exit_2(run_hc, tmp_path: Path):
    (tmp_path / ".hybridcode.toml").write_text("[model]\nn_ctx = 'lots'\n")
    result = run_hc("config", "list", cwd=tmp_path)
    assert result.returncode == 2
    assert "model.n_ctx" in result.stderr
    assert "Traceback" not in result.stderr


def test_closed_pipe_exits_quietly(hc_home, tmp_path: Path):
    command = f"{sys.executable} -m hybridcode config list | head -c 1"
    done = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        env={"HC_HOME": str(hc_home), "PATH": "/usr/bin:/bin"},
    )
    assert "Traceback" not in done.stderr
    assert "BrokenPipe" not in done.stderr


def test_ctrl_c_exits_130_without_traceback(hc_home):
    process = subprocess.Popen(
        [sys.executable, "-m", "hybridcode", "config", "set", "escalate.api_key"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"HC_HOME": str(hc_home), "PATH": "/usr/bin:/bin"},
    )
    time.sleep(1.5)  # waiting for the secret on stdin
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert b"Traceback" not in err
