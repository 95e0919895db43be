"""On a terminal: the manifest, a consent question, and a live-rendered answer."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import git
from mock_anthropic import MockAnthropic, answer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")


def run_on_pty(
    args: list[str], cwd: Path, env: dict[str, str], reply: bytes, timeout: float = 60
) -> tuple[int, str]:
    """Run hc with stdin, stdout and stderr on a pty; answer the prompt with reply."""
    master, slave = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "hybridcode", *args],
        cwd=cwd,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    seen, answered, deadline = b"", False, time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            seen += data
        if not answered and b"[y/N]" in seen:
            os.write(master, reply)
            answered = True
        if process.poll() is not None and not ready:
            break
    os.close(master)
    return process.wait(timeout=10), seen.decode("utf-8", "replace")


@pytest.fixture
def project(repo: Path, hc_home: Path) -> Path:
    (repo / "app.py").write_text("def handler(event):\n    return event\n")
    git(repo, "add", "app.py")
    return repo


def tty_env(api: MockAnthropic, hc_home: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("HC_", "ANTHROPIC_"))
    }
    return {
        **env,
        **api.env(),
        "HC_HOME": str(hc_home),
        "TERM": "xterm",
        "COLUMNS": "100",
    }


def test_consent_on_a_terminal_sends_and_renders_markdown(
    project: Path, hc_home: Path
) -> None:
    with MockAnthropic(answer("# Plan\n\n- split **billing**\n")) as api:
        code, screen = run_on_pty(
            ["escalate", "why?"], project, tty_env(api, hc_home), b"y\n"
        )
    assert code == 0, screen
    assert "escalation manifest" in screen and "[y/N]" in screen
    assert len(api.requests) == 1
    assert "split" in screen and "billing" in screen
    assert "**billing**" not in screen  # rendered, not raw Markdown


def test_declining_on_a_terminal_sends_nothing(project: Path, hc_home: Path) -> None:
    with MockAnthropic() as api:
        code, screen = run_on_pty(
            ["escalate", "why?"], project, tty_env(api, hc_home), b"n\n"
        )
    assert code == 2, screen
    assert "not sent: declined" in screen
    assert api.requests == []
