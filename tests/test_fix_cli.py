"""`hc fix` as a user runs it: paths, folders, skipped files, formats, modes."""

from __future__ import annotations

import json
import os
import stat

import pytest
from conftest import git

BROKEN = b"def f(x)\n    return x\n"
FIXED = b"def f(x):\n    return x\n"


def test_diff_prints_the_patch_writes_nothing_and_exits_1(tmp_path, run_hc) -> None:
    (tmp_path / "m.py").write_bytes(BROKEN)
    done = run_hc("fix", "--diff", "m.py", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.startswith("--- a/m.py\n+++ b/m.py\n")
    assert "+def f(x):" in done.stdout
    assert (tmp_path / "m.py").read_bytes() == BROKEN


def test_json_output_follows_the_documented_schema(tmp_path, run_hc) -> None:
    (tmp_path / "m.py").write_bytes(BROKEN)
    (tmp_path / "ok.py").write_bytes(FIXED)
    done = run_hc("fix", "--json", "--check", "m.py", "ok.py", cwd=tmp_path)
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["version"] == 1
    assert data["summary"] == {"clean": 1, "fixed": 1, "unfixable": 0, "skipped": 0}
    first = data["files"][0]
    assert set(first) == {
        "path",
        "status",
        "written",
        "findings",
        "patch",
        "reason",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "seconds",
    }
    assert first["path"] == "m.py" and first["status"] == "fixed"
    assert first["written"] is False
    assert first["findings"] == [{"line": 1, "column": 9, "message": "expected ':'"}]
    assert "+def f(x):" in first["patch"]


def test_github_format_prints_annotations(tmp_path, run_hc) -> None:
    (tmp_path / "a,b.py").write_bytes(BROKEN)
    done = run_hc("fix", "--check", "--format", "github", "a,b.py", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == "::error file=a%2Cb.py,line=1,col=9::expected ':'\n"


def test_unknown_format_is_a_usage_error(tmp_path, run_hc) -> None:
    (tmp_path / "m.py").write_bytes(FIXED)
    assert run_hc("fix", "--format", "xml", "m.py", cwd=tmp_path).returncode == 2


def test_folder_in_a_repo_covers_tracked_and_untracked_not_ignored(
    repo, run_hc
) -> None:
    (repo / ".gitignore").write_text("ignored.py\n")
    (repo / "src").mkdir()
    for name in ("src/tracked.py", "src/new.py", "ignored.py"):
        (repo / name).write_bytes(BROKEN)
    git(repo, "add", ".gitignore", "src/tracked.py")
    done = run_hc("fix", ".", cwd=repo)
    assert done.returncode == 0, done.output
    assert (repo / "src/tracked.py").read_bytes() == FIXED
    assert (repo / "src/new.py").read_bytes() == FIXED
    assert (repo / "ignored.py").read_bytes() == BROKEN


def test_folder_outside_a_repo_is_walked_skipping_vendored_code(
    tmp_path, run_hc
) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "pkg/a.py").write_bytes(BROKEN)
    (tmp_path / "node_modules/b.js").write_bytes(b"function f( {}\n")
    (tmp_path / "notes.txt").write_bytes(b"def f(:\n")
    done = run_hc("fix", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.output
    assert (tmp_path / "pkg/a.py").read_bytes() == FIXED
    assert (tmp_path / "node_modules/b.js").read_bytes() == b"function f( {}\n"


def test_binary_file_named_explicitly_exits_2(tmp_path, run_hc) -> None:
    (tmp_path / "blob.py").write_bytes(b"\x00\x01\x02" * 10)
    done = run_hc("fix", "blob.py", cwd=tmp_path)
    assert done.returncode == 2
    assert "blob.py" in done.stderr and "binary" in done.stderr


def test_binary_file_found_in_a_folder_is_skipped_quietly(tmp_path, run_hc) -> None:
    (tmp_path / "blob.py").write_bytes(b"\x00\x01\x02" * 10)
    (tmp_path / "ok.py").write_bytes(FIXED)
    assert run_hc("fix", ".", cwd=tmp_path).returncode == 0


def test_undecodable_file_exits_2_and_is_unchanged(tmp_path, run_hc) -> None:
    data = b"# Men\xfa\nprice = (3\n"
    (tmp_path / "menu.py").write_bytes(data)
    done = run_hc("fix", "menu.py", cwd=tmp_path)
    assert done.returncode == 2
    assert "UTF-8" in done.stderr
    assert (tmp_path / "menu.py").read_bytes() == data


def test_file_over_the_size_limit_exits_2(tmp_path, run_hc) -> None:
    (tmp_path / "m.py").write_bytes(BROKEN)
    done = run_hc("fix", "m.py", cwd=tmp_path, env={"HC_FIX_MAX_FILE_BYTES": "10"})
    assert done.returncode == 2
    assert "limit" in done.stderr
    assert (tmp_path / "m.py").read_bytes() == BROKEN


@pytest.mark.parametrize("quote", ['"', "'"])
def test_quoted_path_that_does_not_exist_is_an_error(tmp_path, run_hc, quote) -> None:
    (tmp_path / "m.py").write_bytes(BROKEN)
    done = run_hc("fix", f"{quote}m.py{quote}", cwd=tmp_path)
    assert done.returncode == 2
    assert "did you mean m.py" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hc-home", "m.py"]
    assert (tmp_path / "m.py").read_bytes() == BROKEN


def test_write_keeps_the_file_mode(tmp_path, run_hc) -> None:
    script = tmp_path / "tool"
    script.write_bytes(b"#!/usr/bin/env python3\n" + BROKEN)
    os.chmod(script, 0o751)
    done = run_hc("fix", "tool", cwd=tmp_path)
    assert done.returncode == 0, done.output
    assert script.read_bytes() == b"#!/usr/bin/env python3\n" + FIXED
    assert stat.S_IMODE(script.stat().st_mode) == 0o751


def test_write_leaves_no_temp_files(tmp_path, run_hc) -> None:
    (tmp_path / "m.py").write_bytes(BROKEN)
    run_hc("fix", "m.py", cwd=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hc-home", "m.py"]


def test_quiet_still_reports_a_failure(tmp_path, run_hc, fake_engine) -> None:
    (tmp_path / "m.py").write_bytes(b"def f(x):\n    return x +* * 2\n")
    done = run_hc("-q", "fix", "m.py", cwd=tmp_path, env=fake_engine("nonsense ("))
    assert done.returncode == 3
    assert "could not fix" in done.stderr
