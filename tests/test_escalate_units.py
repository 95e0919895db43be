"""Exclusion rules, redaction markers, prices and limits, without a subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridcode.errors import ConfigError, ConsentRequired
from hybridcode.escalate.exclusion import denied_reason
from hybridcode.escalate.packaging import FileSpec, parse_file_spec
from hybridcode.escalate.policy import CostEstimate, NotSent, check_limits, needs_prompt
from hybridcode.escalate.prices import load_prices
from hybridcode.escalate.redaction import BlockedFile, Redactor


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".env.local",
        "web/.env.production",
        "id_rsa",
        "id_ed25519.pub",
        "certs/server.pem",
        "tls.key",
        "client.p12",
        ".npmrc",
        ".pypirc",
        ".netrc",
        "gcp/credentials.json",
        "client_secret_123.json",
        "infra/terraform.tfstate",
        "infra/terraform.tfstate.backup",
        ".aws/config",
        "home/.ssh/known_hosts",
    ],
)
def test_always_denied_paths(path: str) -> None:
    assert denied_reason(path) is not None


@pytest.mark.parametrize(
    "path",
    [
        ".env.example",
        "src/environment.py",
        "keys.py",
        "docs/identity.md",
        "package.json",
        "settings.json",
    ],
)
def test_ordinary_paths_are_not_denied(path: str) -> None:
    assert denied_reason(path) is None


def test_markers_are_numbered_across_one_request() -> None:
    redactor = Redactor()
    first = redactor.redact('password = "s3cr3t-Value-1"\nok = 1\n', "a.py")
    second = redactor.redact("export API_KEY=abcDEF123\n", "run.sh", line_offset=9)
    assert first == 'password = "[REDACTED-1]"\nok = 1\n'
    assert second == "export API_KEY=[REDACTED-2]\n"
    assert [(r.marker, r.where) for r in redactor.redactions] == [
        (1, "a.py:1"),
        (2, "run.sh:10"),
    ]


def test_a_value_inside_a_longer_one_gets_one_marker() -> None:
    redactor = Redactor()
    text = redactor.redact("DB=postgres://u:p4ssw0rdXYZ@h/db\n", "x.env")
    assert "p4ssw0rdXYZ" not in text
    assert text.count("[REDACTED-") == 1


def test_private_key_blocks_the_text() -> None:
    with pytest.raises(BlockedFile):
        Redactor().redact("-----BEGIN EC PRIVATE KEY-----\nabc\n", "k.txt")


def test_plain_code_is_left_alone() -> None:
    code = "def load(path):\n    token = read_token(path)\n    return token\n"
    redactor = Redactor()
    assert redactor.redact(code, "load.py") == code
    assert redactor.redactions == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a.py", FileSpec("a.py")),
        ("a.py:10-80", FileSpec("a.py", 10, 80)),
        ("a.py:7", FileSpec("a.py", 7, 7)),
        ("C:/x.py", FileSpec("C:/x.py")),
    ],
    ids=["whole", "range", "one-line", "colon-in-name"],
)
def test_file_specs(text: str, expected: FileSpec) -> None:
    assert parse_file_spec(text) == expected


def test_price_file_overrides_the_builtin_table(tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(
        'as_of = "2027-01-01"\n[models.claude-sonnet-4-5]\ninput = 1.0\noutput = 2.0\n'
    )
    price = load_prices(str(prices)).price("claude-sonnet-4-5-20250929")
    assert price is not None and price.as_of == "2027-01-01"
    assert price.cost(1_000_000, 1_000_000) == pytest.approx(3.0)
    assert load_prices("").price("claude-sonnet-4-5") is not None
    assert load_prices("").price("some-other-model") is None


def test_unreadable_price_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "prices.toml"
    bad.write_text("[models.x]\ninput = 'cheap'\n")
    with pytest.raises(ConfigError):
        load_prices(str(bad))


def test_limits_refuse_unknown_prices_only_when_a_limit_is_set() -> None:
    unknown = CostEstimate(None, None, None)
    check_limits(unknown, "m", None, 0.0, 0.0)
    with pytest.raises(NotSent, match="no price known"):
        check_limits(unknown, "m", 1.0, 0.0, 0.0)


def test_consent_needs_a_terminal_or_yes() -> None:
    assert needs_prompt(yes=True, interactive=False) is False
    assert needs_prompt(yes=False, interactive=True) is True
    with pytest.raises(ConsentRequired, match="--yes"):
        needs_prompt(yes=False, interactive=False)


def test_a_value_found_once_is_removed_everywhere() -> None:
    redactor = Redactor()
    note = redactor.redact("# rotate Zx9Qw8Er7Ty6Ui5Op4 next week\n", "notes.md")
    config = redactor.redact('password = "Zx9Qw8Er7Ty6Ui5Op4"\n', "conf.py")
    note = redactor.sweep(note, "notes.md")
    assert "Zx9Qw8Er7Ty6Ui5Op4" not in note + config
    assert note == "# rotate [REDACTED-1] next week\n"
    assert [(r.marker, r.where) for r in redactor.redactions] == [
        (1, "conf.py:1"),
        (1, "notes.md:1"),
    ]


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ("MIN_REPLY_TOKENS = 48", "fix.py"),
        ("TOKEN=$GITHUB_TOKEN", "ci.sh"),
        ("SECRET_KEY = load_key()", "settings.py"),
        ("API_KEY=${API_KEY}", ".env.example"),
    ],
    ids=["code-constant", "shell-reference", "code-call", "template"],
)
def test_env_rule_leaves_code_and_references_alone(line: str, where: str) -> None:
    assert Redactor().redact(line, where) == line
