"""`hc complete` with the real embedded SmolLM2 (no FIM tokens: prefix-only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

APP = """\
import math


def circle_area(radius):
    return math.pi * radius ** 2


def circle_perimeter(radius):
    return 2 * math.pi * radius


def square_area(side):
    return
"""

pytestmark = pytest.mark.model


def test_real_model_completes_from_the_prefix_and_says_so_once(
    run_hc, model_home: Path, tmp_path: Path
) -> None:
    (tmp_path / "app.py").write_text(APP)

    result = run_hc("complete", "app.py:12:11", "--json", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stderr.count("no FIM tokens") == 1
    assert "Traceback" not in result.stderr
    data = json.loads(result.stdout)
    assert data["mode"] == "prefix"
    assert data["model"] == "smollm2-135m"
    assert data["completion_tokens"] > 0
    assert "\r" not in data["text"]
    assert data["timings_ms"]["total"] > 0


def test_real_model_plain_output_is_only_the_completion(
    run_hc, model_home: Path, tmp_path: Path
) -> None:
    (tmp_path / "app.py").write_text(APP)

    plain = run_hc("complete", "app.py:12:11", cwd=tmp_path)
    data = json.loads(run_hc("complete", "app.py:12:11", "--json", cwd=tmp_path).stdout)

    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == data["text"]  # greedy decoding: the same text both times
