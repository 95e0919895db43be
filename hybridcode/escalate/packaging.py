"""Package the question and its context into the exact request body to be sent."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from hybridcode.context.git import find_repo, head_state, list_files, run_git
from hybridcode.context.sourcefile import NotTextError, read_source
from hybridcode.errors import InputError
from hybridcode.escalate.exclusion import Exclusion, select
from hybridcode.escalate.redaction import PRIVATE_KEY, Redaction, Redactor
from hybridcode.escalate.repomap import build_map
from hybridcode.escalate.retrieval import retrieve

SYSTEM_PROMPT = (
    "You are a senior software engineer advising on a code repository. A local "
    "tool packaged the context below: project notes, a map of definitions, code "
    "relevant to the question, files the user chose, and uncommitted changes. "
    "Answer the question at the end directly and concretely; cite code as "
    "path:line. Text shown as [REDACTED-n] is a secret value that was removed "
    "before sending."
)
# Share of the context budget each part may use; retrieved chunks take the rest.
SHARES = {"file": 0.45, "diff": 0.20, "notes": 0.05, "map": 0.10}
NOTE_FILES = ("AGENTS.md",)
README_NAMES = ("README.md", "README.rst", "README.txt", "README")
README_HEAD_LINES = 60
CHUNK_CANDIDATES = 3  # times ask.top_k: the frontier model can use more context
MINIFIED_LINE_CHARS = 1000
CHARS_PER_TOKEN = 3  # conservative for code: over-estimating protects the budget
FILE_SPEC = re.compile(r"^(?P<path>.+?):(?P<start>\d+)(?:-(?P<end>\d+))?$")


@dataclass(frozen=True)
class FileSpec:
    path: str
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class EscalateRequest:
    cwd: Path
    question: str
    model: str
    max_tokens: int
    budget_tokens: int
    files: tuple[FileSpec, ...] = ()
    diff: bool = False
    top_k: int = 8
    chunk_lines: int = 60
    max_file_bytes: int = 1_000_000
    cache_dir: Path | None = None  # the ask index's cache; None: simple ranking


@dataclass(frozen=True)
class Piece:
    kind: str  # notes | map | chunk | file | diff
    path: str
    start: int
    end: int
    text: str
    note: str = ""
    label: str = ""  # for a diff: staged or unstaged

    @property
    def where(self) -> str:
        if self.path:
            return f"{self.path}:{self.start}-{self.end}"
        return f"{self.label}: {self.end} lines" if self.label else f"{self.end} lines"


@dataclass(frozen=True)
class Package:
    """What would leave the machine: the manifest and the exact body bytes."""

    root: Path
    head: str
    model: str
    max_tokens: int
    pieces: tuple[Piece, ...]
    excluded: tuple[Exclusion, ...]
    redactions: tuple[Redaction, ...]
    input_tokens: int
    body: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    def manifest(self) -> dict[str, object]:
        """A JSON-ready description of the package, for the ledger."""
        return {
            "repo": str(self.root),
            "head": self.head,
            "model": self.model,
            "pieces": [
                {
                    "kind": p.kind,
                    "label": p.label,
                    "path": p.path,
                    "start": p.start,
                    "end": p.end,
                    "note": p.note,
                }
                for p in self.pieces
            ],
            "excluded": [{"path": e.path, "reason": e.reason} for e in self.excluded],
            "redactions": [
                {"marker": r.marker, "where": r.where, "kind": r.kind}
                for r in self.redactions
            ],
            "input_tokens_estimate": self.input_tokens,
            "max_output_tokens": self.max_tokens,
            "body_bytes": len(self.body),
            "body_sha256": self.sha256,
        }


def estimate_tokens(text: str) -> int:
    """A local, conservative token estimate; nothing is sent to count tokens."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def parse_file_spec(text: str) -> FileSpec:
    """Read `path` or `path:START-END` (1-based, inclusive)."""
    match = FILE_SPEC.match(text)
    if not match:
        return FileSpec(text)
    start = int(match["start"])
    end = int(match["end"]) if match["end"] else start
    if start < 1 or end < start:
        raise InputError(f"bad line range in '{text}'", "use path:START-END, 1-based")
    return FileSpec(match["path"], start, end)


@dataclass
class _Budget:
    left: int

    def take(self, limit: int, text: str) -> bool:
        cost = estimate_tokens(text)
        if cost > min(limit, self.left):
            return False
        self.left -= cost
        return True


@dataclass
class _Builder:
    request: EscalateRequest
    root: Path
    budget: _Budget
    excluded: list[Exclusion] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)

    def share(self, part: str) -> int:
        return int(self.request.budget_tokens * SHARES[part])


