"""The local record of every escalation: what left the machine, what came back, cost."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hybridcode.escalate.client import Usage

LEDGER_NAME = "escalations.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS escalations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,
    model TEXT NOT NULL,
    question TEXT NOT NULL,
    manifest TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    answer TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cache_creation_input_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_input_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL,
    estimate_usd REAL
);
"""


@dataclass(frozen=True)
class Entry:
    id: int
    created_at: str  # ISO 8601, UTC
    status: str  # complete | incomplete | failed
    model: str
    question: str
    manifest: dict[str, object]
    body_sha256: str
    answer: str
    error: str
    usage: Usage
    cost_usd: float | None
    estimate_usd: float | None


@dataclass(frozen=True)
class Totals:
    count: int
    usage: Usage
    cost_usd: float


class Ledger:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LEDGER_NAME

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        connection = sqlite3.connect(self.path, timeout=10)
        try:
            connection.executescript(SCHEMA)
            with connection:
                yield connection
        finally:
            connection.close()
        self.path.chmod(0o600)

    def record(
        self,
        *,
        status: str,
        model: str,
        question: str,
        manifest: dict[str, object],
        body_sha256: str,
        answer: str,
        usage: Usage,
        cost_usd: float | None,
        estimate_usd: float | None,
        error: str = "",
        now: datetime | None = None,
    ) -> int:
        """Store one escalation and return its number."""
        created = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO escalations (created_at, status, model, question, "
                "manifest, body_sha256, answer, error, input_tokens, output_tokens, "
                "cache_creation_input_tokens, cache_read_input_tokens, cost_usd, "
                "estimate_usd) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    created,
                    status,
                    model,
                    question,
                    json.dumps(manifest),
                    body_sha256,
                    answer,
                    error,
                    *usage.astuple(),
                    cost_usd,
                    estimate_usd,
                ),
            )
            return int(cursor.lastrowid or 0)

    def entries(self) -> list[Entry]:
        """Every escalation, oldest first."""
        if not self.path.exists():
            return []
        with self._connect() as db:
            rows = db.execute(f"{_SELECT} ORDER BY id").fetchall()
        return [_entry(row) for row in rows]

    def get(self, number: int) -> Entry | None:
        if not self.path.exists():
            return None
        with self._connect() as db:
            row = db.execute(f"{_SELECT} WHERE id = ?", (number,)).fetchone()
        return _entry(row) if row else None

    def spent_since(self, start: datetime) -> float:
        """USD recorded since start (for the monthly budget)."""
        if not self.path.exists():
            return 0.0
        since = start.strftime("%Y-%m-%dT%H:%M:%SZ")
        with self._connect() as db:
            row = db.execute(
                "SELECT COALESCE(SUM(cost_usd), 0) FROM escalations "
                "WHERE created_at >= ?",
                (since,),
            ).fetchone()
        return float(row[0])


def totals(entries: list[Entry]) -> Totals:
    usage = Usage()
    for entry in entries:
        usage = usage + entry.usage
    return Totals(len(entries), usage, sum(e.cost_usd or 0.0 for e in entries))


def month_start(now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


_SELECT = (
    "SELECT id, created_at, status, model, question, manifest, body_sha256, answer, "
    "error, input_tokens, output_tokens, cache_creation_input_tokens, "
    "cache_read_input_tokens, cost_usd, estimate_usd FROM escalations"
)


def _entry(row: Any) -> Entry:
    (
        number,
        created,
        status,
        model,
        question,
        manifest,
        sha,
        answer,
        error,
        inp,
        out,
        cache_w,
        cache_r,
        cost,
        estimate,
    ) = row
    return Entry(
        int(number),
        str(created),
        str(status),
        str(model),
        str(question),
        json.loads(str(manifest)),
        str(sha),
        str(answer),
        str(error),
        Usage(int(inp), int(out), int(cache_w), int(cache_r)),
        None if cost is None else float(cost),
        None if estimate is None else float(estimate),
    )
