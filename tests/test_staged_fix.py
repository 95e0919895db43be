"""fix_staged in-process: hook semantics on bytes, modes and the index."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from conftest import git

from hybridcode.config import FixSettings
from hybridcode.engine.base import Engine
from hybridcode.engine.fake import FakeEngine, ScriptedReply
from hybridcode.errors import ModelError
from hybridcode.staged import StagedRequest, fix_staged

BROKEN = b"def f(:\n    pass\n"
FIXED = b"def f():\n    pass\n"
# Needs more than a one-token edit, so only the model can repair it.
NEEDS_MODEL = b'def f():\n    print "a" "b" c\n'
MODEL_REPLY = 'def f():\n    print("a", "b", c)\n'


def request(repo: Path, check: bool = False) -> StagedRequest:
    return StagedRequest(repo, dict(os.environ), check, FixSettings())


def no_engine() -> Engine:
    raise AssertionError("the engine was opened")


def failing_engine() -> Engine:
    raise ModelError("model file is broken")


def stage(repo: Path, name: str, data: bytes) -> None:
    (repo / name).parent.mkdir(parents=True, exist_ok=True)
    (repo / name).write_bytes(data)
    git(repo, "add", "--", name)


def index(repo: Path) -> str:
    return git(repo, "ls-files", "-s")


def test_clean_files_never_open_the_engine(repo):
    stage(repo, "a.py", b"x = 1\n")
    stage(repo, "b.js", b"const y = 2;\n")
    stage(repo, "notes.txt", b"def f(:\n")
    stage(repo, "logo.png", b"\x89PNG\r\n\x1a\n\x00")

    outcomes = fix_staged(request(repo), no_engine)

    assert [(o.path, o.action) for o in outcomes] == [
        ("a.py", "clean"),
        ("b.js", "clean"),
    ]


def test_fix_is_written_when_work_tree_matches_index(repo):
    stage(repo, "a.py", BROKEN)
    before = index(repo)

    [outcome] = fix_staged(request(repo), no_engine)

    assert (outcome.action, outcome.exit_code) == ("written", 1)
    assert (repo / "a.py").read_bytes() == FIXED
    assert index(repo) == before


def test_check_writes_nothing(repo):
    stage(repo, "a.py", BROKEN)

    [outcome] = fix_staged(request(repo, check=True), no_engine)

    assert (outcome.action, outcome.exit_code) == ("reported", 1)
    assert (repo / "a.py").read_bytes() == BROKEN
    assert "+def f():" in outcome.result.patch()


def test_partial_staging_leaves_work_tree_alone(repo):
    stage(repo, "a.py", BROKEN)
    (repo / "a.py").write_bytes(BROKEN + b"x = 1  # WIP\n")

    [outcome] = fix_staged(request(repo), no_engine)

    assert (outcome.action, outcome.exit_code) == ("partial", 1)
    assert (repo / "a.py").read_bytes() == BROKEN + b"x = 1  # WIP\n"
    assert outcome.result.patch().startswith("--- a/a.py\n+++ b/a.py\n")


def test_crlf_bom_and_exec_bit_survive_the_fix(repo):
    data = b"\xef\xbb\xbfdef f(:\r\n    pass\r\n"
    stage(repo, "tool.py", data)
    os.chmod(repo / "tool.py", 0o755)
    git(repo, "add", "tool.py")

    [outcome] = fix_staged(request(repo), no_engine)

    assert outcome.action == "written"
    assert (repo / "tool.py").read_bytes() == b"\xef\xbb\xbfdef f():\r\n    pass\r\n"
    assert stat.S_IMODE((repo / "tool.py").stat().st_mode) == 0o755


def test_non_utf8_file_is_skipped_with_exit_2(repo):
    data = b"# Men\xfa\nprice = (3\n"
    stage(repo, "menu.py", data)

    [outcome] = fix_staged(request(repo), no_engine)

    assert (outcome.action, outcome.exit_code) == ("skipped", 2)
    assert "not valid UTF-8" in outcome.reason
    assert (repo / "menu.py").read_bytes() == data


def test_model_failure_leaves_files_and_index_alone(repo):
    stage(repo, "a.py", NEEDS_MODEL)
    before = index(repo)

    [outcome] = fix_staged(request(repo), failing_engine)

    assert (outcome.action, outcome.exit_code) == ("failed", 3)
    assert "model file is broken" in outcome.reason
    assert (repo / "a.py").read_bytes() == NEEDS_MODEL
    assert index(repo) == before


def test_model_repair_is_used_when_no_token_edit_verifies(repo):
    stage(repo, "a.py", NEEDS_MODEL)
    engine = FakeEngine([ScriptedReply(MODEL_REPLY)])

    [outcome] = fix_staged(request(repo), lambda: engine)

    assert outcome.action == "written", outcome.reason
    assert (repo / "a.py").read_bytes() == MODEL_REPLY.encode()
    assert engine.prompts


@pytest.mark.parametrize("kind", ["symlink", "missing"])
def test_work_tree_that_is_not_the_staged_file_is_not_written(repo, kind):
    stage(repo, "a.py", BROKEN)
    (repo / "a.py").unlink()
    if kind == "symlink":
        (repo / "elsewhere.py").write_bytes(BROKEN)
        os.symlink("elsewhere.py", repo / "a.py")

    [outcome] = fix_staged(request(repo), no_engine)

    assert outcome.action == "partial"
    if kind == "symlink":
        assert (repo / "elsewhere.py").read_bytes() == BROKEN
    else:
        assert not (repo / "a.py").exists()


def test_crlf_checkout_of_an_lf_index_counts_as_the_staged_version(repo):
    (repo / ".gitattributes").write_bytes(b"*.py text eol=crlf\n")
    stage(repo, "a.py", b"def f(:\r\n    pass\r\n")  # git stores it with LF
    before = index(repo)
    assert git(repo, "show", ":a.py") == BROKEN.decode()

    [outcome] = fix_staged(request(repo), no_engine)

    assert outcome.action == "written"
    assert (repo / "a.py").read_bytes() == b"def f():\r\n    pass\r\n"
    assert index(repo) == before


def test_shebang_script_without_suffix_is_checked(repo):
    stage(repo, "bin/tool", b"#!/usr/bin/env python3\ndef f(:\n    pass\n")

    [outcome] = fix_staged(request(repo), no_engine)

    assert (outcome.path, outcome.action) == ("bin/tool", "written")
    assert (repo / "bin" / "tool").read_bytes().endswith(b"def f():\n    pass\n")
