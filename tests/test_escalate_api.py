"""C15, C17 and their kind: API failures give one line and exit 3; limits stop sends."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import pytest
from conftest import git
from mock_anthropic import (
    OVERLOADED,
    RATE_LIMITED,
    UNAUTHORIZED,
    MockAnthropic,
    Reply,
    answer,
    status,
)

FAST = {"HC_ESCALATE_BACKOFF_S": "0.05"}


@pytest.fixture
def project(repo: Path) -> Path:
    (repo / "app.py").write_text("def handler(event):\n    return event['body']\n")
    git(repo, "add", "app.py")
    git(repo, "commit", "-qm", "init")
    return repo


def escalate(
    run_hc,
    project: Path,
    api: MockAnthropic,
    *args: str,
    env: dict[str, str] | None = None,
):
    full = {**api.env(), **FAST, **(env or {})}
    return run_hc("escalate", "--yes", *args, "why?", cwd=project, env=full, input="")


def error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("hc: error:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_c15a_overloaded_twice_then_answer(run_hc, project: Path) -> None:
    replies = [status(529, OVERLOADED), status(529, OVERLOADED), answer("Final.")]
    with MockAnthropic(*replies) as api:
        result = escalate(run_hc, project, api, env={"HC_ESCALATE_BACKOFF_S": "0.2"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Final.\n"
    times = [r.at for r in api.requests]
    assert len(times) == 3
    first, second = times[1] - times[0], times[2] - times[1]
    assert first >= 0.2 and second >= 0.4 and second > first
    assert "retrying in 0.2 s (attempt 2 of 3)" in result.stderr


def test_c15b_always_overloaded_exits_3_in_bounded_time(run_hc, project: Path) -> None:
    with MockAnthropic(status(529, OVERLOADED)) as api:
        started = time.monotonic()
        result = run_hc(
            "escalate", "--yes", "why?", cwd=project, env=api.env(), input=""
        )
        elapsed = time.monotonic() - started
    assert result.returncode == 3
    assert elapsed <= 60
    assert len(api.requests) == 3  # 1 + escalate.max_retries (2)
    line = error_line(result.stderr)
    assert "overloaded (529)" in line and "retry later" in line
    assert result.stdout == ""


def test_c15c_overloaded_inside_the_stream_is_not_an_answer(
    run_hc, project: Path
) -> None:
    with MockAnthropic(Reply("stream_error", "Partial ans")) as api:
        result = escalate(run_hc, project, api)
    assert result.returncode == 3
    assert "Partial ans" not in result.stdout
    line = error_line(result.stderr)
    assert "overloaded (overloaded_error inside the stream)" in line
    assert len(api.requests) == 3


def test_c15c_overloaded_inside_the_stream_then_retry_succeeds(
    run_hc, project: Path
) -> None:
    with MockAnthropic(Reply("stream_error", "Partial ans"), answer("Whole.")) as api:
        result = escalate(run_hc, project, api)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Whole.\n"
    assert len(api.requests) == 2
    assert api.requests[0].body == api.requests[1].body


def test_c17_timeout_is_enforced_per_request(run_hc, project: Path) -> None:
    with MockAnthropic(Reply("hang")) as api:
        started = time.monotonic()
        result = run_hc(
            "escalate",
            "--yes",
            "why?",
            cwd=project,
            env={**api.env(), "HC_ESCALATE_TIMEOUT_S": "3"},
            input="",
        )
        finished = time.monotonic()
    assert result.returncode == 3
    assert "timed out after 3 s" in error_line(result.stderr)
    assert len(api.requests) == 3
    times = [r.at for r in api.requests]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(3.0 <= gap < 5.0 for gap in gaps), gaps
    # C17's bound is 3 s x 3 + 5 s; importing the SDK on a loaded CI machine can
    # take seconds of its own, so the bound is taken from the first request.
    assert finished - api.requests[0].at <= 3 * 3 + 5
    assert finished - started <= 30


def test_wrong_key_401_is_not_retried(run_hc, project: Path) -> None:
    with MockAnthropic(status(401, UNAUTHORIZED)) as api:
        result = escalate(run_hc, project, api)
    assert result.returncode == 3
    assert "API key was rejected (401)" in error_line(result.stderr)
    assert len(api.requests) == 1
    assert "test-key" not in result.stderr


def test_429_retry_after_is_honoured_and_shown(run_hc, project: Path) -> None:
    replies = [status(429, RATE_LIMITED, {"retry-after": "1"}), answer("Done.")]
    with MockAnthropic(*replies) as api:
        result = escalate(run_hc, project, api)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Done.\n"
    assert api.requests[1].at - api.requests[0].at >= 1.0
    assert "rate limited by the API (429); retrying in 1.0 s" in result.stderr


def test_429_retry_after_over_the_cap_gives_up_at_once(run_hc, project: Path) -> None:
    with MockAnthropic(status(429, RATE_LIMITED, {"retry-after": "120"})) as api:
        result = escalate(
            run_hc, project, api, env={"HC_ESCALATE_RETRY_AFTER_CAP_S": "5"}
        )
    assert result.returncode == 3
    assert "asks to wait 120 s" in error_line(result.stderr)
    assert len(api.requests) == 1


def test_cut_stream_is_an_error_and_recorded_incomplete(run_hc, project: Path) -> None:
    with MockAnthropic(Reply("cut", "Half of the ans")) as api:
        result = escalate(run_hc, project, api)
        listing = run_hc("log", "--json")
    assert result.returncode == 3
    assert "ended before message_stop" in error_line(result.stderr)
    assert "Half of the ans" not in result.stdout
    entries = json.loads(listing.stdout)
    assert [e["status"] for e in entries] == ["incomplete"]
    assert entries[0]["answer"] == "Half of the ans"


def test_without_tty_or_yes_exits_2_naming_yes(run_hc, project: Path) -> None:
    with MockAnthropic() as api:
        result = run_hc("escalate", "why?", cwd=project, env=api.env(), input="")
    assert result.returncode == 2
    assert "--yes" in error_line(result.stderr)
    assert api.requests == []


def test_max_cost_refuses_above_the_estimate(run_hc, project: Path) -> None:
    with MockAnthropic() as api:
        result = escalate(run_hc, project, api, "--max-cost", "0.001")
    assert result.returncode == 2
    assert "--max-cost" in error_line(result.stderr)
    assert api.requests == []


def test_max_cost_above_the_estimate_sends(run_hc, project: Path) -> None:
    with MockAnthropic() as api:
        result = escalate(run_hc, project, api, "--max-cost", "1.00")
    assert result.returncode == 0, result.stderr
    assert len(api.requests) == 1


def test_monthly_budget_is_enforced_before_sending(run_hc, project: Path) -> None:
    budget = {"HC_ESCALATE_MONTHLY_BUDGET_USD": "0.10"}
    with MockAnthropic(answer(usage=(20_000, 1_000))) as api:
        first = escalate(run_hc, project, api, env=budget)
        second = escalate(run_hc, project, api, env=budget)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 2
    assert "monthly budget" in error_line(second.stderr)
    assert len(api.requests) == 1


def test_missing_key_is_a_usage_error(run_hc, project: Path) -> None:
    with MockAnthropic() as api:
        result = run_hc(
            "escalate",
            "--yes",
            "why?",
            cwd=project,
            env={"ANTHROPIC_BASE_URL": api.url},
            input="",
        )
    assert result.returncode == 2
    assert "ANTHROPIC_API_KEY" in error_line(result.stderr)
    assert api.requests == []


def test_key_from_user_config_is_used(run_hc, project: Path, hc_home: Path) -> None:
    from hybridcode.config import set_user_value, user_paths

    config = set_user_value(
        user_paths({"HC_HOME": str(hc_home)}), "escalate.api_key", "config-key"
    )
    assert config.stat().st_mode & 0o777 == 0o600
    with MockAnthropic() as api:
        result = run_hc(
            "escalate",
            "--yes",
            "why?",
            cwd=project,
            env={"ANTHROPIC_BASE_URL": api.url},
            input="",
        )
    assert result.returncode == 0, result.stderr
    headers = {k.lower(): v for k, v in api.requests[0].headers.items()}
    assert headers["x-api-key"] == "config-key"
    assert "config-key" not in result.stderr


def test_redirecting_variables_are_warned_about(run_hc, project: Path) -> None:
    with MockAnthropic() as api:
        env = {"ANTHROPIC_CUSTOM_HEADERS": "X-Team: platform"}
        result = escalate(run_hc, project, api, env=env)
    assert result.returncode == 0, result.stderr
    assert f"ANTHROPIC_BASE_URL is set: requests go to {api.url}" in result.stderr
    assert (
        "ANTHROPIC_CUSTOM_HEADERS adds headers to every request: X-Team"
        in result.stderr
    )
    sent = {k.lower() for k in api.requests[0].headers}
    assert not any(name.startswith("x-stainless") for name in sent)
    assert "traceparent" not in sent


def test_ledger_lists_and_shows_escalations(run_hc, project: Path) -> None:
    with MockAnthropic(answer("Use a queue.", usage=(1_000, 100))) as api:
        result = escalate(run_hc, project, api)
    assert result.returncode == 0, result.stderr
    listing = run_hc("log")
    assert listing.returncode == 0
    assert "#1" in listing.stdout and "why?" in listing.stdout
    assert (
        "total: 1 escalations, 1,000 input + 100 output tokens, $0.0045"
        in listing.stdout
    )
    shown = run_hc("log", "show", "1")
    assert shown.returncode == 0
    import hashlib

    digest = hashlib.sha256(api.requests[0].body).hexdigest()
    assert f"body sha256: {digest}" in shown.stdout
    assert "Use a queue." in shown.stdout
    assert "test-key" not in shown.stdout
    missing = run_hc("log", "show", "9")
    assert missing.returncode == 2


def test_unreachable_server_gives_one_line_and_exit_3(run_hc, project: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}",
        "ANTHROPIC_API_KEY": "test-key",
        **FAST,
    }
    result = run_hc("escalate", "--yes", "why?", cwd=project, env=env, input="")
    assert result.returncode == 3
    assert f"connection to http://127.0.0.1:{port}" in error_line(result.stderr)
    listing = run_hc("log", "--json")
    assert [e["status"] for e in json.loads(listing.stdout)] == ["failed"]


def test_empty_ledger(run_hc) -> None:
    result = run_hc("log")
    assert result.returncode == 0
    assert result.stdout == ""
    assert "no escalations recorded yet" in result.stderr
