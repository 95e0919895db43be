"""The fix pipeline in-process: candidates, verification, and when the model is used."""

from __future__ import annotations

import pytest

from hybridcode.config import FixSettings
from hybridcode.context.sourcefile import decode_source
from hybridcode.engine.fake import FakeEngine, ScriptedReply
from hybridcode.fix import Finding, FixResult, encode_fixed, find_problems, fix_source

SETTINGS = FixSettings(samples=2)
NEEDS_MODEL = "def f(x):\n    return x +* * 2\n\n\ndef g():\n    return 1\n"


def no_engine() -> FakeEngine:
    raise AssertionError("the model was opened")


def engine_with(*replies: str | ScriptedReply, n_ctx: int = 2048):
    engine = FakeEngine(
        [r if isinstance(r, ScriptedReply) else ScriptedReply(r) for r in replies],
        context=n_ctx,
    )
    return engine, (lambda: engine)


def fix(name: str, text: str, engine=no_engine) -> FixResult:
    return fix_source(name, decode_source(text.encode(), name), engine, SETTINGS)


def test_clean_file_never_opens_the_model() -> None:
    result = fix("ok.py", "def f():\n    return 1\n")
    assert result.status == "clean"
    assert result.fixed is None and result.findings == ()


def test_single_token_repair_needs_no_model() -> None:
    result = fix("m.py", "def f(x)\n    return x\n")
    assert result.status == "fixed"
    assert result.fixed == "def f(x):\n    return x\n"
    assert result.model is None
    assert result.findings == (Finding(1, 9, "expected ':'"),)


@pytest.mark.parametrize(
    ("name", "broken", "fixed"),
    [
        ("a.py", "for x in y\n    pass\n", "for x in y:\n    pass\n"),
        ("a.py", "x = [1, 2\ny = 3\n", "x = [1, 2]\ny = 3\n"),
        ("a.py", "def f():\nreturn 1\n", "def f():\n    return 1\n"),
        ("a.py", "whlie True:\n    pass\n", "while True:\n    pass\n"),
        ("a.py", "x = f(1,, 2)\n", "x = f(1, 2)\n"),
        (
            "a.js",
            "function f(a {\n  return a;\n}\n",
            "function f(a) {\n  return a;\n}\n",
        ),
        ("a.js", "functon f() {\n  return 1;\n}\n", "function f() {\n  return 1;\n}\n"),
        (
            "a.go",
            "package m\n\nfunc f() {\n\tg(1, 2\n}\n",
            "package m\n\nfunc f() {\n\tg(1, 2)\n}\n",
        ),
        (
            "a.rs",
            "fn f() {\n    let x = 1\n    x;\n}\n",
            "fn f() {\n    let x = 1;\n    x;\n}\n",
        ),
        ("a.json", '{"a": 1 "b": 2}\n', '{"a": 1, "b": 2}\n'),
        ("a.c", "int f(void) {\n  return 0\n}\n", "int f(void) {\n  return 0;\n}\n"),
    ],
    ids=[
        "py-colon",
        "py-bracket",
        "py-indent",
        "py-keyword",
        "py-stray-comma",
        "js-paren",
        "js-keyword",
        "go-paren",
        "rust-semicolon",
        "json-comma",
        "c-semicolon",
    ],
)
def test_single_token_repairs(name: str, broken: str, fixed: str) -> None:
    result = fix(name, broken)
    assert result.status == "fixed", result.reason
    assert result.fixed == fixed


def test_two_separate_problems_are_both_repaired() -> None:
    result = fix("m.py", "def f(x)\n    return x\n\n\ndef g(y:\n    return y\n")
    assert result.fixed == "def f(x):\n    return x\n\n\ndef g(y):\n    return y\n"


def test_model_candidate_used_when_no_single_edit_verifies() -> None:
    engine, opener = engine_with("```python\ndef f(x):\n    return x * 2\n```")
    result = fix("m.py", NEEDS_MODEL, opener)
    assert result.status == "fixed", result.reason
    assert result.fixed == NEEDS_MODEL.replace("x +* * 2", "x * 2")
    assert result.model == "fake" and result.completion_tokens > 0
    assert "def g()" not in engine.prompts[0], "the prompt held more than the region"


