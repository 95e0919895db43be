"""Cases C06, C07, C08 (also in JavaScript and Go), and the completion part of C27."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import recorded_prompts

FIM = {"prefix": 1, "suffix": 2, "middle": 3}


def apply(data: bytes, result: dict[str, Any]) -> bytes:
    """Replace the reported range with the reported text, as an editor would."""
    text = data.decode("utf-8")
    lines = text.splitlines(keepends=True)

    def offset(position: dict[str, int]) -> int:
        return sum(len(row) for row in lines[: position["line"] - 1]) + (
            position["column"] - 1
        )

    start, end = result["range"]["start"], result["range"]["end"]
    return (text[: offset(start)] + result["text"] + text[offset(end) :]).encode()


def complete_json(
    run_hc, cwd: Path, target: str, env: dict[str, str]
) -> dict[str, Any]:
    result = run_hc("complete", target, "--json", cwd=cwd, env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


# --- C06: the completion must not repeat the suffix -------------------------

GEOM = {
    "python": (
        "geom.py",
        "def area(w, h):\n    return w * h\n\n\n"
        "def perimeter(w, h):\n    return \n\n\n"
        "def main():\n    print(area(2, 3))\n",
        "6:12",
        "2 * (w + h)\n\n\ndef main():\n    print(area(2, 3))",
        "2 * (w + h)",
        "    return 2 * (w + h)",
        "def main():",
    ),
    "javascript": (
        "geom.js",
        "function area(w, h) {\n  return w * h;\n}\n\n"
        "function perimeter(w, h) {\n  return \n}\n\n"
        "function main() {\n  console.log(area(2, 3));\n}\n",
        "6:10",
        "2 * (w + h);\n}\n\nfunction main() {\n  console.log(area(2, 3));\n}",
        "2 * (w + h);",
        "  return 2 * (w + h);",
        "function main() {",
    ),
    "go": (
        "geom.go",
        "package geom\n\nfunc area(w, h int) int {\n\treturn w * h\n}\n\n"
        "func perimeter(w, h int) int {\n\treturn \n}\n\n"
        "func main() {\n\tprintln(area(2, 3))\n}\n",
        "8:9",
        "2 * (w + h)\n}\n\nfunc main() {\n\tprintln(area(2, 3))\n}",
        "2 * (w + h)",
        "\treturn 2 * (w + h)",
        "func main() {",
    ),
}


@pytest.mark.parametrize("language", list(GEOM), ids=list(GEOM))
def test_completion_does_not_repeat_the_code_after_the_cursor(
    run_hc, fake_engine, tmp_path: Path, language: str
) -> None:
    name, source, position, reply, expected, line, once = GEOM[language]
    (tmp_path / name).write_text(source)
    env = fake_engine(reply, fim=FIM)

    plain = run_hc("complete", f"{name}:{position}", cwd=tmp_path, env=env)
    result = complete_json(run_hc, tmp_path, f"{name}:{position}", env)

    assert plain.returncode == 0
    assert plain.stdout.rstrip("\n") == expected
    applied = apply(source.encode(), result).decode()
    assert applied.count(once) == 1
    assert applied.splitlines()[int(position.split(":")[0]) - 1] == line


REST_OF_LINE = {
    "python": ("geom.py", "10:15", "(2, 3))"),
    "javascript": ("geom.js", "10:19", "(2, 3));"),
    "go": ("geom.go", "12:14", "(2, 3))"),
}


@pytest.mark.parametrize("language", list(REST_OF_LINE), ids=list(REST_OF_LINE))
def test_reply_repeating_the_rest_of_the_line_gives_empty_output(
    run_hc, fake_engine, tmp_path: Path, language: str
) -> None:
    name, position, reply = REST_OF_LINE[language]
    (tmp_path / name).write_text(GEOM[language][1])

    result = run_hc(
        "complete", f"{name}:{position}", cwd=tmp_path, env=fake_engine(reply, fim=FIM)
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


# --- C07: a whitespace-only line gets one indentation, not two ---------------

LOOPS = {
    "python": (
        "loop.py",
        "def show(items):\n    for it in items:\n        \n",
        8,
        "        print(it)",
        "print(it)",
    ),
    "javascript": (
        "loop.js",
        "function show(items) {\n  for (const it of items) {\n    \n  }\n}\n",
        4,
        "    console.log(it);",
        "console.log(it);",
    ),
    "go": (
        "loop.go",
        "package loop\n\nfunc show(items []int) {\n\tfor _, it := range items {\n"
        "\t\t\n\t}\n}\n",
        2,
        "\t\tprintln(it)",
        "println(it)",
    ),
}


@pytest.mark.parametrize("language", list(LOOPS), ids=list(LOOPS))
def test_cursor_after_indentation_on_blank_line_is_not_indented_twice(
    run_hc, fake_engine, tmp_path: Path, language: str
) -> None:
    name, source, width, reply, expected = LOOPS[language]
    (tmp_path / name).write_text(source)
    line = source.split("\n").index(reply[:width]) + 1
    env = fake_engine(reply, fim=FIM)

    plain = run_hc("complete", f"{name}:{line}:{width + 1}", cwd=tmp_path, env=env)
    result = complete_json(run_hc, tmp_path, f"{name}:{line}:{width + 1}", env)

    assert plain.stdout.rstrip("\n") == expected
    assert apply(source.encode(), result).decode().split("\n")[line - 1] == reply


@pytest.mark.parametrize("language", list(LOOPS), ids=list(LOOPS))
def test_cursor_at_column_one_of_blank_line_leaves_no_extra_whitespace(
    run_hc, fake_engine, tmp_path: Path, language: str
) -> None:
    name, source, width, reply, _ = LOOPS[language]
    (tmp_path / name).write_text(source)
    line = source.split("\n").index(reply[:width]) + 1

    result = complete_json(
        run_hc, tmp_path, f"{name}:{line}:1", fake_engine(reply, fim=FIM)
    )

    assert apply(source.encode(), result).decode().split("\n")[line - 1] == reply


# --- C08: CRLF file: clean prompt, CRLF completion ---------------------------

CRLF = {
    "python": (
        "sumx.py",
        b"def total(xs):\r\n    s = 0\r\n    for x in xs:\r\n        \r\n"
        b"    return s\r\n",
        "4:9",
        "if x:\n            s += x",
        b"def total(xs):\r\n    s = 0\r\n    for x in xs:\r\n        if x:\r\n"
        b"            s += x\r\n    return s\r\n",
    ),
    "javascript": (
        "sumx.js",
        b"function total(xs) {\r\n  let s = 0;\r\n  for (const x of xs) {\r\n    \r\n"
        b"  }\r\n  return s;\r\n}\r\n",
        "4:5",
        "if (x) {\n      s += x;\n    }",
        b"function total(xs) {\r\n  let s = 0;\r\n  for (const x of xs) {\r\n"
        b"    if (x) {\r\n      s += x;\r\n    }\r\n  }\r\n  return s;\r\n}\r\n",
    ),
    "go": (
        "sumx.go",
        b"package sumx\r\n\r\nfunc total(xs []int) int {\r\n\ts := 0\r\n"
        b"\tfor _, x := range xs {\r\n\t\t\r\n\t}\r\n\treturn s\r\n}\r\n",
        "6:3",
        "if x > 0 {\n\t\t\ts += x\n\t\t}",
        b"package sumx\r\n\r\nfunc total(xs []int) int {\r\n\ts := 0\r\n"
        b"\tfor _, x := range xs {\r\n\t\tif x > 0 {\r\n\t\t\ts += x\r\n\t\t}\r\n"
        b"\t}\r\n\treturn s\r\n}\r\n",
    ),
}


@pytest.mark.parametrize("language", list(CRLF), ids=list(CRLF))
@pytest.mark.parametrize("fim", [FIM, None], ids=["fim", "prefix-only"])
def test_crlf_file_gets_a_clean_prompt_and_a_crlf_completion(
    run_hc, fake_engine, tmp_path: Path, language: str, fim: dict[str, int] | None
) -> None:
    name, data, position, reply, expected = CRLF[language]
    (tmp_path / name).write_bytes(data)
    env = fake_engine(reply, fim=fim)

    plain = run_hc("complete", f"{name}:{position}", cwd=tmp_path, env=env)
    result = complete_json(run_hc, tmp_path, f"{name}:{position}", env)

    assert all("\r" not in prompt for prompt in recorded_prompts(tmp_path))
    assert recorded_prompts(tmp_path)
    stdout = plain.stdout.encode()
    assert stdout.count(b"\r") == stdout.count(b"\r\n") > 0
    assert apply(data, result) == expected


def test_crlf_text_never_reaches_the_tokenizer() -> None:
    from hybridcode.complete import CompletionRequest, complete
    from hybridcode.context.sourcefile import decode_source
    from hybridcode.engine.base import FimTokens
    from hybridcode.engine.fake import FakeEngine, ScriptedReply

    seen: list[str] = []

    class Recording(FakeEngine):
        def tokenize(self, text: str) -> list[int]:
            seen.append(text)
            return super().tokenize(text)

    engine = Recording(
        [ScriptedReply("if x:\n            s += x")], fim=FimTokens(1, 2, 3)
    )
    name, data, _, _, _ = CRLF["python"]
    request = CompletionRequest(decode_source(data, name), 4, 9, 64, 8, 2.0, "python")

    result = complete(engine, request)

    assert seen and not any("\r" in text for text in seen)
    assert result.text == "if x:\r\n            s += x"


# --- C27: a file far larger than the context window -------------------------


def test_huge_file_is_budgeted_to_the_context_window(
    run_hc, fake_engine, tmp_path: Path
) -> None:
    src = "".join(f"def f{n}(x):\n    return x + {n}\n\n\n" for n in range(4000))
    src += "def last(x)\n    return x\n"
    (tmp_path / "huge.py").write_text(src)

    fim = run_hc(
        "complete",
        "huge.py:8000:1",
        cwd=tmp_path,
        env=fake_engine("pass", n_ctx=2048, fim=FIM),
    )
    prefix_only = run_hc(
        "complete", "huge.py:8000:1", cwd=tmp_path, env=fake_engine("pass", n_ctx=2048)
    )

    for result in (fim, prefix_only):
        assert result.returncode == 0, result.stderr
        assert "exceed" not in result.stderr
        assert result.stdout == "pass"
    prompts = recorded_prompts(tmp_path)
    assert len(prompts[0].split()) + 64 <= 2048
    assert "def f1999(x):" in prompts[1]  # the lines just before the cursor
