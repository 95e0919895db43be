"""Check a file is a loadable GGUF before llama.cpp sees it, and read its metadata."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from hybridcode.errors import ModelFileError

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
LEGACY_MAGICS = {b"lmgg": "ggml", b"fmgg": "ggmf", b"tjgg": "ggjt", b"algg": "ggla"}

# GGUF metadata value types and their struct formats (see the GGUF spec).
_SCALARS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
_STRING, _ARRAY = 8, 9
_KEEP_ARRAYS = ()  # arrays (the vocabulary) are skipped, not read


@dataclass(frozen=True)
class GgufInfo:
    path: Path
    version: int
    tensor_count: int
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    @property
    def context_length(self) -> int | None:
        value = self.metadata.get(f"{self.architecture}.context_length")
        return int(value) if value is not None else None

    @property
    def chat_template(self) -> str | None:
        value = self.metadata.get("tokenizer.chat_template")
        return str(value) if value else None

    def token_id(self, name: str) -> int | None:
        """Return tokenizer.ggml.<name>_token_id if the file declares it."""
        value = self.metadata.get(f"tokenizer.ggml.{name}_token_id")
        return int(value) if value is not None else None


def inspect_gguf(path: Path) -> GgufInfo:
    """Read header and metadata; raise ModelFileError naming the file if unusable."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            return _read(handle, path, size)
    except FileNotFoundError:
        raise ModelFileError(f"model file {path} does not exist") from None
    except IsADirectoryError:
        raise ModelFileError(
            f"model path {path} is a directory, not a GGUF file"
        ) from None
    except PermissionError:
        raise ModelFileError(f"model file {path} is not readable") from None


def _read(handle: BinaryIO, path: Path, size: int) -> GgufInfo:
    head = handle.read(4)
    if head in LEGACY_MAGICS:
        raise ModelFileError(
            f"{path}: legacy GGML format ({LEGACY_MAGICS[head]}), not GGUF",
            "convert it to GGUF with llama.cpp's convert scripts",
        )
    if head != GGUF_MAGIC:
        what = "an HTML page" if head.lstrip().startswith(b"<") else f"magic {head!r}"
        raise ModelFileError(
            f"{path}: not a GGUF file (bad magic: {what})",
            "download it again or run `hc models pull`",
        )
    reader = _Reader(handle, path, size)
    version = reader.unpack("I")
    if version not in SUPPORTED_VERSIONS:
        raise ModelFileError(f"{path}: unsupported GGUF version {version}")
    tensor_count, kv_count = reader.unpack("Q"), reader.unpack("Q")
    metadata = {}
    for _ in range(kv_count):
        key = reader.string()
        metadata[key] = reader.value(reader.unpack("I"))
    if tensor_count and reader.tensor_data_end(tensor_count, metadata) > size:
        raise ModelFileError(
            f"{path}: truncated GGUF (tensor data ends past the file)",
            "download it again",
        )
    return GgufInfo(path, version, tensor_count, metadata)


class _Reader:
    def __init__(self, handle: BinaryIO, path: Path, size: int) -> None:
        self.handle, self.path, self.size = handle, path, size

    def take(self, count: int) -> bytes:
        data = self.handle.read(count)
        if len(data) != count:
            raise ModelFileError(
                f"{self.path}: truncated GGUF (header ends early)", "download it again"
            )
        return data

    def unpack(self, fmt: str) -> Any:
        return struct.unpack("<" + fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        length = self.unpack("Q")
        if length > self.size:
            raise ModelFileError(f"{self.path}: corrupt GGUF metadata")
        return self.take(length).decode("utf-8", "replace")

    def value(self, kind: int) -> Any:
        if kind in _SCALARS:
            return self.unpack(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            item_kind, count = self.unpack("I"), self.unpack("Q")
            if item_kind in _SCALARS:
                width = struct.calcsize(_SCALARS[item_kind])
                if count * width > self.size:
                    raise ModelFileError(f"{self.path}: corrupt GGUF metadata")
                self.handle.seek(count * width, 1)
            else:
                for _ in range(count):
                    self.value(item_kind)
            return f"<array of {count}>"
        raise ModelFileError(f"{self.path}: corrupt GGUF metadata (type {kind})")

    def tensor_data_end(self, count: int, metadata: dict[str, Any]) -> int:
        """Return the byte offset where the last tensor's data would start, at least."""
        largest = 0
        for _ in range(count):
            self.string()
            dims = self.unpack("I")
            for _ in range(dims):
                self.unpack("Q")
            self.unpack("I")
            largest = max(largest, self.unpack("Q"))
        align = int(metadata.get("general.alignment", 32))
        start = self.handle.tell()
        start += (-start) % align
        return start + largest
