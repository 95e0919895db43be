"""The retrieval index: chunks of every text file, BM25 via bm25s, cached per repo.

The cache (an SQLite file plus one saved bm25s index) lives under
`<cache>/index/<hash of the root>`. Files are re-read only when their git blob
id changes: the index's blob id for clean tracked files, a hash of the bytes
(remembered by size and mtime) for modified and untracked ones.

Known shortcomings: an edit to one file re-reads only that file but rebuilds
the whole BM25 matrix (about 2 s for the 60,000 chunks of the standard library
on two busy cores; bench/ask-results.json). Symlinks are never indexed, even
ones pointing inside the repo (their targets are indexed under their own
paths). `.hcignore` is not read here yet.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sqlite3
import stat
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from hybridcode.config import AskSettings
from hybridcode.context import git
from hybridcode.context.chunking import Chunk, chunk_text, tokenize
from hybridcode.context.sourcefile import NotTextError, decode_source

log = logging.getLogger(__name__)

SCHEMA = 2
# A line longer than this marks a minified or generated file.
MAX_LINE_CHARS = 2000
LOCKFILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lockb",
        "Cargo.lock",
        "poetry.lock",
        "Pipfile.lock",
        "uv.lock",
        "pdm.lock",
        "Gemfile.lock",
        "composer.lock",
        "go.sum",
        "flake.lock",
        "packages.lock.json",
        "mix.lock",
        "pubspec.lock",
        "Podfile.lock",
    }
)
# Outside a git repo, stop walking after this many files (a home folder, say).
MAX_WALK_FILES = 20_000
# Folders never walked outside a git repo: tool state, not the user's source.
WALK_SKIP = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        "node_modules",
        ".venv",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)


@dataclass(frozen=True)
class IndexOptions:
    max_file_bytes: int = 1_000_000
    chunk_lines: int = 60
    parse_timeout_s: float = 2.0

    @classmethod
    def from_settings(cls, ask: AskSettings) -> IndexOptions:
        return cls(ask.max_file_bytes, ask.chunk_lines, ask.parse_timeout_s)

    def fingerprint(self) -> str:
        return f"{SCHEMA}:{self.max_file_bytes}:{self.chunk_lines}:{MAX_LINE_CHARS}"


@dataclass(frozen=True)
class Workspace:
    root: Path
    in_git: bool


@dataclass(frozen=True)
class Skip:
    path: str
    reason: str


@dataclass(frozen=True)
class Refresh:
    """What one refresh did: counts, files re-read, files skipped and why."""

    workspace: Workspace
    files: int
    chunks: int
    reread: tuple[str, ...]
    skipped: tuple[Skip, ...]
    plain_text: tuple[Skip, ...]  # grammar known, but parsed as plain text
    rebuilt: bool
    seconds: float


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float


@dataclass
class _FileRow:
    path: str
    blob: str
    size: int
    mtime_ns: int
    skip: str | None = None
    plain: str | None = None
    chunks: list[Chunk] | None = None  # None: unchanged, keep the stored chunks
    restat: bool = False  # unchanged content with a new size or mtime to remember


@dataclass
class _Scan:
    rows: list[_FileRow] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    reread: list[str] = field(default_factory=list)


def find_workspace(cwd: Path) -> Workspace:
    """The git work tree holding cwd, or cwd itself outside a repo."""
    root = git.find_repo(cwd)
    if root is None:
        return Workspace(cwd.resolve(), in_git=False)
    return Workspace(root.resolve(), in_git=True)


def index_dir(cache_dir: Path, root: Path) -> Path:
    """Where the index of one work tree is cached."""
    digest = hashlib.sha256(os.fsencode(root.resolve())).hexdigest()[:16]
    return cache_dir / "index" / digest


def blob_id(data: bytes) -> str:
    """The id git gives these bytes as a blob."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class RepoIndex:
    """One work tree's chunk store and BM25 index."""

    def __init__(self, workspace: Workspace, cache_dir: Path, options: IndexOptions):
        self.workspace = workspace
        self.options = options
        self.cache_dir = Path(os.path.abspath(cache_dir))
        self.folder = index_dir(cache_dir, workspace.root)
        self._db: sqlite3.Connection | None = None
        self._bm25: Any = None
        self._doc_ids: Any = None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def refresh(self) -> Refresh:
        """Bring the index up to date with the work tree; re-read changed files."""
        started = time.monotonic()
        db = self._open()
        known = {row[0]: row for row in db.execute("SELECT * FROM files")}
        scan = _Scan()
        plain: list[Skip] = []
        for rel, index_blob in self._listing(scan):
            row = self._examine(rel, index_blob, known.get(rel), scan)
            if row is not None:
                scan.rows.append(row)
                if row.plain:
                    plain.append(Skip(rel, row.plain))
        changed = self._store(db, scan.rows, set(known))
        rebuilt = self._ensure_bm25(db, changed)
        chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return Refresh(
            workspace=self.workspace,
            files=sum(1 for r in scan.rows if r.skip is None),
            chunks=chunks,
            reread=tuple(scan.reread),
            skipped=tuple(scan.skipped),
            plain_text=tuple(plain),
            rebuilt=rebuilt,
            seconds=time.monotonic() - started,
        )

    def search(self, query: str, k: int, only: Sequence[str] = ()) -> list[Hit]:
        """Return up to k chunks ranked by BM25; `only` limits them to paths."""
        import numpy as np

        if self._bm25 is None or k <= 0:
            return []
        words = list(dict.fromkeys(tokenize(query)))
        if not words:
            return []  # nothing searchable (bm25s fails on an empty query)
        mask = self._mask(only) if only else None
        scores = self._bm25.get_scores(words, weight_mask=mask)
        top = np.argsort(-scores, kind="stable")[:k]
        ranked = [
            (int(self._doc_ids[i]), float(scores[i])) for i in top if scores[i] > 0
        ]
        return self._hits(ranked)

    # -- listing and reading ------------------------------------------------

    def _listing(self, scan: _Scan) -> Iterator[tuple[str, str | None]]:
        """Yield (path, index blob id or None) for every candidate file."""
        root = self.workspace.root
        if not self.workspace.in_git:
            yield from ((rel, None) for rel in _walk(root, scan) if self._mine(rel))
            return
        submodules = git.submodule_paths(root)
        blobs = git.blob_ids(root)
        modified = _modified(root)
        for rel in git.list_files(root):
            if rel in submodules:
                scan.skipped.append(Skip(rel, "submodule"))
            elif rel.endswith("/"):
                scan.skipped.append(Skip(rel.rstrip("/"), "nested git repository"))
            elif self._mine(rel):
                yield rel, None if rel in modified else blobs.get(rel)

    def _mine(self, rel: str) -> bool:
        """False for hc's own cache, should it live inside the work tree."""
        return not (self.workspace.root / rel).is_relative_to(self.cache_dir)

    def _examine(
        self,
        rel: str,
        index_blob: str | None,
        cached: tuple[Any, ...] | None,
        scan: _Scan,
    ) -> _FileRow | None:
        """Decide whether a file is indexed, skipped or unchanged; read if needed."""
        full = self.workspace.root / rel
        reason, info = _stat_skip(self.workspace.root, full, self.options)
        if reason is not None or info is None:
            scan.skipped.append(Skip(rel, reason or "missing"))
            return None
        size, mtime = info.st_size, info.st_mtime_ns
        data: bytes | None = None
        blob = index_blob
        if blob is None and cached and (cached[2], cached[3]) == (size, mtime):
            blob = cached[1]
        if blob is None:
            data = _read(full)
            blob = blob_id(data)
        if cached is not None and cached[1] == blob:
            row = _FileRow(rel, blob, size, mtime, cached[4], cached[5])
            row.restat = (cached[2], cached[3]) != (size, mtime)
            if row.skip:
                scan.skipped.append(Skip(rel, row.skip))
            return row
        scan.reread.append(rel)
        return self._index_file(rel, blob, size, mtime, data or _read(full), scan)

    def _index_file(
        self, rel: str, blob: str, size: int, mtime: int, data: bytes, scan: _Scan
    ) -> _FileRow:
        row = _FileRow(rel, blob, size, mtime, chunks=[])
        try:
            text = decode_source(data, rel).text
        except NotTextError as exc:
            row.skip = str(exc).removeprefix(f"{rel}: ")
        else:
            longest = max(map(len, text.split("\n")), default=0)
            if longest > MAX_LINE_CHARS:
                row.skip = f"minified or generated (a line of {longest:,} characters)"
            else:
                chunked = chunk_text(
                    rel, text, self.options.chunk_lines, self.options.parse_timeout_s
                )
                row.chunks, row.plain = chunked.chunks, chunked.plain_reason
        if row.skip:
            scan.skipped.append(Skip(rel, row.skip))
        return row

    # -- storage ------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / "index.sqlite3"
        try:
            db = _connect(path, self.options.fingerprint())
        except sqlite3.DatabaseError as exc:
            log.warning("index cache %s unreadable (%s); rebuilding it", path, exc)
            path.unlink(missing_ok=True)
            db = _connect(path, self.options.fingerprint())
        self._db = db
        return db

    def _store(
        self, db: sqlite3.Connection, rows: list[_FileRow], before: set[str]
    ) -> bool:
        """Write changed files and drop vanished ones; return whether any changed."""
        gone = before - {row.path for row in rows}
        fresh = [row for row in rows if row.chunks is not None]
        with db:
            db.executemany(
                "UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?",
                [(r.size, r.mtime_ns, r.path) for r in rows if r.restat],
            )
        if not gone and not fresh:
            return False
        with db:
            for path in gone | {row.path for row in fresh}:
                db.execute("DELETE FROM chunks WHERE path = ?", (path,))
                db.execute("DELETE FROM files WHERE path = ?", (path,))
            db.executemany(
                "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?)",
                [(r.path, r.blob, r.size, r.mtime_ns, r.skip, r.plain) for r in fresh],
            )
            vocab = _Vocabulary(db)
            db.executemany(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (c.path, c.start, c.end, c.kind, c.name, c.text, vocab.ids(c))
                    for r in fresh
                    for c in r.chunks or []
                ],
            )
            vocab.save()
        return True

    def _ensure_bm25(self, db: sqlite3.Connection, changed: bool) -> bool:
        """Load the saved BM25 index for this content, or build and save it."""
        import bm25s
        import numpy as np

        generation = _generation(db)
        target = self.folder / f"bm25-{generation}"
        if (target / "doc_ids.npy").exists():
            self._bm25 = bm25s.BM25.load(target, show_progress=False)
            self._doc_ids = np.load(target / "doc_ids.npy")
            _drop_old(self.folder, target.name)
            return False
        rows = db.execute("SELECT rowid, tokens FROM chunks ORDER BY rowid").fetchall()
        if not rows:
            self._bm25 = None
            return changed
        vocab = dict(db.execute("SELECT token, id FROM vocab"))
        self._bm25, self._doc_ids = _build_bm25(target, rows, vocab)
        _drop_old(self.folder, target.name)
        return True

    def _mask(self, only: Sequence[str]) -> Any:
        import numpy as np

        db = self._open()
        wanted = {
            rowid
            for rowid, path in db.execute("SELECT rowid, path FROM chunks")
            if _under(path, only)
        }
        return np.isin(self._doc_ids, list(wanted)).astype("float32")

    def _hits(self, ranked: list[tuple[int, float]]) -> list[Hit]:
        db = self._open()
        hits = []
        for rowid, score in ranked:
            row = db.execute(
                "SELECT path, first_line, last_line, kind, name, text FROM chunks "
                "WHERE rowid = ?",
                (rowid,),
            ).fetchone()
            if row is not None:
                hits.append(Hit(Chunk(*row), score))
        return hits


