"""hc ask on the command line: sources, --json, --files, stdin, escalation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import git, recorded_prompts

FILES = {
    "billing/invoice.py": "def total_due(lines):\n    return sum(lines)\n",
    "billing/retry.py": (
        "import time\n\n\ndef retry_http(call, attempts=3):\n"
        "    for n in range(attempts):\n        try:\n            return call()\n"
        "        except OSError:\n            time.sleep(2 ** n)\n    raise\n"
    ),
    "auth/login.py": "def login(user, password):\n    return check(user, password)\n",
    "api/routes.py": "def route_invoice(request):\n    return total_due(request)\n",
    "README.md": "# Shop\n\nBilling, auth and an API.\n",
}


@pytest.fixture
def shop(repo: Path) -> Path:
    for name, text in FILES.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "shop")
    return repo


def test_answer_ends_with_its_sources(shop, run_hc, fake_engine, tmp_path):
    env = fake_engine("retry_http retries with exponential backoff")

    done = run_hc("ask", "where do we retry HTTP calls?", cwd=shop, env=env, input="")

    assert done.returncode == 0, done.stderr
    answer, sources = done.stdout.split("\nSources:\n")
    assert answer.strip() == "retry_http retries with exponential backoff"
    assert sources.splitlines()[0] == "billing/retry.py:4-10"
    (prompt,) = recorded_prompts(tmp_path)
    assert "File billing/retry.py:4-10:" in prompt
    assert "Question: where do we retry HTTP calls?" in prompt


def test_json_gives_answer_sources_model_and_timings(shop, run_hc, fake_engine):
    env = fake_engine("in retry_http")

    done = run_hc("ask", "--json", "retry http", cwd=shop, env=env, input="")

    data = json.loads(done.stdout)
    assert data["answer"] == "in retry_http"
    assert data["model"] == "fake"
    assert data["sources"][0]["source"] == "billing/retry.py:4-10"
    assert data["sources"][0]["name"] == "retry_http"
    assert {"index_s", "retrieve_s", "generate_s", "total_s"} <= set(data["timings"])
    assert data["escalation"]["suggested"] is False


def test_files_limits_retrieval(shop, run_hc):
    done = run_hc(
        "ask", "--no-model", "--files", "api", "invoice total due", cwd=shop, input=""
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["api/routes.py:1-2"]


def test_files_that_do_not_exist_are_a_usage_error(shop, run_hc):
    done = run_hc("ask", "--no-model", "--files", "nope.py", "x", cwd=shop, input="")

    assert done.returncode == 2
    assert done.stderr.strip() == "hc: error: --files nope.py: no such file or folder"


def test_no_model_prints_sources_only(shop, run_hc):
    done = run_hc("ask", "--no-model", "total due invoice", cwd=shop, input="")

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "billing/invoice.py:1-2"
    assert all(":" in line and "-" in line for line in done.stdout.splitlines())


def test_stdin_is_appended_as_extra_context(shop, run_hc, fake_engine, tmp_path):
    env = fake_engine("the diff removes the retry")
    diff = "-    for n in range(attempts):\n+    return call()\n"

    done = run_hc("ask", "is this safe?", cwd=shop, env=env, input=diff)

    assert done.returncode == 0, done.stderr
    (prompt,) = recorded_prompts(tmp_path)
    assert f"Extra context:\n```\n{diff.rstrip()}\n```" in prompt


def test_stdin_too_big_for_the_window_is_refused(shop, run_hc, fake_engine):
    env = fake_engine("never", n_ctx=512)

    done = run_hc("ask", "is this safe?", cwd=shop, env=env, input="word " * 2000)

    assert done.returncode == 3
    assert "too large for the model context (" in done.stderr
    assert "> 512 tokens)" in done.stderr


def test_outside_a_git_repo_it_answers_from_the_folder(tmp_path, run_hc, fake_engine):
    folder = tmp_path / "loose"
    folder.mkdir()
    (folder / "tool.py").write_text("def loose_tool():\n    return 1\n")
    env = fake_engine("loose_tool returns 1")

    done = run_hc("ask", "what does loose_tool return?", cwd=folder, env=env, input="")

    assert done.returncode == 0, done.stderr
    assert "tool.py:1-2" in done.stdout
    assert f"not a git repository; answering from the files under {folder}" in (
        done.stderr
    )


def test_a_design_question_across_modules_suggests_escalation(
    shop, run_hc, fake_engine
):
    env = fake_engine("split billing from auth")
    question = "should we redesign the architecture to split billing, auth and api?"

    done = run_hc("ask", question, cwd=shop, env=env, input="")

    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "hc escalate" in line]
    assert len(lines) == 1
    assert "asks about design (architecture, redesign, should we, split)" in lines[0]
    assert "nothing was sent" in lines[0]
    assert (
        "hc escalate 'should we redesign the architecture to split billing, auth "
        "and api?' -f " in lines[0]
    )
    assert "hc escalate" not in done.stdout


def test_a_plain_lookup_does_not_suggest_escalation(shop, run_hc, fake_engine):
    env = fake_engine("in billing/retry.py")

    done = run_hc("ask", "where do we retry HTTP calls?", cwd=shop, env=env, input="")

    assert done.returncode == 0, done.stderr
    assert "escalate" not in done.stderr


def test_escalation_reasons_include_model_uncertainty():
    from hybridcode.ask import escalation_for
    from hybridcode.config import AskSettings
    from hybridcode.context.chunking import Chunk
    from hybridcode.context.index import Hit

    chunk = Chunk("a.py", 1, 2, "lines", "", "x = 1")
    unsure = escalation_for(
        "what is x?", [Hit(chunk, 1.0)], [chunk], [-2.5, -3.0, -1.9], AskSettings()
    )
    sure = escalation_for(
        "what is x?", [Hit(chunk, 1.0)], [chunk], [-0.01, -0.2], AskSettings()
    )

    assert unsure.score == 0.3
    assert unsure.reasons == (
        "the local model is unsure (mean token probability 0.08)",
    )
    assert sure.score == 0.0 and sure.reasons == ()
    assert sure.command == "hc escalate 'what is x?' -f a.py:1-2"


@pytest.mark.model
def test_real_model_answers_with_grounded_sources(repo, run_hc, model_home):
    (repo / "greet.py").write_text(
        'def greet(name):\n    """Say hello."""\n    return f"Hello, {name}!"\n'
    )
    (repo / "math_utils.py").write_text("def add(a, b):\n    return a + b\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "two files")

    done = run_hc(
        "ask",
        "--json",
        "what does greet return?",
        cwd=repo,
        env={"HC_ASK_MAX_TOKENS": "48"},
        input="",
    )

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["model"] == "smollm2-135m"
    assert data["answer"].strip()
    assert data["sources"][0]["source"] == "greet.py:1-3"
    assert data["finish_reason"] in {"stop", "length"}
    assert data["timings"]["generate_s"] > 0


def test_on_a_terminal_the_answer_streams_then_sources(shop, hc_home, fake_engine):
    import os
    import pty
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("HC_")}
    env.update(fake_engine("streamed answer"), HC_HOME=str(hc_home), NO_COLOR="1")
    leader, follower = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "hybridcode", "ask", "retry http"],
        cwd=shop,
        env=env,
        stdin=follower,
        stdout=follower,
        stderr=subprocess.PIPE,
    )
    os.close(follower)
    output = b""
    while True:
        try:
            piece = os.read(leader, 4096)
        except OSError:
            break
        if not piece:
            break
        output += piece
    assert child.wait(timeout=60) == 0
    text = output.decode().replace("\r\n", "\n")
    assert text.startswith("streamed answer\n\nSources:\nbilling/retry.py:4-10\n")


def _hits(*paths: str) -> list:
    from hybridcode.context.chunking import Chunk
    from hybridcode.context.index import Hit

    return [
        Hit(Chunk(p, 1, 5, "lines", "", "x"), 1.0 - n / 100)
        for n, p in enumerate(paths)
    ]


@pytest.mark.parametrize(
    ("question", "paths", "logprobs", "score", "reasons"),
    [
        (
            "where is the design doc?",
            ["docs/a.md"],
            [-0.1],
            0.4,
            ["asks about design (design)"],
        ),
        (
            "how should we migrate the schema?",
            ["db/m.py"],
            [-0.1],
            0.6,
            ["asks about design (migrate, schema, should we)"],
        ),
        (
            "where is x set?",
            ["a/x.py", "b/y.py", "c/z.py", "c/w.py"],
            [-2.0],
            0.5,
            [
                "spans 4 files in 3 folders",
                "the local model is unsure (mean token probability 0.14)",
            ],
        ),
    ],
    ids=["one-design-word", "design-question", "spread-and-unsure"],
)
def test_escalation_score_is_explained(question, paths, logprobs, score, reasons):
    from hybridcode.ask import escalation_for
    from hybridcode.config import AskSettings

    hits = _hits(*paths)
    sources = [h.chunk for h in hits]

    found = escalation_for(question, hits, sources, logprobs, AskSettings())

    assert (found.score, list(found.reasons)) == (score, reasons)
    assert found.suggested is (score >= 0.6)


@pytest.mark.parametrize(
    "question", ["x", "?", "zzqqxx"], ids=["short", "punct", "unknown"]
)
def test_a_question_with_nothing_searchable_is_not_an_error(shop, run_hc, question):
    result = run_hc("ask", "--no-model", question, cwd=shop)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