def test_model_reply_chatter_and_indent_are_cleaned() -> None:
    text = "class A:\n    def f(self, x):\n        return x +* * 2\n"
    reply = (
        "Here is the fixed code:\ndef f(self, x):\n    return x * 2\n"
        "This fixes the error."
    )
    _, opener = engine_with(reply)
    result = fix("m.py", text, opener)
    assert result.fixed == "class A:\n    def f(self, x):\n        return x * 2\n"


def test_reply_wider_than_the_region_is_matched_to_it() -> None:
    text = "def f(x):\n    y = 1\n    if y:\n        return x +* * 2\n"
    _, opener = engine_with("def f(x):\n    y = 1\n    if y:\n        return x * 2\n")
    result = fix("m.py", text, opener)
    assert result.fixed == text.replace("x +* * 2", "x * 2")


def test_smallest_verified_change_wins() -> None:
    # The reply also renames g(); only the hunk that repairs f() is applied.
    text = "def f(x):\n    y = 1\n    return x +* * 2\n"
    _, opener = engine_with("def f(x):\n    why = 1\n    return x * 2\n")
    result = fix("m.py", text, opener)
    assert result.fixed == "def f(x):\n    y = 1\n    return x * 2\n"


@pytest.mark.parametrize(
    "reply",
    [
        "def f(x):\n    # ... rest unchanged\n",
        "def f(x):\n    ...\n",
        ScriptedReply("def f(x):\n    return x * 2\n", finish_reason="length"),
        "",
    ],
    ids=["placeholder-comment", "ellipsis-line", "max-tokens", "empty"],
)
def test_unusable_replies_leave_the_file_alone(reply) -> None:
    _, opener = engine_with(reply)
    result = fix("m.py", NEEDS_MODEL, opener)
    assert result.status == "unfixable"
    assert result.fixed is None and result.patch() == ""
    assert "no verified fix" in result.reason


def test_reply_that_adds_another_error_is_rejected() -> None:
    _, opener = engine_with("def f(x):\n    return (x * 2\n")
    result = fix("m.py", NEEDS_MODEL, opener)
    assert result.status == "unfixable"


def test_region_too_large_for_context_names_the_sizes() -> None:
    text = "values = [" + "1, " * 3000 + "2 +* * 3]\n"
    _, opener = engine_with("x", n_ctx=512)
    result = fix("m.py", text, opener)
    assert result.status == "unfixable"
    assert "too large for the model context" in result.reason
    assert "> 512 tokens" in result.reason


def test_unknown_language_is_skipped() -> None:
    assert fix("notes.txt", "def f(:\n").status == "skipped"


def test_patch_is_a_labelled_unified_diff() -> None:
    patch = fix("pkg/m.py", "def f(x)\n    return x\n").patch()
    assert patch.startswith("--- a/pkg/m.py\n+++ b/pkg/m.py\n@@ -1,2 +1,2 @@\n")
    assert "-def f(x)\n+def f(x):\n" in patch


def test_patch_marks_a_missing_final_newline() -> None:
    patch = fix("m.py", "def f(x)\n    return x").patch()
    assert "\\ No newline at end of file" in patch


def test_only_repaired_lines_change_in_a_mixed_newline_file() -> None:
    data = b"a = 1\r\nb = 2\nif a\r\n    pass\rc = 3\n"
    source = decode_source(data, "m.py")
    result = fix_source("m.py", source, no_engine, SETTINGS)
    assert result.fixed is not None
    assert encode_fixed(data, source, result.fixed) == (
        b"a = 1\r\nb = 2\nif a:\r\n    pass\rc = 3\n"
    )


def test_find_problems_never_touches_a_model() -> None:
    assert find_problems("a.ts", "let x: number = (1;\n")
    assert find_problems("a.ts", "let x: number = (1);\n") == []