def build_package(request: EscalateRequest) -> Package:
    """Select, read, budget and redact the context; render the request body."""
    if not request.question.strip():
        raise InputError("the question is empty", 'hc escalate "your question"')
    root = find_repo(request.cwd)
    if root is None:
        raise InputError("not inside a git repository", "run hc escalate in a repo")
    overhead = estimate_tokens(SYSTEM_PROMPT + request.question) + 200
    if overhead > request.budget_tokens:
        raise InputError(
            f"the question alone needs ≈{overhead:,} tokens, over the "
            f"{request.budget_tokens:,}-token budget",
            "raise --budget-tokens",
        )
    builder = _Builder(request, root, _Budget(request.budget_tokens - overhead))
    files = _named_files(builder)
    diff = _diff(builder) if request.diff else []
    notes = _notes(builder)
    chunks = _chunks(builder, files)
    repo_map = _repo_map(builder, chunks)
    pieces = [*notes, *repo_map, *chunks, *files, *diff]
    return _render(builder, pieces)


def _named_files(builder: _Builder) -> list[Piece]:
    request, root = builder.request, builder.root
    relpaths = [_repo_relative(root, request.cwd, spec.path) for spec in request.files]
    selection = select(root, relpaths)
    if selection.excluded:
        first = selection.excluded[0]
        raise InputError(f"refusing to send {first.path}: {first.reason}")
    pieces = []
    for spec, rel in zip(request.files, relpaths, strict=True):
        text = _read(builder, rel, strict=True)
        assert text is not None
        pieces.append(_fit_file(builder, spec, rel, text))
    return pieces


def _repo_relative(root: Path, cwd: Path, name: str) -> str:
    """A -f path relative to cwd, or to the repo root as `hc ask` prints them."""
    base_dir = cwd
    if not os.path.lexists(cwd / name) and os.path.lexists(root / name):
        base_dir = root
    absolute = Path(os.path.normpath((base_dir / name).absolute()))
    for base in (root, root.resolve()):
        if absolute.is_relative_to(base) and absolute != base:
            return absolute.relative_to(base).as_posix()
    raise InputError(f"refusing to send {name}: outside the repo")


def _fit_file(builder: _Builder, spec: FileSpec, rel: str, text: str) -> Piece:
    lines = _lines(text)
    start = spec.start or 1
    end = min(spec.end or len(lines), len(lines))
    if start > max(len(lines), 1):
        raise InputError(f"{rel} has {len(lines)} lines; cannot send from line {start}")
    wanted = lines[start - 1 : end]
    kept = _fit_lines(wanted, builder, builder.share("file"))
    if not kept and wanted:
        raise InputError(
            f"{rel}:{start}-{end} does not fit the token budget",
            "name a line range or raise --budget-tokens",
        )
    note = "" if len(kept) == len(wanted) else f"cut to budget (asked {start}-{end})"
    return Piece(
        "file", rel, start, start + max(len(kept), 1) - 1, "\n".join(kept), note
    )


def _fit_lines(lines: list[str], builder: _Builder, limit: int) -> list[str]:
    """The longest head of lines that fits both the part's limit and the budget."""
    allowed = min(limit, builder.budget.left) * CHARS_PER_TOKEN
    kept, used = [], 0
    for line in lines:
        used += len(line) + 1
        if used > allowed:
            break
        kept.append(line)
    builder.budget.left -= estimate_tokens("\n".join(kept))
    return kept


