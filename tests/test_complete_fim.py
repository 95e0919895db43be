"""FIM formats per family, and the FIM path end to end through llama.cpp."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fim_model import FIM_IDS, build_fim_gguf

from hybridcode.engine.base import FimTokens
from hybridcode.engine.fim import (
    build_tokens,
    family_of,
    format_for,
    guess_family,
    reconcile,
    stop_ids,
)

RENDERED = {
    "qwen2.5-coder": "<|fim_prefix|>a = <|fim_suffix|>\nb<|fim_middle|>",
    "starcoder2": "<fim_prefix>a = <fim_suffix>\nb<fim_middle>",
    "codellama": "<PRE> a = <SUF>\nb <MID>",
    "deepseek-coder": "<｜fim▁begin｜>a = <｜fim▁hole｜>\nb<｜fim▁end｜>",
    "codestral": "[SUFFIX]\nb[PREFIX]a = ",
}


@pytest.mark.parametrize("family", list(RENDERED), ids=list(RENDERED))
def test_each_family_spells_its_own_fim_prompt(family: str) -> None:
    fmt = format_for(family)

    assert fmt is not None
    assert fmt.render("a = ", "\nb") == RENDERED[family]


def tokenize(text: str) -> list[int]:
    return [ord(ch) for ch in text]


def test_token_list_places_markers_by_id_in_prefix_suffix_middle_order() -> None:
    ids = build_tokens(FimTokens(1, 2, 3), "ab", "c", tokenize)

    assert ids == [1, 97, 98, 2, 99, 3]


def test_codestral_gets_the_suffix_first_even_when_the_vocabulary_does_not_say() -> (
    None
):
    fim = reconcile(FimTokens(1, 2, -1), format_for("codestral"))

    assert fim is not None
    assert build_tokens(fim, "ab", "c", tokenize) == [2, 99, 1, 97, 98]


def test_marker_text_inside_code_stays_plain_text() -> None:
    ids = build_tokens(FimTokens(1, 2, 3), "<|fim_suffix|>", "", tokenize)

    assert ids.count(2) == 1  # only the real marker, not the text in the code


def test_stop_ids_hold_the_markers_and_extras_but_not_the_last_prompt_token() -> None:
    assert stop_ids(FimTokens(1, 2, 3, stop=(7, 8))) == (7, 8, 1, 2)


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("qwen2.5-coder-1.5b-instruct", "qwen2.5-coder"),
        ("smollm2-135m", None),
        ("/models/starcoder2-3b-Q4_K_M.gguf", "starcoder"),
        ("codellama-7b.Q4_0.gguf", "codellama"),
        ("deepseek-coder-1.3b-base.Q8_0.gguf", "deepseek-coder"),
        ("Codestral-22B-v0.1-Q4_K_M.gguf", "codestral"),
        ("mystery.gguf", None),
    ],
)
def test_family_comes_from_the_registry_or_the_model_name(
    model: str, family: str | None
) -> None:
    assert family_of(model) == family


def test_guess_ignores_names_without_a_known_family() -> None:
    assert guess_family("llama-3.2-1b", "phi-3") is None


# --- end to end through llama.cpp ------------------------------------------


@pytest.fixture(scope="module")
def tiny_fim_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fim_gguf(tmp_path_factory.mktemp("fim") / "tiny-fim.gguf")


def test_llama_cpp_reports_the_fim_ids_of_the_vocabulary(tiny_fim_model: Path) -> None:
    from hybridcode.config import ModelSettings
    from hybridcode.engine.llama import LlamaEngine

    engine = LlamaEngine(tiny_fim_model, ModelSettings(), name="tiny")
    fim = engine.fim_tokens()

    assert fim is not None
    assert (fim.prefix, fim.suffix, fim.middle) == (
        FIM_IDS["prefix"],
        FIM_IDS["suffix"],
        FIM_IDS["middle"],
    )
    assert FIM_IDS["pad"] in stop_ids(fim)


def test_fim_completion_runs_through_llama_cpp(
    run_hc, tmp_path: Path, tiny_fim_model: Path
) -> None:
    source = "def area(w, h):\n    return \n\n\ndef main():\n    print(area(2, 3))\n"
    (tmp_path / "geom.py").write_text(source)

    result = run_hc(
        "--model",
        str(tiny_fim_model),
        "complete",
        "geom.py:2:12",
        "--json",
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert "FIM" not in result.stderr  # no prefix-only fallback note
    data = json.loads(result.stdout)
    assert data["mode"] == "fim"
    assert data["completion_tokens"] > 0
    assert data["prompt_tokens"] > len(source) // 2  # the file went in, as tokens
    assert "\n\n" not in data["text"]
