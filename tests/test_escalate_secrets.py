"""C14 and its kind: exclusion before anything else, redaction of what is sent."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from conftest import git
from mock_anthropic import MockAnthropic

CANARIES = (
    "sk-ant-api03-FAKE",
    "Pa55w0rd-CANARY",
    "CANARY0SECRET0KEY",
    "BEGIN OPENSSH PRIVATE KEY",
    "b3BlbnNzaC1rZXkt",
)
QUESTION = "why does settings loading fail?"


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def plant_c14(repo: Path) -> None:
    write(
        repo,
        ".env",
        "ANTHROPIC_API_KEY=sk-ant-api03-FAKEFAKEFAKE0000000000000000000000000000\n"
        "DB_URL=postgres://app:Pa55w0rd-CANARY@db.internal:5432/app\n",
    )
    write(
        repo,
        "settings.py",
        'AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/CANARY0SECRET0KEY"\n'
        "DEBUG = True\n",
    )
    write(
        repo,
        "id_rsa",
        "-----BEGIN OPENSSH PRIVATE KEY-----\n"
        "b3BlbnNzaC1rZXktdjEAAAAACANARY\n-----END OPENSSH PRIVATE KEY-----\n",
    )
    write(repo, ".gitignore", ".env\nid_rsa\n")
    git(repo, "add", ".gitignore", "settings.py")
    git(repo, "commit", "-qm", "init")


def dry_run_body(run_hc, repo: Path, *args: str) -> tuple[bytes, str]:
    result = run_hc("escalate", "--dry-run", *args, cwd=repo, input="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("\n")
    return result.stdout[:-1].encode("utf-8"), result.stderr


def prompt_of(body: bytes) -> str:
    return json.loads(body)["messages"][0]["content"]


def test_c14_no_planted_secret_reaches_the_server(run_hc, repo: Path) -> None:
    plant_c14(repo)
    shown, _ = dry_run_body(run_hc, repo, QUESTION)
    with MockAnthropic() as api:
        result = run_hc(
            "escalate", "--yes", QUESTION, cwd=repo, env=api.env(), input=""
        )
    assert result.returncode == 0, result.stderr
    assert len(api.requests) == 1
    sent = api.requests[0]
    for canary in CANARIES:
        assert canary.encode() not in sent.body
        assert canary.encode() not in shown
        assert all(canary not in value for value in sent.headers.values())
    assert b"settings.py" in sent.body and b"[REDACTED-1]" in sent.body
    assert "redacted  1 value" in result.stderr
    assert {k.lower(): v for k, v in sent.headers.items()}["x-api-key"] == "test-key"
    assert b"test-key" not in sent.body
    assert "test-key" not in result.stderr + result.stdout
    assert result.stdout == "The answer.\n"


def test_dry_run_prints_exactly_the_body_that_is_sent(run_hc, repo: Path) -> None:
    plant_c14(repo)
    write(repo, "loader.py", "def load_settings(path):\n    return open(path).read()\n")
    git(repo, "add", "loader.py")
    shown, stderr = dry_run_body(run_hc, repo, "-f", "loader.py", QUESTION)
    with MockAnthropic() as api:
        result = run_hc(
            "escalate",
            "-y",
            "-f",
            "loader.py",
            QUESTION,
            cwd=repo,
            env=api.env(),
            input="",
        )
    assert result.returncode == 0, result.stderr
    digest = hashlib.sha256(api.requests[0].body).hexdigest()
    assert digest == hashlib.sha256(shown).hexdigest()
    assert f"sha256 {digest}" in stderr


def test_dry_run_sends_nothing_and_needs_no_key(run_hc, repo: Path) -> None:
    plant_c14(repo)
    with MockAnthropic() as api:
        env = {"ANTHROPIC_BASE_URL": api.url}
        result = run_hc("escalate", "--dry-run", QUESTION, cwd=repo, env=env, input="")
    assert result.returncode == 0, result.stderr
    assert api.requests == []
    assert json.loads(result.stdout)["model"]


def test_env_example_is_sent_but_env_local_is_not(run_hc, repo: Path) -> None:
    write(
        repo,
        ".env.example",
        "DATABASE_URL=postgres://user:changeme@localhost/db\n"
        "SETTINGS_MODE=development\n",
    )
    write(repo, ".env.local", "SETTINGS_MODE=LOCALCANARY\n")
    write(repo, "settings.py", "import os\nMODE = os.environ['SETTINGS_MODE']\n")
    body, stderr = dry_run_body(
        run_hc, repo, "-f", ".env.example", "which settings mode do we use?"
    )
    prompt = prompt_of(body)
    assert '<file path=".env.example"' in prompt
    assert "SETTINGS_MODE=development" in prompt
    assert "changeme" not in prompt  # the URL password is redacted even here
    assert "LOCALCANARY" not in prompt
    assert ".env.local (always denied" in stderr


def test_named_denied_file_is_refused_with_exit_2(run_hc, repo: Path) -> None:
    write(repo, ".env.local", "TOKEN=LOCALCANARY\n")
    result = run_hc(
        "escalate", "--dry-run", "-f", ".env.local", "x", cwd=repo, input=""
    )
    assert result.returncode == 2
    assert "refusing to send .env.local: always denied" in result.stderr
    assert "LOCALCANARY" not in result.stdout
    assert "Traceback" not in result.stderr


def test_symlink_pointing_outside_the_repo_is_excluded(
    run_hc, repo: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("def settings_loader():\n    return 'OUTSIDECANARY'\n")
    os.symlink(outside, repo / "linked.py")
    write(repo, "settings.py", "def settings_loader():\n    return {}\n")
    body, stderr = dry_run_body(run_hc, repo, "where is the settings loader?")
    assert "OUTSIDECANARY" not in body.decode()
    assert "linked.py (resolves outside the repo)" in stderr
    refused = run_hc(
        "escalate", "--dry-run", "-f", "linked.py", "x", cwd=repo, input=""
    )
    assert refused.returncode == 2
    assert "outside the repo" in refused.stderr


@pytest.mark.parametrize(
    "line",
    [
        'ANTHROPIC = "sk-ant-api03-Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LzXcVbNm"',
        'HF = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"',
        'GOOGLE = "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"',
        "STRIPE = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'",
        "token = 'ghp_Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LzXcVb'",
    ],
    ids=["anthropic", "huggingface", "google", "stripe", "github"],
)
def test_provider_keys_are_replaced_by_markers(run_hc, repo: Path, line: str) -> None:
    secret = line.split("=", 1)[1].strip().strip("'\"")
    write(repo, "keys.py", f"# provider keys for the client\n{line}\n")
    body, stderr = dry_run_body(run_hc, repo, "-f", "keys.py", "which keys exist?")
    assert secret not in body.decode()
    assert "[REDACTED-1]" in prompt_of(body)
    assert "keys.py:2" in stderr


def test_unquoted_env_style_values_are_redacted(run_hc, repo: Path) -> None:
    write(
        repo,
        "deploy/app.conf",
        "API_TOKEN=plainCANARYvalue\nWORKERS=4\nexport DB_PASSWORD=hunterCANARY\n",
    )
    body, stderr = dry_run_body(run_hc, repo, "-f", "deploy/app.conf", "x")
    prompt = prompt_of(body)
    assert "CANARY" not in prompt
    assert "WORKERS=4" in prompt
    assert "redacted  2 values" in stderr


def test_private_key_block_blocks_the_whole_file(run_hc, repo: Path) -> None:
    write(
        repo,
        "docs/setup.md",
        "# Setup settings\nUse this key:\n"
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAKEYCANARY\n"
        "-----END RSA PRIVATE KEY-----\nsettings done\n",
    )
    write(repo, "settings.py", "def setup_settings():\n    pass\n")
    body, stderr = dry_run_body(run_hc, repo, "how do we setup settings?")
    assert "KEYCANARY" not in body.decode()
    assert "Setup settings" not in body.decode()
    assert "docs/setup.md (contains a private key block)" in stderr
    refused = run_hc(
        "escalate", "--dry-run", "-f", "docs/setup.md", "x", cwd=repo, input=""
    )
    assert refused.returncode == 2
    assert "private key" in refused.stderr


def test_hcignore_patterns_are_excluded(run_hc, repo: Path) -> None:
    write(repo, ".hcignore", "internal/\n")
    write(repo, "internal/settings.py", "SETTINGS = 'HCIGNORECANARY'\n")
    write(repo, "settings.py", "SETTINGS = {}\n")
    body, stderr = dry_run_body(run_hc, repo, "where are settings defined?")
    assert "HCIGNORECANARY" not in body.decode()
    assert "internal/settings.py (matches .hcignore)" in stderr


def test_named_line_range_sends_only_those_lines(run_hc, repo: Path) -> None:
    write(repo, "big.py", "".join(f"line_{n} = {n}\n" for n in range(1, 101)))
    body, stderr = dry_run_body(run_hc, repo, "-f", "big.py:10-12", "what is this?")
    prompt = prompt_of(body)
    assert (
        '<file path="big.py" lines="10-12">\nline_10 = 10\nline_11 = 11\n'
        "line_12 = 12\n</file>" in prompt
    )
    assert "line_13 = 13" not in prompt.split("</file>")[0].split("<file")[1]
    assert "file      big.py:10-12" in stderr


def test_binary_files_never_enter(run_hc, repo: Path) -> None:
    (repo / "blob.bin").write_bytes(b"settings\x00\xff" * 50)
    write(repo, "settings.py", "SETTINGS = {}\n")
    body, stderr = dry_run_body(run_hc, repo, "where are settings?")
    assert "\\u0000" not in body.decode() and "\ufffd" not in body.decode()
    assert "blob.bin (binary" in stderr
