"""`hc fix` with the real embedded SmolLM2 through llama-cpp-python."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hybridcode.fix import find_problems

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.model


def test_example_file_is_repaired_with_the_real_model_configured(
    tmp_path, run_hc, model_home
) -> None:
    shutil.copy(REPO / "examples" / "broken_stats.py", tmp_path / "stats.py")
    before = (tmp_path / "stats.py").read_text()
    done = run_hc("fix", "stats.py", cwd=tmp_path)
    assert done.returncode == 0, done.output
    after = (tmp_path / "stats.py").read_text()
    assert after == before.replace("(len(values) - 1\n", "(len(values) - 1)\n")
    assert "+    return sum((v - centre) ** 2" in done.stdout


def test_real_model_repair_is_verified_or_the_file_is_untouched(
    tmp_path, run_hc, model_home
) -> None:
    # Two stray tokens: no single-token edit repairs this, so the model is asked.
    body = (
        "import os\n\n\ndef area(w, h):\n    return w * h +* * 1\n\n\n"
        "def main():\n    print(area(2, 3))\n"
    )
    (tmp_path / "shapes.py").write_text(body)
    done = run_hc("fix", "shapes.py", cwd=tmp_path)
    after = (tmp_path / "shapes.py").read_text()
    assert "Traceback" not in done.stderr
    assert done.returncode in (0, 3), done.output
    if done.returncode == 3:
        assert after == body
        assert "could not fix" in done.stderr
        return
    assert find_problems("shapes.py", after) == []
    old, new = body.split("\n"), after.split("\n")
    assert len(old) == len(new)
    assert [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b] == [4]
    assert "model smollm2-135m" in done.stderr
