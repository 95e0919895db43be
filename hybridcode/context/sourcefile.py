"""Read source files with their encoding and newlines; write them back atomically."""

from __future__ import annotations

import codecs
import os
import stat
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from hybridcode.errors import InputError

BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class NotTextError(InputError):
    """A file that is binary, undecodable, or too large to treat as source."""


@dataclass(frozen=True)
class SourceText:
    """A text file decoded for editing: `text` always uses "\\n" newlines."""

    text: str
    encoding: str  # a Python codec name, without BOM handling
    bom: bytes
    newline: str  # "\n", "\r\n" or "\r": the file's dominant style
    mode: int | None = None  # permission bits when read from disk

    def encode(self, text: str | None = None) -> bytes:
        """Turn edited text (with "\\n" newlines) back into the file's bytes."""
        body = self.text if text is None else text
        if self.newline != "\n":
            body = body.replace("\n", self.newline)
        return self.bom + body.encode(self.encoding)

    def with_text(self, text: str) -> SourceText:
        return replace(self, text=text)


def decode_source(data: bytes, name: str, max_bytes: int | None = None) -> SourceText:
    """Decode bytes from a BOM or as UTF-8; refuse binary and undecodable data."""
    if max_bytes is not None and len(data) > max_bytes:
        raise NotTextError(
            f"{name}: {len(data):,} bytes is over the {max_bytes:,}-byte limit"
        )
    bom, encoding = _sniff_bom(data)
    body = data[len(bom) :]
    if not bom and b"\x00" in body[:8192]:
        raise NotTextError(f"{name}: binary file (contains NUL bytes)")
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        raise NotTextError(
            f"{name}: not valid {encoding.upper()} (byte {exc.start + len(bom)}); "
            "hc reads UTF-8 and UTF-16 with a BOM"
        ) from None
    if "\x00" in text:
        raise NotTextError(f"{name}: binary file (contains NUL characters)")
    newline = _dominant_newline(text)
    normal = text.replace("\r\n", "\n").replace("\r", "\n")
    return SourceText(normal, encoding, bom, newline)


def read_source(path: Path, max_bytes: int | None = None) -> SourceText:
    """Read and decode a file from disk, keeping its permission bits."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise NotTextError(f"{path}: not a regular file")
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    source = decode_source(data, str(path), max_bytes)
    return replace(source, mode=stat.S_IMODE(info.st_mode))


def atomic_write(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write bytes through a temp file in the same folder, fsync, then rename."""
    target = path.resolve() if path.is_symlink() else path
    if mode is None and target.exists():
        mode = stat.S_IMODE(target.stat().st_mode)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".hc-tmp", dir=target.parent
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _sniff_bom(data: bytes) -> tuple[bytes, str]:
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return bom, encoding
    return b"", "utf-8"


def _dominant_newline(text: str) -> str:
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    if crlf >= lf and crlf >= cr and crlf:
        return "\r\n"
    if cr > lf:
        return "\r"
    return "\n"
