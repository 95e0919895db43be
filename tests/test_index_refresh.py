"""The retrieval index: chunking, the per-repo cache, refreshing by blob id."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import git

from hybridcode.context.chunking import chunk_text, tokenize
from hybridcode.context.index import (
    IndexOptions,
    RepoIndex,
    find_workspace,
    index_dir,
)


def open_index(root: Path, cache: Path) -> RepoIndex:
    return RepoIndex(find_workspace(root), cache, IndexOptions())


def write_repo(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "files")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("getHTTPResponse", ["gethttpresponse", "get", "http", "response"]),
        ("parse_json_files", ["parse_json_files", "parse", "json", "file"]),
        ("__init__ the of", ["init"]),
        ("XMLParser", ["xmlparser", "xml", "parser"]),
    ],
    ids=["camel", "snake", "dunder-and-stopwords", "acronym"],
)
def test_identifiers_split_on_case_and_underscores(text, expected):
    assert tokenize(text) == expected


def test_python_chunks_are_functions_classes_and_methods():
    methods = "".join(
        f"    def method_{n}(self):\n" + "        x = 1\n" * 8 + "        return x\n\n"
        for n in range(8)
    )
    text = (
        "import os\n\n\n"
        "def small():\n    return 1\n\n\n"
        "@decorator\ndef decorated():\n    return 2\n\n\n"
        f"class Big:\n    '''A class too big for one chunk.'''\n\n{methods}"
    )

    chunks = chunk_text("m.py", text, chunk_lines=60, parse_timeout_s=2).chunks

    named = [(c.kind, c.name, c.start) for c in chunks if c.kind != "lines"]
    assert named[:2] == [
        ("function_definition", "small", 4),
        ("function_definition", "decorated", 8),
    ]
    assert [n for _, n, _ in named[2:]] == [f"method_{n}" for n in range(8)]
    assert chunks[0].text == "import os"
    assert any(c.kind == "lines" and "class Big:" in c.text for c in chunks)


def test_text_without_a_grammar_is_cut_into_line_windows():
    text = "\n".join(f"line {n}" for n in range(150))

    chunks = chunk_text("notes.txt", text, chunk_lines=60, parse_timeout_s=2).chunks

    assert [(c.start, c.end) for c in chunks] == [(1, 60), (61, 120), (121, 150)]


def test_index_lives_in_the_user_cache_per_repo(repo, hc_home):
    write_repo(repo, {"a.py": "def alpha():\n    return 1\n"})
    cache = hc_home / "cache"

    index = open_index(repo, cache)
    index.refresh()
    index.close()

    folder = index_dir(cache, repo)
    assert folder.parent == cache / "index"
    assert (folder / "index.sqlite3").is_file()
    assert list(folder.glob("bm25-*/doc_ids.npy"))
    assert not any(
        p.name.startswith(".") and p.is_dir()
        for p in repo.iterdir()
        if p.name != ".git"
    )


def test_second_run_after_changing_one_file_rereads_one_file(repo, hc_home):
    files = {f"pkg/mod{n}.py": f"def func_{n}():\n    return {n}\n" for n in range(20)}
    write_repo(repo, files)
    cache = hc_home / "cache"
    first = open_index(repo, cache).refresh()
    assert len(first.reread) == 20

    (repo / "pkg/mod7.py").write_text("def renamed_seven():\n    return 7\n")
    index = open_index(repo, cache)
    second = index.refresh()

    assert second.reread == ("pkg/mod7.py",)
    assert second.rebuilt
    assert index.search("renamed seven", 1)[0].chunk.source == "pkg/mod7.py:1-2"
    third = open_index(repo, cache).refresh()
    assert third.reread == () and not third.rebuilt


def test_touching_an_untracked_file_does_not_reindex_it(repo, hc_home):
    write_repo(repo, {"a.py": "def alpha():\n    return 1\n"})
    (repo / "draft.py").write_text("def beta():\n    return 2\n")
    cache = hc_home / "cache"
    assert "draft.py" in open_index(repo, cache).refresh().reread

    os.utime(repo / "draft.py", ns=(1, 1))
    after_touch = open_index(repo, cache).refresh()

    assert after_touch.reread == ()
    assert not after_touch.rebuilt


def test_untracked_files_count_and_ignored_files_do_not(repo, hc_home):
    write_repo(repo, {".gitignore": "secret.py\n", "a.py": "x = 1\n"})
    (repo / "draft.py").write_text("def untracked_helper():\n    return 2\n")
    (repo / "secret.py").write_text("def ignored_helper():\n    return 3\n")
    index = open_index(repo, hc_home / "cache")
    index.refresh()

    sources = [hit.chunk.path for hit in index.search("helper", 5)]

    assert sources == ["draft.py"]


def test_deleted_files_leave_the_index(repo, hc_home):
    write_repo(repo, {"a.py": "def gone_soon():\n    return 1\n", "b.py": "y = 2\n"})
    cache = hc_home / "cache"
    open_index(repo, cache).refresh()

    git(repo, "rm", "-q", "a.py")
    index = open_index(repo, cache)
    index.refresh()

    assert index.search("gone soon", 5) == []


def test_a_corrupt_cache_is_rebuilt(repo, hc_home):
    write_repo(repo, {"a.py": "def alpha():\n    return 1\n"})
    cache = hc_home / "cache"
    open_index(repo, cache).refresh()
    (index_dir(cache, repo) / "index.sqlite3").write_bytes(b"not a database" * 100)

    index = open_index(repo, cache)
    report = index.refresh()

    assert report.reread == ("a.py",)
    assert index.search("alpha", 1)[0].chunk.source == "a.py:1-2"


def test_submodules_are_skipped(repo, hc_home, tmp_path):
    inner = tmp_path / "inner"
    inner.mkdir()
    git(inner, "init", "-q", "-b", "main")
    (inner / "lib.py").write_text("def inner_function():\n    return 1\n")
    git(inner, "add", "-A")
    git(inner, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "x")
    write_repo(repo, {"a.py": "x = 1\n"})
    git(
        repo,
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        str(inner),
        "sub",
    )

    index = open_index(repo, hc_home / "cache")
    report = index.refresh()

    assert ("sub", "submodule") in {(s.path, s.reason) for s in report.skipped}
    assert [h.chunk.path for h in index.search("inner function", 5)] == [".gitmodules"]


def test_outside_git_the_folder_is_indexed(tmp_path, hc_home):
    folder = tmp_path / "plain"
    (folder / "src").mkdir(parents=True)
    (folder / "src/tool.py").write_text("def plain_tool():\n    return 1\n")
    (folder / "node_modules").mkdir()
    (folder / "node_modules/dep.js").write_text("function plain_tool() {}\n")

    index = open_index(folder, hc_home / "cache")
    report = index.refresh()

    assert not report.workspace.in_git
    assert [h.chunk.source for h in index.search("plain tool", 5)] == [
        "src/tool.py:1-2"
    ]
