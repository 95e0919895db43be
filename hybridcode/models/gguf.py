"""Check a file is a loadable GGUF before llama.cpp sees it, and read its metadata."""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
_U64 = struct.Struct("<Q")


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
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                raise ModelFileError(
                    f"{path}: not a GGUF file (bad magic: empty file)",
                    "download it again or run `hc models pull`",
                )
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
                return _read(view, path, size)
    except FileNotFoundError:
        raise ModelFileError(f"model file {path} does not exist") from None
    except IsADirectoryError:
        raise ModelFileError(f"model path {path} is a directory, not a GGUF") from None
    except PermissionError:
        raise ModelFileError(f"model file {path} is not readable") from None


def _read(view: mmap.mmap, path: Path, size: int) -> GgufInfo:
    head = view[:4]
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
    reader = _Reader(view, path, size)
    reader.offset = 4
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
    """Walks the GGUF header in a memory map; every read is bounds-checked."""

    def __init__(self, view: mmap.mmap, path: Path, size: int) -> None:
        self.view, self.path, self.size = view, path, size
        self.offset = 0

    def truncated(self) -> ModelFileError:
        return ModelFileError(
            f"{self.path}: truncated GGUF (header ends early)", "download it again"
        )

    def skip(self, count: int) -> None:
        if self.offset + count > self.size:
            raise self.truncated()
        self.offset += count

    def unpack(self, fmt: str) -> Any:
        width = struct.calcsize("<" + fmt)
        if self.offset + width > self.size:
            raise self.truncated()
        value = struct.unpack_from("<" + fmt, self.view, self.offset)[0]
        self.offset += width
        return value

    def string(self) -> str:
        length = self.unpack("Q")
        start = self.offset
        self.skip(length)
        return bytes(self.view[start : self.offset]).decode("utf-8", "replace")

    def skip_strings(self, count: int) -> None:
        # The vocabulary holds ~100k strings: a tight loop keeps this fast.
        read_length, view, offset = _U64.unpack_from, self.view, self.offset
        for _ in range(count):
            offset += 8 + read_length(view, offset)[0]
            if offset > self.size:
                raise self.truncated()
        self.offset = offset

    def value(self, kind: int) -> Any:
        if kind in _SCALARS:
            return self.unpack(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            item_kind, count = self.unpack("I"), self.unpack("Q")
            if item_kind in _SCALARS:
                self.skip(count * struct.calcsize(_SCALARS[item_kind]))
            elif item_kind == _STRING:
                self.skip_strings(count)
            else:
                for _ in range(count):
                    self.value(item_kind)
            return f"<array of {count}>"
        raise ModelFileError(f"{self.path}: corrupt GGUF metadata (type {kind})")

    def tensor_data_end(self, count: int, metadata: dict[str, Any]) -> int:
        """Return where the tensor with the largest offset starts, at least."""
        largest = 0
        for _ in range(count):
            self.skip(self.unpack("Q"))
            dims = self.unpack("I")
            self.skip(8 * dims)
            self.unpack("I")
            largest = max(largest, self.unpack("Q"))
        align = int(metadata.get("general.alignment", 32))
        start = self.offset + (-self.offset) % align
        return start + largest
