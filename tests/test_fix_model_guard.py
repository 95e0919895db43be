"""A model rewrite that parses but changes the code's words is never applied."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hybridcode.fix_model import keeps_meaning

SOURCE = b'total = 5\nprint "total" "=" total\n'


@pytest.mark.parametrize(
    ("old", "new", "kept"),
    [
        ('print "total" "=" total', 'print("total", "=", total)', True),
        ('print "total" "=" total', "report([5, 6, 7])", False),
        ('print "total" "=" total', 'print("Total:", "=", total)', False),
        ("    return (1", "    return (1)", True),
        ("def f(a, b)", "def f(a, b):", True),
        ("x = compute(a, b", "x = other_function(c, d, e, f)", False),
    ],
    ids=[
        "python3-print",
        "different-code",
        "changed-string",
        "paren",
        "colon",
        "renamed-call",
    ],
)
def test_keeps_meaning(old: str, new: str, kept: bool):
    assert keeps_meaning([old], [new]) is kept


def test_rewrite_with_other_words_leaves_the_file_untouched(
    run_hc, fake_engine, tmp_path: Path
):
    target = tmp_path / "report.py"
    target.write_bytes(SOURCE)
    env = fake_engine("```python\nreport([5, 6, 7])\n```")
    result = run_hc("fix", str(target), env=env)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert (
        hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(SOURCE).digest()
    )


def test_faithful_rewrite_is_applied(run_hc, fake_engine, tmp_path: Path):
    target = tmp_path / "report.py"
    target.write_bytes(SOURCE)
    env = fake_engine('```python\nprint("total", "=", total)\n```')
    result = run_hc("fix", str(target), env=env)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == b'total = 5\nprint("total", "=", total)\n'
