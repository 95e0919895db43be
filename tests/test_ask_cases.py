"""hc ask over awkward repos: binaries, minified bundles, hanging parses, symlinks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import git, recorded_prompts


def commit_all(repo: Path) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "files")


def test_binary_files_never_reach_the_prompt(repo, run_hc, fake_engine, tmp_path):
    # C10
    (repo / "assets").mkdir()
    (repo / "app.py").write_text("def main():\n    return 'ok'\n")
    (repo / "assets/logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (repo / "data.bin").write_bytes(b"\x00\xff" * 500)
    commit_all(repo)
    env = fake_engine("main returns ok")

    done = run_hc("ask", "what does main return?", cwd=repo, env=env, input="")

    assert done.returncode == 0, done.stderr
    assert "main returns ok" in done.stdout
    assert "app.py:1-2" in done.stdout
    (prompt,) = recorded_prompts(tmp_path)
    assert "File app.py:1-2" in prompt
    assert "PNG" not in prompt and "\x00" not in prompt and "\ufffd" not in prompt
    assert "Traceback" not in done.stderr


def test_minified_five_megabyte_bundle_is_skipped_cheaply(
    repo, run_hc, fake_engine, tmp_path
):
    # C11
    (repo / "vendor").mkdir()
    (repo / "src").mkdir()
    (repo / "vendor/bundle.min.js").write_bytes(b"var a=0;" * 625000)
    (repo / "src/app.py").write_text("def main():\n    return 1\n")
    commit_all(repo)
    env = fake_engine("main is in src/app.py", n_ctx=2048)

    peak, elapsed, done = _measured_ask(repo, env, "where is main defined?")

    assert done.returncode == 0, done.stderr
    assert "src/app.py:1-2" in done.stdout
    assert elapsed < 60
    assert peak < 1.5e9
    (prompt,) = recorded_prompts(tmp_path)
    assert "var a=0;" not in prompt
    assert len(prompt.split()) + prompt.count("\n") <= 2048
    assert "vendor/bundle.min.js: too large (5,000,000 bytes" in done.stderr


def test_vendored_minified_bundle_under_the_size_limit_is_skipped(
    repo, run_hc, fake_engine
):
    (repo / "vendor").mkdir()
    (repo / "vendor/lib.min.js").write_text("var b=1;" * 40_000 + "\n")
    (repo / "app.py").write_text("def main():\n    return 1\n")
    commit_all(repo)

    done = run_hc("-v", "ask", "--no-model", "var", cwd=repo, input="")

    assert done.returncode == 0, done.stderr
    assert "vendor/lib.min.js" not in done.stdout
    assert (
        "skipped vendor/lib.min.js: minified or generated (a line of 320,000 "
        "characters)" in done.stderr
    )


def test_a_fifty_thousand_line_lockfile_is_skipped(repo, run_hc, fake_engine, tmp_path):
    lines = [
        f'    "node_modules/pkg{n}": {{"version": "1.0.{n}"}},' for n in range(50_000)
    ]
    (repo / "package-lock.json").write_text("{\n" + "\n".join(lines) + "\n}\n")
    (repo / "server.js").write_text("function main() {\n  return 1;\n}\n")
    commit_all(repo)
    env = fake_engine("main returns 1")

    done = run_hc("-v", "ask", "what does main return?", cwd=repo, env=env, input="")

    assert done.returncode == 0, done.stderr
    assert "server.js:1-3" in done.stdout
    assert "skipped package-lock.json: lockfile (generated)" in done.stderr
    assert "node_modules/pkg" not in recorded_prompts(tmp_path)[0]


def test_a_file_that_stalls_the_parser_is_indexed_as_plain_text(
    repo, run_hc, fake_engine
):
    # C13 as written: the snippet parses instantly today; keep it as a guard.
    (repo / "web").mkdir()
    (repo / "src").mkdir()
    (repo / "web/bad.js").write_bytes(b"{ try { } catch { (, e")
    (repo / "src/app.py").write_text("def main():\n    return 1\n")
    commit_all(repo)
    env = fake_engine("main is in src/app.py")

    started = time.monotonic()
    done = run_hc("-v", "ask", "where is main defined?", cwd=repo, env=env, input="")

    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30
    assert "src/app.py:1-2" in done.stdout


def test_parse_timeout_cancels_a_hanging_parse(repo, hc_home, monkeypatch):
    # C13 with the parser's input slowed to a crawl: the timeout must cancel it.
    from hybridcode.ask import AskRequest, ask
    from hybridcode.config import AskSettings
    from hybridcode.context import chunking

    (repo / "web").mkdir()
    (repo / "src").mkdir()
    (repo / "web/bad.js").write_text("function hang() {\n  return 'stuck';\n}\n")
    (repo / "src/app.py").write_text("def main():\n    return 1\n")
    commit_all(repo)

    def crawling_reader(source: bytes) -> Callable[[int, object], bytes]:
        def read(offset: int, _point: object) -> bytes:
            time.sleep(0.5)  # one byte per read: this parse would take minutes
            return source[offset : offset + 1]

        return read

    monkeypatch.setattr(chunking, "source_reader", crawling_reader)
    request = AskRequest("hang stuck", cwd=repo, use_model=False)

    started = time.monotonic()
    result = ask(request, AskSettings(parse_timeout_s=1), hc_home / "cache")
    elapsed = time.monotonic() - started

    assert elapsed < 10
    plain = {(s.path, s.reason) for s in result.refresh.plain_text}
    reason = "parse took over 1 s, indexed as plain text"
    assert plain == {("web/bad.js", reason), ("src/app.py", reason)}
    assert [c.source for c in result.sources][:1] == ["web/bad.js:1-3"]


def test_verbose_output_names_files_parsed_as_plain_text():
    from hybridcode.context.index import Refresh, Skip, Workspace

    refresh = Refresh(
        Workspace(Path("/r"), True),
        1,
        1,
        ("web/bad.js",),
        (),
        (Skip("web/bad.js", "parse took over 2 s"),),
        True,
        0.1,
    )
    from hybridcode.cli.ask import verbose_lines

    assert "hc: plain text web/bad.js: parse took over 2 s" in verbose_lines(refresh)


@pytest.mark.parametrize(
    ("make_link", "reason"),
    [
        (
            lambda repo, outside: os.symlink("nothere.py", repo / "link.py"),
            "symlink, dangling",
        ),
        (
            lambda repo, outside: os.symlink(outside, repo / "link.py"),
            "symlink to outside the repository",
        ),
        (
            lambda repo, outside: (
                os.symlink("loop_b", repo / "link.py"),
                os.symlink("link.py", repo / "loop_b"),
            ),
            "symlink loop",
        ),
        (
            lambda repo, outside: os.symlink(outside.parent, repo / "link.py"),
            "symlink to outside the repository",
        ),
    ],
    ids=["dangling", "outside-file", "loop", "outside-folder"],
)
def test_symlinks_are_never_followed(repo, run_hc, tmp_path, make_link, reason):
    outside = tmp_path / "secret" / "keys.py"
    outside.parent.mkdir()
    outside.write_text("def leaked_secret():\n    return 'CANARY'\n")
    (repo / "app.py").write_text("def main():\n    return 1\n")
    make_link(repo, outside)
    commit_all(repo)

    done = run_hc(
        "-v", "ask", "--json", "--no-model", "leaked secret main", cwd=repo, input=""
    )

    assert done.returncode == 0, done.stderr
    assert "CANARY" not in done.stdout
    assert f"skipped link.py: {reason}" in done.stderr
    sources = [s["source"] for s in json.loads(done.stdout)["sources"]]
    assert sources == ["app.py:1-2"]


def test_a_symlinked_folder_replacing_a_tracked_one_is_not_followed(
    repo, run_hc, tmp_path
):
    (repo / "lib").mkdir()
    (repo / "lib/util.py").write_text("def helper():\n    return 1\n")
    commit_all(repo)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "util.py").write_text("def helper():\n    return 'CANARY'\n")
    (repo / "lib/util.py").unlink()
    (repo / "lib").rmdir()
    os.symlink(outside, repo / "lib")

    done = run_hc("-v", "ask", "--no-model", "helper", cwd=repo, input="")

    assert done.returncode == 0, done.stderr
    assert "lib/util.py" not in done.stdout
    assert "skipped lib/util.py" in done.stderr


def test_ask_on_a_huge_file_fits_a_small_context(repo, run_hc, fake_engine, tmp_path):
    # C27, the ask part: top-k chunks are cut to n_ctx with max_tokens left.
    src = "".join(f"def f{n}(x):\n    return x + {n}\n\n\n" for n in range(4000))
    src += "def last(x)\n    return x\n"
    (repo / "huge.py").write_text(src)
    env = fake_engine("last returns x", n_ctx=2048)

    done = run_hc("ask", "what does last do?", cwd=repo, env=env, input="")

    assert done.returncode == 0, done.stderr
    assert "huge.py:16001-16002" in done.stdout
    (prompt,) = recorded_prompts(tmp_path)
    assert "def last(x)" in prompt
    assert len(prompt.split()) + prompt.count("\n") + 256 <= 2048


def _measured_ask(repo: Path, env: dict[str, str], question: str):
    """Run hc ask in a child process and return its peak RSS (bytes) and time."""
    import psutil
    from conftest import Result

    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HC_")}
    full_env.update(env, HC_HOME=str(repo.parent / "hc-home"), NO_COLOR="1")
    started = time.monotonic()
    child = psutil.Popen(
        [sys.executable, "-m", "hybridcode", "-v", "ask", question],
        cwd=repo,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    peak = 0
    while child.poll() is None:
        try:
            peak = max(peak, child.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.02)
    out, err = child.communicate()
    elapsed = time.monotonic() - started
    result = Result(child.returncode, out.decode(), err.decode())
    return peak, elapsed, result