def _diff(builder: _Builder) -> list[Piece]:
    root, pieces = builder.root, []
    for label, extra in (("staged", ["--cached"]), ("unstaged", [])):
        out = run_git(["diff", *extra, "--name-only", "-z"], root)
        changed = [os.fsdecode(n) for n in out.split(b"\0") if n]
        selection = select(root, changed, require_file=False)
        builder.excluded.extend(selection.excluded)
        if not selection.allowed:
            continue
        command = ["diff", *extra, "--no-color", "--no-ext-diff", "--no-textconv"]
        out = run_git([*command, "--", *selection.allowed], root)
        text = _drop_key_sections(builder, out.decode("utf-8", "replace"))
        if not text.strip():
            continue
        lines = _lines(text)
        kept = _fit_lines(lines, builder, builder.share("diff") // 2)
        note = ", ".join(selection.allowed)
        if len(kept) < len(lines):
            note += f"; cut to budget at {len(kept)} of {len(lines)} lines"
        pieces.append(Piece("diff", "", 1, len(kept), "\n".join(kept), note, label))
    return pieces


def _drop_key_sections(builder: _Builder, diff: str) -> str:
    sections = re.split(r"(?m)^(?=diff --git )", diff)
    kept = []
    for section in sections:
        if PRIVATE_KEY.search(section):
            name = section.split("\n", 1)[0].removeprefix("diff --git ")
            builder.excluded.append(Exclusion(name, "diff contains a private key"))
        else:
            kept.append(section)
    return "".join(kept)


def _notes(builder: _Builder) -> list[Piece]:
    readme = next((n for n in README_NAMES if (builder.root / n).is_file()), None)
    names = [n for n in NOTE_FILES if (builder.root / n).is_file()]
    wanted = [*names, *([readme] if readme else [])]
    allowed = set(select(builder.root, wanted).allowed)
    pieces = []
    for name in wanted:
        text = _read(builder, name, strict=False) if name in allowed else None
        if text is None:
            continue
        lines = _lines(text)[: README_HEAD_LINES if name == readme else None]
        kept = _fit_lines(lines, builder, builder.share("notes"))
        if kept:
            pieces.append(Piece("notes", name, 1, len(kept), "\n".join(kept)))
    return pieces


def _chunks(builder: _Builder, named: list[Piece]) -> list[Piece]:
    selection = select(builder.root, list_files(builder.root))
    builder.excluded.extend(selection.excluded)
    for rel in selection.allowed:
        _read(builder, rel, strict=False)
    request = builder.request
    found = retrieve(
        builder.root,
        builder.texts,
        request.question,
        request.top_k * CHUNK_CANDIDATES,
        request.chunk_lines,
        request.max_file_bytes,
        request.cache_dir,
    )
    reserve = min(builder.share("map"), builder.budget.left // 4)
    pieces = []
    for chunk in found:
        if _covered(chunk.path, chunk.start, chunk.end, named):
            continue
        if builder.budget.left - estimate_tokens(chunk.text) < reserve:
            continue
        builder.budget.take(builder.budget.left, chunk.text)
        pieces.append(Piece("chunk", chunk.path, chunk.start, chunk.end, chunk.text))
    return pieces


def _covered(path: str, start: int, end: int, named: list[Piece]) -> bool:
    return any(p.path == path and p.start <= start and end <= p.end for p in named)


def _repo_map(builder: _Builder, chunks: list[Piece]) -> list[Piece]:
    ranked = build_map(builder.texts, [c.text for c in chunks])
    lines = [f"{d.path}:{d.line}: {d.signature}" for d in ranked]
    kept = _fit_lines(lines, builder, builder.share("map"))
    if not kept:
        return []
    note = f"{len(kept)} of {len(lines)} definitions"
    return [Piece("map", "", 1, len(kept), "\n".join(kept), note)]


def _read(builder: _Builder, rel: str, strict: bool) -> str | None:
    """Read an allowed file once; skip (or refuse, when strict) what cannot be sent."""
    if rel in builder.texts:
        return builder.texts[rel]
    reason = None
    try:
        text = read_source(builder.root / rel, builder.request.max_file_bytes).text
    except NotTextError as exc:
        reason, text = str(exc).split(": ", 1)[-1], ""
    if not reason and PRIVATE_KEY.search(text):
        reason = "contains a private key block"
    if not reason and not strict and _minified(text):
        reason = f"minified (a line over {MINIFIED_LINE_CHARS} characters)"
    if reason:
        if strict:
            raise InputError(f"refusing to send {rel}: {reason}")
        builder.excluded.append(Exclusion(rel, reason))
        return None
    builder.texts[rel] = text
    return text


def _minified(text: str) -> bool:
    return any(len(line) > MINIFIED_LINE_CHARS for line in text.split("\n"))


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _render(builder: _Builder, pieces: list[Piece]) -> Package:
    request, redactor = builder.request, Redactor()
    clean = [
        replace(p, text=redactor.redact(p.text, _source(p), p.start - 1))
        for p in pieces
    ]
    question = redactor.redact(request.question, "question")
    # A value found in one piece is removed from every other piece as well.
    clean = [
        replace(p, text=redactor.sweep(p.text, _source(p), p.start - 1)) for p in clean
    ]
    question = redactor.sweep(question, "question")
    head = head_state(builder.root).describe()
    content = _prompt(head, clean, question)
    body = {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "stream": True,
        "system": SYSTEM_PROMPT,
        "messages": [{"role": "user", "content": content}],
    }
    data = json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8")
    return Package(
        root=builder.root,
        head=head,
        model=request.model,
        max_tokens=request.max_tokens,
        pieces=tuple(clean),
        excluded=tuple(_unique(builder.excluded)),
        redactions=tuple(redactor.redactions),
        input_tokens=estimate_tokens(SYSTEM_PROMPT + content),
        body=data,
    )


def _source(piece: Piece) -> str:
    """How a redaction's location names the piece: a path, or e.g. 'staged diff'."""
    if piece.path:
        return piece.path
    return f"{piece.label} {piece.kind}" if piece.label else piece.kind


def _prompt(head: str, pieces: list[Piece], question: str) -> str:
    parts = [f'<repository head="{head}">']
    tags: dict[str, Callable[[Piece], str]] = {
        "notes": lambda p: f'<notes path="{p.path}" lines="{p.start}-{p.end}">',
        "map": lambda p: "<repo_map>",
        "chunk": lambda p: f'<code path="{p.path}" lines="{p.start}-{p.end}">',
        "file": lambda p: f'<file path="{p.path}" lines="{p.start}-{p.end}">',
        "diff": lambda p: f'<diff kind="{p.label}">',
    }
    closing = {
        "notes": "</notes>",
        "map": "</repo_map>",
        "chunk": "</code>",
        "file": "</file>",
        "diff": "</diff>",
    }
    for piece in pieces:
        parts += [tags[piece.kind](piece), piece.text, closing[piece.kind]]
    parts += ["</repository>", "", f"Question: {question}"]
    return "\n".join(parts)


def _unique(items: list[Exclusion]) -> list[Exclusion]:
    seen: dict[str, Exclusion] = {}
    for item in items:
        seen.setdefault(item.path, item)
    return list(seen.values())
