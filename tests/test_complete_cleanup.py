"""Cleaning a raw model reply into the text to insert, and fitting the prompt."""

from __future__ import annotations

import pytest

from hybridcode.complete import clean_completion, fit_window, split_at
from hybridcode.engine.fim import format_for


def clean(
    raw: str, before: str, suffix: str = "\n", finish: str = "stop", max_lines: int = 8
) -> str:
    return clean_completion(raw, before, suffix, max_lines, finish)[0]


@pytest.mark.parametrize(
    ("raw", "before", "suffix", "expected"),
    [
        ("y = 1\n    return y\nz = 3", "    ", "\n", "y = 1\n    return y"),
        ("x + 1\n    return y", "    y = ", "\n", "x + 1"),
        ("\n        return 1", "    if x:", "\n", "\n        return 1"),
        ("pass\n\ndef other():\n    pass", "    ", "\n", "pass"),
        ("a, b)", "print(", ")\n", "a, b"),
        ("foo()", "print(", ")\n", "foo()"),
        ("(2, 3))", "print(area", "(2, 3))\n", ""),
        ("   \n\n", "x = ", "\n", ""),
        ("items[0", "first = ", "\n", "items[0]"),
        ("\n    a: 1,", "const o = {", "\n", "\n    a: 1,"),
        ("1\n}\nfunction g() {", "  return ", "\n}\n", "1"),
    ],
    ids=[
        "dedent-ends-block",
        "mid-statement-one-line",
        "block-opener-continues",
        "blank-then-new-def",
        "closer-in-suffix",
        "own-closer-kept",
        "repeats-rest-of-line",
        "only-whitespace",
        "inline-bracket-closed",
        "block-bracket-closed",
        "brace-closes-outer",
    ],
)
def test_cleanup(raw: str, before: str, suffix: str, expected: str) -> None:
    assert clean(raw, before, suffix) == expected


def test_stops_after_max_lines() -> None:
    raw = "\n".join(f"    x{n} = {n}" for n in range(20))

    assert clean(raw, "    ", max_lines=3).count("\n") == 2


def test_on_a_blank_line_code_the_model_put_on_the_next_line_is_used() -> None:
    assert clean("\n        return x\n", "        ", max_lines=1) == "return x"


def test_block_opened_by_a_multiline_completion_is_closed() -> None:
    assert clean("if (x) {\n  y();", "  ") == "if (x) {\n  y();\n}"


def test_deadline_keeps_only_whole_lines() -> None:
    assert clean("a = 1\n    b = 2\n    c = fo", "    ", finish="deadline") == (
        "a = 1\n    b = 2"
    )


def test_special_token_text_ends_the_completion() -> None:
    text, _ = clean_completion(
        "x + 1<|endoftext|>junk", "y = ", "\n", 8, "stop", format_for("qwen2.5-coder")
    )

    assert text == "x + 1"


def test_carriage_returns_from_the_model_become_plain_newlines() -> None:
    assert clean("if x:\r\n        s += x", "    ") == "if x:\n        s += x"


def test_split_at_counts_columns_in_code_points() -> None:
    text = "s = 'héllo'  # 😀 x\nnext\n"

    before, after = split_at(text, 1, 17)

    assert before == "s = 'héllo'  # 😀"
    assert after.startswith(" x\nnext")


def words(text: str) -> int:
    return len(text.split()) + text.count("\n")


def test_window_keeps_everything_that_fits() -> None:
    assert fit_window("a\nb\n", "c\n", 100, words)[:2] == ("a\nb\n", "c\n")


def test_window_cuts_at_line_boundaries_nearest_the_cursor_kept() -> None:
    prefix = "".join(f"line {n}\n" for n in range(1000)) + "x = "
    suffix = "".join(f"after {n}\n" for n in range(1000))

    kept_prefix, kept_suffix, _ = fit_window(prefix, suffix, 300, words)

    assert words(kept_prefix) + words(kept_suffix) <= 300
    assert kept_prefix.endswith("line 999\nx = ")
    assert kept_prefix.startswith("line ")
    assert kept_suffix.startswith("after 0\n") and kept_suffix.endswith("\n")


def test_window_start_does_not_move_while_a_line_is_typed() -> None:
    body = "".join(f"line {n}\n" for n in range(1000))

    starts = {
        fit_window(body + typed, "", 300, words)[0].split("\n", 1)[0]
        for typed in ("r", "re", "ret", "retu", "return x")
    }

    assert len(starts) == 1


def test_a_single_line_longer_than_the_budget_is_cut_to_fit() -> None:
    minified = "var a=1;" * 5000

    kept_prefix, _, _ = fit_window(minified, "", 200, lambda s: len(s) // 4)

    assert 0 < len(kept_prefix) // 4 <= 200
    assert minified.endswith(kept_prefix)


def test_window_start_holds_when_the_typed_text_costs_more_per_character() -> None:
    body = "".join(f"value_{n} = compute({n})\n" for n in range(2000))
    line = "result = xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx(items, tax)"

    def measure(text: str) -> int:
        return len(text.encode()) // 3 + text.count("x") * 2

    starts = {
        fit_window(body + line[:typed], "", 1500, measure)[0].split("\n", 1)[0]
        for typed in range(len(line) + 1)
    }

    assert len(starts) == 1
