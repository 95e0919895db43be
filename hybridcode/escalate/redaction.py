"""Find secrets in text about to be sent; replace each value with a numbered marker."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")

# Provider key formats detect-secrets lacks, and credentials in URLs.
KEY_PATTERNS = (
    ("Anthropic key", re.compile(r"sk-ant-[A-Za-z0-9_\-]{16,}")),
    ("Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}")),
    ("OpenAI key", re.compile(r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_\-]{32,}")),
    ("URL password", re.compile(r"(?<=://)[^\s/:@'\"]+:([^\s/@'\"]+)(?=@)")),
)

# NAME=value in env-style text: a secret-looking name with an unquoted value
# (a diff's +/-/space prefix allowed).
ENV_ASSIGNMENT = re.compile(
    r"^[+\- ]?\s*(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_.]*)\s*[=:]\s*"
    r"(?P<value>[^\s'\"#][^\s#]*)"
)
SECRET_NAME = re.compile(
    r"(KEY|SECRET|TOKEN|PASS|PWD|CREDENTIAL|AUTH|PRIVATE|DSN|SIGNATURE|SALT|COOKIE|"
    r"_URL|_URI|CONN)",
    re.IGNORECASE,
)
ENV_STYLE_SUFFIXES = (".env", ".ini", ".cfg", ".conf", ".properties", ".sh", ".bash")
ENV_STYLE_NAMES = (".env.example", ".envrc", "dockerfile", "makefile", "procfile")


MIN_REPEAT_CHARS = 6  # shorter values are too likely to occur by chance


class BlockedFile(Exception):
    """Text that may not be sent at all (a private key block)."""


@dataclass(frozen=True)
class Redaction:
    marker: int
    where: str  # "path:line" or "question"
    kind: str


@dataclass
class Redactor:
    """Numbers markers across one request; one value keeps one number everywhere."""

    redactions: list[Redaction] = field(default_factory=list)
    _known: dict[str, int] = field(default_factory=dict)

    def redact(self, text: str, where: str, line_offset: int = 0) -> str:
        """Return text with secret values replaced; BlockedFile on a private key."""
        if PRIVATE_KEY.search(text):
            raise BlockedFile(f"{where}: contains a private key block")
        lines = text.split("\n")
        found = _detect_secrets_findings(lines, where)
        for index, line in enumerate(lines):
            spans = _own_findings(line, where) + found.get(index + 1, [])
            spans += self._repeats(line)
            if spans:
                location = _location(where, line_offset + index + 1)
                lines[index] = self._replace(line, spans, location)
        return "\n".join(lines)

    def sweep(self, text: str, where: str, line_offset: int = 0) -> str:
        """Replace values found anywhere in this request that are still in text."""
        lines = text.split("\n")
        for index, line in enumerate(lines):
            spans = self._repeats(line)
            if spans:
                location = _location(where, line_offset + index + 1)
                lines[index] = self._replace(line, spans, location)
        return "\n".join(lines)

    def _repeats(self, line: str) -> list[tuple[str, str]]:
        return [
            (f"same value as [REDACTED-{number}]", value)
            for value, number in self._known.items()
            if len(value) >= MIN_REPEAT_CHARS and value in line
        ]

    def _replace(self, line: str, spans: list[tuple[str, str]], where: str) -> str:
        # Longest values first, so a value inside another is covered by the outer one.
        taken: list[tuple[int, int, str, str]] = []
        for kind, value in sorted(spans, key=lambda s: -len(s[1])):
            for match in re.finditer(re.escape(value), line) if value else ():
                start, end = match.span()
                if all(end <= a or start >= b for a, b, _, _ in taken):
                    taken.append((start, end, kind, value))
        pieces, cursor = [], 0
        for start, end, kind, value in sorted(taken):
            number = self._known.setdefault(value, len(self._known) + 1)
            self.redactions.append(Redaction(number, where, kind))
            pieces += [line[cursor:start], f"[REDACTED-{number}]"]
            cursor = end
        return "".join(pieces) + line[cursor:]


def _location(where: str, line: int) -> str:
    return where if where == "question" else f"{where}:{line}"


def _own_findings(line: str, where: str) -> list[tuple[str, str]]:
    spans = []
    for kind, pattern in KEY_PATTERNS:
        for match in pattern.finditer(line):
            spans.append((kind, match.group(match.lastindex or 0)))
    env = ENV_ASSIGNMENT.match(line)
    if env and _env_secret(env, where):
        spans.append(("env value", env["value"]))
    return spans


def _env_secret(env: re.Match[str], where: str) -> bool:
    """A secret-named, literal value in env-style text (not a number or reference)."""
    name, value = env["name"], env["value"]
    if not SECRET_NAME.search(name) or value.isdigit() or value[0] in "$%<{":
        return False
    file = PurePosixPath(where).name.lower()
    if (
        file.endswith(ENV_STYLE_SUFFIXES)
        or file in ENV_STYLE_NAMES
        or file.startswith(".env")
    ):
        return True
    # Elsewhere only the env-file form counts: NAME=value, no spaces, upper case
    # (code such as `MAX_TOKENS = 48` is not a secret).
    return (
        name.isupper()
        and "=" in env.group(0)
        and " =" not in env.group(0)
        and "= " not in env.group(0)
    )


def _detect_secrets_findings(
    lines: list[str], where: str
) -> dict[int, list[tuple[str, str]]]:
    """Run detect-secrets' plugins and filters over the text, by line number."""
    from detect_secrets.core.scan import scan_file
    from detect_secrets.settings import transient_settings

    suffix = PurePosixPath(where).suffix if where != "question" else ".txt"
    findings: dict[int, list[tuple[str, str]]] = {}
    with tempfile.TemporaryDirectory(prefix="hc-scan-") as folder:
        path = Path(folder) / f"text{suffix}"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with transient_settings(_detect_secrets_config()):
            for secret in scan_file(os.fspath(path)):
                if secret.secret_value:
                    kind = str(secret.type)
                    findings.setdefault(secret.line_number, []).append(
                        (kind, secret.secret_value)
                    )
    return findings


def _detect_secrets_config() -> dict[str, object]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    classes: list[type] = list(get_mapping_from_secret_type_to_class().values())
    plugins = [{"name": plugin.__name__} for plugin in classes]
    # An inline "pragma: allowlist secret" must not let a value through: the
    # allowlist filter is left out on purpose.
    filters = [
        {"path": f"detect_secrets.filters.heuristic.{name}"} for name in _HEURISTICS
    ]
    return {"plugins_used": plugins, "filters_used": filters}


_HEURISTICS = (
    "is_sequential_string",
    "is_potential_uuid",
    "is_likely_id_string",
    "is_templated_secret",
    "is_prefixed_with_dollar_sign",
    "is_indirect_reference",
    "is_lock_file",
    "is_not_alphanumeric_string",
    "is_swagger_file",
)
