"""Find the code most relevant to the question among files already cleared to send.

The ask index (BM25, cached per repo) ranks when it is available; a simple word
overlap over the same texts is the fallback. Either way the text sent comes from
the vetted texts, never from the index's copy.
"""

from __future__ import annotations

import logging
import math
import re
import sqlite3
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hybridcode.errors import HcError

log = logging.getLogger(__name__)

WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*|\d+")
CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+")
STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for",
    "from", "how", "i", "if", "in", "is", "it", "of", "on", "or", "our", "should",
    "so", "that", "the", "this", "to", "up", "us", "we", "what", "when", "where",
    "which", "who", "why", "will", "with", "you", "your",
})  # fmt: skip


@dataclass(frozen=True)
class Chunk:
    path: str
    start: int  # 1-based first line
    end: int  # 1-based last line, inclusive
    text: str
    score: float


def terms(text: str) -> list[str]:
    """Lowercase word parts: snake_case and camelCase split, stop words dropped."""
    found = []
    for word in WORD.findall(text):
        for part in CAMEL.findall(word) or [word]:
            lower = part.lower()
            if len(lower) > 1 and lower not in STOP_WORDS:
                found.append(lower)
    return found


def retrieve(
    root: Path,
    texts: Mapping[str, str],
    question: str,
    limit: int,
    chunk_lines: int,
    max_file_bytes: int,
    cache_dir: Path | None,
) -> list[Chunk]:
    """Return up to `limit` chunks of texts for the question, best first."""
    if cache_dir is not None and texts:
        try:
            return _from_index(
                root, texts, question, limit, chunk_lines, max_file_bytes, cache_dir
            )
        except (HcError, OSError, sqlite3.Error, ImportError) as exc:
            log.info("index unavailable, ranking by word overlap: %s", exc)
    return overlap(texts, question, limit, chunk_lines)


def _from_index(
    root: Path,
    texts: Mapping[str, str],
    question: str,
    limit: int,
    chunk_lines: int,
    max_file_bytes: int,
    cache_dir: Path,
) -> list[Chunk]:
    from hybridcode.context.chunking import tokenize
    from hybridcode.context.index import IndexOptions, RepoIndex, find_workspace

    if not tokenize(question):
        return []  # the index's search fails on a query with no words
    workspace = find_workspace(root)
    index = RepoIndex(
        workspace,
        cache_dir,
        IndexOptions(max_file_bytes=max_file_bytes, chunk_lines=chunk_lines),
    )
    try:
        index.refresh()
        hits = index.search(question, limit, only=sorted(texts))
    finally:
        index.close()
    found = []
    for hit in hits:
        chunk = hit.chunk
        if chunk.path not in texts:
            continue
        lines = texts[chunk.path].split("\n")[chunk.start - 1 : chunk.end]
        found.append(
            Chunk(
                chunk.path,
                chunk.start,
                chunk.start + len(lines) - 1,
                "\n".join(lines),
                round(hit.score, 4),
            )
        )
    return found


def overlap(
    texts: Mapping[str, str], question: str, limit: int, chunk_lines: int
) -> list[Chunk]:
    """Rank line windows by weighted word overlap with the question."""
    wanted = set(terms(question))
    if not wanted or limit <= 0:
        return []
    windows = [
        w for path, text in texts.items() for w in _windows(path, text, chunk_lines)
    ]
    counts = [(w, Counter(terms(w[3])), set(terms(w[0]))) for w in windows]
    frequency = Counter(t for _, c, _ in counts for t in set(c) & wanted)
    scored = []
    for (path, start, end, text), found, path_terms in counts:
        score = sum(
            _idf(len(counts), frequency[t]) * (1 + math.log(found[t]))
            for t in wanted
            if found[t]
        )
        score += 2.0 * len(wanted & path_terms)
        if score > 0:
            scored.append(Chunk(path, start, end, text, round(score, 4)))
    scored.sort(key=lambda c: (-c.score, c.path, c.start))
    return scored[:limit]


def _idf(total: int, containing: int) -> float:
    return math.log(1 + (total - containing + 0.5) / (containing + 0.5))


def _windows(path: str, text: str, size: int) -> list[tuple[str, int, int, str]]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [
        (
            path,
            start + 1,
            min(start + size, len(lines)),
            "\n".join(lines[start : start + size]),
        )
        for start in range(0, len(lines), size)
    ]
