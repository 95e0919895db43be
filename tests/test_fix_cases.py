"""Failure cases C01, C02, C04, C26, C27 and the --check parts of C29, per language."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import git, recorded_prompts

Run = Callable[..., object]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# C01 ---------------------------------------------------------------------------

C01_CRLF = (
    b"def add(a, b)\r\n    return a + b\r\n\r\n\r\n"
    b"def sub(a, b):\r\n    return a - b\r\n"
)
C01_FIXED = (
    b"def add(a, b):\r\n    return a + b\r\n\r\n\r\ndef sub(a, b):\r\n"
    b"    return a - b\r\n"
)


def test_c01_crlf_file_stays_crlf(tmp_path: Path, run_hc, fake_engine) -> None:
    (tmp_path / "calc.py").write_bytes(C01_CRLF)
    env = fake_engine("def add(a, b):\n    return a + b\n")
    done = run_hc("fix", "calc.py", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "calc.py").read_bytes() == C01_FIXED
    assert "Traceback" not in done.stderr


def test_c01_mirror_lf_file_stays_lf_with_crlf_reply(
    tmp_path, run_hc, fake_engine
) -> None:
    (tmp_path / "calc.py").write_bytes(C01_CRLF.replace(b"\r\n", b"\n"))
    env = fake_engine("def add(a, b):\r\n    return a + b\r\n")
    done = run_hc("fix", "calc.py", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    data = (tmp_path / "calc.py").read_bytes()
    assert b"\r" not in data
    assert data == C01_FIXED.replace(b"\r\n", b"\n")


def test_c01_model_reply_with_lf_keeps_crlf(tmp_path, run_hc, fake_engine) -> None:
    # Two stray tokens: no single-token edit repairs it, so the model's reply is used.
    broken = b"x = 1\r\ndef add(a, b):\r\n    return a +* * b\r\n\r\ny = 2\r\n"
    (tmp_path / "calc.py").write_bytes(broken)
    env = fake_engine("```python\ndef add(a, b):\n    return a * b\n```")
    done = run_hc("fix", "calc.py", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "calc.py").read_bytes() == (
        b"x = 1\r\ndef add(a, b):\r\n    return a * b\r\n\r\ny = 2\r\n"
    )
    assert recorded_prompts(tmp_path), "the model was not asked"
    assert all("\r" not in p for p in recorded_prompts(tmp_path))


# C02 ---------------------------------------------------------------------------

C02_HELPERS = "".join(f"def helper_{n}():\n    return {n}\n\n\n" for n in range(1, 13))
C02_REPLY = (
    "def total(items):\n    return sum(i.price for i in items)\n\n"
    "# ... rest of the file unchanged ...\n"
)


def test_c02_elided_reply_is_never_written(tmp_path, run_hc, fake_engine) -> None:
    body = (
        "def total(items)\n    return sum(i.price for i in items)\n\n\n" + C02_HELPERS
    )
    (tmp_path / "inventory.py").write_text(body)
    done = run_hc("fix", "inventory.py", cwd=tmp_path, env=fake_engine(C02_REPLY))
    text = (tmp_path / "inventory.py").read_text()
    assert "rest of the file" not in text
    assert sum(line.startswith("def helper_") for line in text.splitlines()) == 12
    assert done.returncode == 0, done.stderr
    assert text == body.replace("def total(items)\n", "def total(items):\n", 1)


def test_c02_elided_reply_refused_when_only_the_model_could_fix(
    tmp_path, run_hc, fake_engine
) -> None:
    body = (
        "def total(items):\n    return sum(i.price +* * 1 for i in items)\n\n\n"
        + C02_HELPERS
    )
    target = tmp_path / "inventory.py"
    target.write_text(body)
    before = sha(target)
    done = run_hc("fix", "inventory.py", cwd=tmp_path, env=fake_engine(C02_REPLY))
    assert done.returncode == 3
    assert sha(target) == before
    assert "incomplete" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("name", "body", "reply"),
    [
        (
            "app.js",
            "function total(items) {\n  return items.map((i) => i.price +* * 1);\n}\n",
            "function total(items) {\n  // ... rest unchanged\n}\n",
        ),
        (
            "main.go",
            "package main\n\nfunc total(x int) int {\n\treturn (x + 1)))\n}\n",
            "func total(x int) int {\n\t...\n}\n",
        ),
        (
            "lib.rs",
            "fn total(x: i32) -> i32 {\n    (x + 1)))\n}\n",
            "fn total(x: i32) -> i32 {\n    // existing code here\n}\n",
        ),
    ],
    ids=["javascript", "go", "rust"],
)
def test_elided_reply_refused_in_other_languages(
    tmp_path, run_hc, fake_engine, name, body, reply
) -> None:
    target = tmp_path / name
    target.write_text(body)
    done = run_hc("fix", name, cwd=tmp_path, env=fake_engine(reply))
    assert done.returncode == 3, done.output
    assert target.read_text() == body
    assert "incomplete" in done.stderr


def test_reply_stopped_at_max_tokens_is_never_used(
    tmp_path, run_hc, fake_engine
) -> None:
    body = "def f(x):\n    return x +* * 2\n"
    (tmp_path / "m.py").write_text(body)
    env = fake_engine(
        {"text": "def f(x):\n    return x * 2\n", "finish_reason": "length"}
    )
    done = run_hc("fix", "m.py", cwd=tmp_path, env=env)
    assert done.returncode == 3
    assert (tmp_path / "m.py").read_text() == body
    assert "stopped at length" in done.stderr


# C04 ---------------------------------------------------------------------------

C04_INPUT = b"\xff\xfe" + "x = 1\r\ny = (2\r\n".encode("utf-16-le")


def test_c04_utf16_le_bom_round_trips(tmp_path, run_hc, fake_engine) -> None:
    (tmp_path / "legacy.py").write_bytes(C04_INPUT)
    env = fake_engine("x = 1\ny = (2)\n")
    check = run_hc("fix", "--check", "legacy.py", cwd=tmp_path, env=env)
    assert check.returncode == 1
    assert (tmp_path / "legacy.py").read_bytes() == C04_INPUT
    done = run_hc("fix", "legacy.py", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "legacy.py").read_bytes() == (
        b"\xff\xfe" + "x = 1\r\ny = (2)\r\n".encode("utf-16-le")
    )
    assert "NUL" not in done.stderr + check.stderr


@pytest.mark.parametrize(
    ("name", "text", "fixed"),
    [
        (
            "app.js",
            "const x = 1;\r\nconst y = (2;\r\n",
            "const x = 1;\r\nconst y = (2);\r\n",
        ),
        (
            "main.go",
            "package main\r\n\r\nvar y = (2\r\n",
            "package main\r\n\r\nvar y = (2)\r\n",
        ),
        ("data.json", '{"a": 1\r\n "b": 2}\r\n', '{"a": 1,\r\n "b": 2}\r\n'),
    ],
    ids=["javascript", "go", "json"],
)
@pytest.mark.parametrize("bom", ["utf-16-le", "utf-16-be", "utf-8-sig"])
def test_bom_encodings_round_trip_in_other_languages(
    tmp_path, run_hc, fake_engine, name, text, fixed, bom
) -> None:
    (tmp_path / name).write_bytes(_with_bom(text, bom))
    done = run_hc("fix", name, cwd=tmp_path, env=fake_engine(""))
    assert done.returncode == 0, done.output
    assert (tmp_path / name).read_bytes() == _with_bom(fixed, bom)


def _with_bom(text: str, codec: str) -> bytes:
    if codec == "utf-8-sig":
        return text.encode("utf-8-sig")
    bom = b"\xff\xfe" if codec == "utf-16-le" else b"\xfe\xff"
    return bom + text.encode(codec)


# C26 ---------------------------------------------------------------------------

BAD_MODELS = {
    "legacy.bin": (b"tjgg" + (3).to_bytes(4, "little") + bytes(4096), "legacy GGML"),
    "trunc.gguf": (b"GGUF" + (3).to_bytes(4, "little"), "trunc"),
    "html.gguf": (b"<html>404 Not Found</html>\n", "not a GGUF"),
}


@pytest.mark.parametrize("model", list(BAD_MODELS), ids=list(BAD_MODELS))
def test_c26_broken_model_file_gives_a_clear_error(
    tmp_path, run_hc, hc_home, model
) -> None:
    data, words = BAD_MODELS[model]
    (tmp_path / model).write_bytes(data)
    body = "def f(x):\n    return x +* * 2\n"  # needs the model
    (tmp_path / "x.py").write_text(body)
    done = run_hc("fix", "x.py", "--model", model, cwd=tmp_path, timeout=30)
    assert done.returncode == 3, done.output
    assert model in done.stderr
    assert words.lower() in done.stderr.lower()
    assert "Traceback" not in done.stderr and "AssertionError" not in done.stderr
    assert (tmp_path / "x.py").read_text() == body
    models = hc_home / "cache" / "models"
    assert not models.exists() or not any(models.iterdir())


def test_c26_clean_file_never_opens_the_model(tmp_path, run_hc) -> None:
    (tmp_path / "legacy.bin").write_bytes(BAD_MODELS["legacy.bin"][0])
    (tmp_path / "ok.py").write_text("x = 1\n")
    done = run_hc("fix", "ok.py", "--model", "legacy.bin", cwd=tmp_path)
    assert done.returncode == 0, done.output


# C27 ---------------------------------------------------------------------------

HUGE = "".join(f"def f{n}(x):\n    return x + {n}\n\n\n" for n in range(4000))


def test_c27_huge_file_changes_only_last(tmp_path, run_hc, fake_engine) -> None:
    src = HUGE + "def last(x)\n    return x\n"
    (tmp_path / "huge.py").write_text(src)
    env = fake_engine("def last(x):\n    return x\n", n_ctx=2048)
    done = run_hc("fix", "huge.py", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.output
    assert (tmp_path / "huge.py").read_text() == HUGE + "def last(x):\n    return x\n"


def test_c27_model_sees_only_the_region_of_a_huge_file(
    tmp_path, run_hc, fake_engine
) -> None:
    src = HUGE + "def last(x):\n    return x +* * 1\n"
    (tmp_path / "huge.py").write_text(src)
    env = fake_engine("def last(x):\n    return x * 1\n", n_ctx=2048)
    done = run_hc("fix", "huge.py", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.output
    assert (
        tmp_path / "huge.py"
    ).read_text() == HUGE + "def last(x):\n    return x * 1\n"
    prompts = recorded_prompts(tmp_path)
    assert prompts and all(len(p.split()) < 2048 for p in prompts)
    assert "def f17(" not in prompts[0]


def test_c27_region_too_large_for_the_context_is_a_clear_error(
    tmp_path, run_hc, fake_engine
) -> None:
    # One statement on one line: no region smaller than it exists.
    src = "x = 1\nvalues = [" + "1, " * 3000 + "2 +* * 3]\n"
    (tmp_path / "big.py").write_text(src)
    done = run_hc("fix", "big.py", cwd=tmp_path, env=fake_engine("", n_ctx=2048))
    assert done.returncode == 3, done.output
    assert "too large for the model context" in done.stderr
    assert "> 2048 tokens" in done.stderr
    assert "exceed context window" not in done.stderr
    assert (tmp_path / "big.py").read_text() == src


# C29 (--check parts) -------------------------------------------------------------


@pytest.fixture
def c29_repo(repo: Path) -> Path:
    (repo / "bad.py").write_bytes(b"def f(:\n    pass\n")
    (repo / "good.py").write_bytes(b"def f():\n    pass\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    return repo


def test_c29_check_good_file_exits_0(c29_repo, run_hc, fake_engine) -> None:
    done = run_hc("fix", "--check", "good.py", cwd=c29_repo, env=fake_engine("x"))
    assert done.returncode == 0
    assert done.stdout == ""
    assert "OK" in done.stderr


def test_c29_check_bad_file_exits_1_and_leaves_it(
    c29_repo, run_hc, fake_engine
) -> None:
    env = fake_engine("def f():\n    pass\n")
    done = run_hc("fix", "--check", "bad.py", cwd=c29_repo, env=env)
    assert done.returncode == 1
    assert "bad.py:1" in done.stdout
    assert "1 fix available" in done.stderr
    assert (c29_repo / "bad.py").read_bytes() == b"def f(:\n    pass\n"
    assert git(c29_repo, "status", "--porcelain") == ""


def test_c29_check_missing_file_exits_2(c29_repo, run_hc, fake_engine) -> None:
    done = run_hc("fix", "--check", "missing.py", cwd=c29_repo, env=fake_engine("x"))
    assert done.returncode == 2
    assert "missing.py" in done.stderr


def test_c29_fix_writes_and_exits_0(c29_repo, run_hc, fake_engine) -> None:
    done = run_hc(
        "fix", "bad.py", cwd=c29_repo, env=fake_engine("def f():\n    pass\n")
    )
    assert done.returncode == 0
    assert (c29_repo / "bad.py").read_bytes() == b"def f():\n    pass\n"


@pytest.mark.parametrize(
    ("name", "bad", "good"),
    [
        (
            "app.js",
            b"function f(a {\n  return a;\n}\n",
            b"function f(a) {\n  return a;\n}\n",
        ),
        (
            "main.go",
            b"package main\n\nfunc f() {\n\tg(1, 2\n}\n",
            b"package main\n\nfunc f() {\n\tg(1, 2)\n}\n",
        ),
        (
            "lib.rs",
            b"fn f() {\n    let x = [1, 2;\n}\n",
            b"fn f() {\n    let x = [1, 2];\n}\n",
        ),
        (
            "A.java",
            b"class A {\n  int f() { return 1 }\n}\n",
            b"class A {\n  int f() { return 1; }\n}\n",
        ),
    ],
    ids=["javascript", "go", "rust", "java"],
)
def test_check_then_fix_in_other_languages(
    repo, run_hc, fake_engine, name, bad, good
) -> None:
    (repo / name).write_bytes(bad)
    (repo / ("ok" + Path(name).suffix)).write_bytes(good)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    env = fake_engine("")
    assert (
        run_hc("fix", "--check", "ok" + Path(name).suffix, cwd=repo, env=env).returncode
        == 0
    )
    check = run_hc("fix", "--check", name, cwd=repo, env=env)
    assert check.returncode == 1
    assert (repo / name).read_bytes() == bad
    done = run_hc("fix", name, cwd=repo, env=env)
    assert done.returncode == 0, done.output
    assert (repo / name).read_bytes() == good