def _connect(path: Path, fingerprint: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30)
    db.executescript(
        "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
        "CREATE TABLE IF NOT EXISTS files(path TEXT PRIMARY KEY, blob TEXT,"
        " size INTEGER, mtime_ns INTEGER, skip TEXT, plain TEXT);"
        "CREATE TABLE IF NOT EXISTS chunks(path TEXT, first_line INTEGER,"
        " last_line INTEGER, kind TEXT, name TEXT, text TEXT, tokens BLOB);"
        "CREATE TABLE IF NOT EXISTS vocab(token TEXT PRIMARY KEY, id INTEGER);"
        "CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path);"
    )
    found = db.execute("SELECT value FROM meta WHERE key = 'options'").fetchone()
    if found is None or found[0] != fingerprint:
        with db:
            db.execute("DELETE FROM chunks")
            db.execute("DELETE FROM files")
            db.execute("DELETE FROM vocab")
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('options', ?)", (fingerprint,)
            )
    return db


def _generation(db: sqlite3.Connection) -> str:
    digest = hashlib.sha1(str(SCHEMA).encode())
    for path, blob in db.execute("SELECT path, blob FROM files ORDER BY path"):
        digest.update(f"{path}\0{blob}\0".encode())
    return digest.hexdigest()[:16]


def _build_bm25(
    target: Path, rows: list[tuple[int, bytes]], vocab: dict[str, int]
) -> tuple[Any, Any]:
    """Build the BM25 index, save it for the next run, and return it with doc ids."""
    import numpy as np

    from hybridcode.context.bm25 import build_bm25

    docs = [np.frombuffer(tokens, dtype=np.int32) for _, tokens in rows]
    retriever = build_bm25(docs, vocab)
    scratch = target.with_name(f"{target.name}.tmp{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    retriever.save(scratch, show_progress=False)
    doc_ids = np.array([rowid for rowid, _ in rows])
    np.save(scratch / "doc_ids.npy", doc_ids)
    try:
        os.rename(scratch, target)
    except OSError:  # another hc built the same generation first
        shutil.rmtree(scratch, ignore_errors=True)
    return retriever, doc_ids


def _drop_old(folder: Path, keep: str) -> None:
    for old in folder.glob("bm25-*"):
        if old.name != keep and ".tmp" not in old.name:
            shutil.rmtree(old, ignore_errors=True)


class _Vocabulary:
    """Token ids shared by every chunk of one index; ids only ever grow."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.known: dict[str, int] = dict(db.execute("SELECT token, id FROM vocab"))
        self.added: dict[str, int] = {}

    def ids(self, chunk: Chunk) -> bytes:
        """The chunk's tokens as int32 ids; its path and name count as words too."""
        import numpy as np

        words = tokenize(chunk.path) + tokenize(chunk.name) + tokenize(chunk.text)
        known, added = self.known, self.added
        ids = []
        for word in words:
            found = known.get(word)
            if found is None:
                found = known[word] = added[word] = len(known)
            ids.append(found)
        return np.array(ids, dtype=np.int32).tobytes()

    def save(self) -> None:
        self.db.executemany("INSERT INTO vocab VALUES (?, ?)", self.added.items())
        self.added = {}


def _modified(root: Path) -> set[str]:
    """Paths whose index blob id does not describe the work tree file."""
    out = git.run_git(["ls-files", "-z", "--modified"], root)
    found = {os.fsdecode(name) for name in out.split(b"\0") if name}
    unmerged = git.run_git(["ls-files", "-z", "--unmerged"], root)
    for entry in unmerged.split(b"\0"):
        if b"\t" in entry:
            found.add(os.fsdecode(entry.split(b"\t", 1)[1]))
    return found


def _stat_skip(
    root: Path, full: Path, options: IndexOptions
) -> tuple[str | None, os.stat_result | None]:
    """A reason to skip a file known without reading it, and its lstat."""
    try:
        info = full.lstat()
    except FileNotFoundError:
        return "deleted from the work tree", None
    except OSError as exc:
        return f"cannot stat ({exc.strerror})", None
    if stat.S_ISLNK(info.st_mode):
        return _symlink_reason(root, full), None
    if stat.S_ISDIR(info.st_mode):
        return "directory (nested repository?)", None
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file", None
    if not _inside_folder(root, full.parent):
        return "reached through a symlinked folder outside the repository", None
    if full.name in LOCKFILES:
        return "lockfile (generated)", None
    if info.st_size > options.max_file_bytes:
        limit = options.max_file_bytes
        return f"too large ({info.st_size:,} bytes > {limit:,})", None
    return None, info


def _symlink_reason(root: Path, full: Path) -> str:
    """Say what a symlink points at; it is never followed when indexing."""
    try:
        target = full.resolve(strict=True)
    except FileNotFoundError:
        return "symlink, dangling"
    except (RuntimeError, OSError):
        return "symlink loop"
    if not _inside(root, target):
        return "symlink to outside the repository"
    return "symlink (its target is indexed under its own path)"


@lru_cache(maxsize=4096)
def _inside_folder(root: Path, folder: Path) -> bool:
    return _inside(root, folder)


def _inside(root: Path, path: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(root)


def _read(full: Path) -> bytes:
    fd = os.open(full, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def _walk(root: Path, scan: _Scan) -> Iterator[str]:
    """Files under a folder outside git; symlinks are listed, not followed."""
    count = 0
    for folder, dirs, files in os.walk(root, followlinks=False):
        base = Path(folder)
        for name in list(dirs):
            if name in WALK_SKIP:
                dirs.remove(name)
            elif (base / name).is_symlink():
                dirs.remove(name)
                rel = (base / name).relative_to(root).as_posix()
                scan.skipped.append(Skip(rel, _symlink_reason(root, base / name)))
        dirs.sort()
        for name in sorted(files):
            count += 1
            if count > MAX_WALK_FILES:
                scan.skipped.append(
                    Skip(
                        str(base.relative_to(root)),
                        f"stopped after {MAX_WALK_FILES:,} files",
                    )
                )
                return
            yield (base / name).relative_to(root).as_posix()


def _under(path: str, only: Sequence[str]) -> bool:
    return not only or any(
        path == prefix
        or path.startswith(prefix.rstrip("/") + "/")
        or prefix in ("", ".")
        for prefix in only
    )


def describe(refresh: Refresh) -> str:
    """One line about what a refresh did, for -v."""
    where = "repository" if refresh.workspace.in_git else "folder"
    return (
        f"indexed {refresh.files} files ({len(refresh.reread)} read) of the {where} "
        f"{refresh.workspace.root}: {refresh.chunks} chunks, "
        f"{len(refresh.skipped)} skipped, {refresh.seconds:.2f} s"
    )


def as_json(refresh: Refresh) -> dict[str, Any]:
    """The refresh as plain data for --json."""
    return {
        "root": str(refresh.workspace.root),
        "git": refresh.workspace.in_git,
        "files": refresh.files,
        "chunks": refresh.chunks,
        "read": list(refresh.reread),
        "skipped": [{"path": s.path, "reason": s.reason} for s in refresh.skipped],
        "plain_text": [
            {"path": s.path, "reason": s.reason} for s in refresh.plain_text
        ],
        "seconds": round(refresh.seconds, 3),
    }
