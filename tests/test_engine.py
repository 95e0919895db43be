"""Engines on the real embedded model: llama-cpp-python in-process and over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hybridcode.config import ModelSettings
from hybridcode.engine.base import GenerateOptions, Message
from hybridcode.engine.llama import LlamaEngine, default_threads
from hybridcode.engine.openai import OpenAIEngine
from hybridcode.errors import ContextOverflowError, ModelError

pytestmark = pytest.mark.model
HELLO = [Message("user", "Write the word hello.")]


@pytest.fixture(scope="module")
def engine(smollm2_path: Path) -> LlamaEngine:
    return LlamaEngine(smollm2_path, ModelSettings(n_ctx=512), name="smollm2-135m")


def test_model_loads_lazily(smollm2_path: Path):
    fresh = LlamaEngine(smollm2_path, ModelSettings(), name="smollm2-135m")
    assert fresh._llm is None
    assert fresh.count_tokens("def f(x):\n    return x") > 3
    assert fresh._llm is not None


def test_threads_are_set_explicitly(engine: LlamaEngine):
    assert engine.llm.n_threads == default_threads()


def test_tokenizer_is_the_models_own(engine: LlamaEngine):
    tokens = engine.tokenize("hello world")
    assert engine.detokenize(tokens).strip() == "hello world"
    assert engine.count_tokens("hello world") == len(tokens)


def test_greedy_generation_is_deterministic(engine: LlamaEngine):
    options = GenerateOptions(max_tokens=12)
    first = engine.chat(HELLO, options)
    second = engine.chat(HELLO, options)
    assert first.text == second.text
    assert first.text.strip()
    assert first.prompt_tokens == engine.chat_prompt_tokens(HELLO)


def test_length_limit_is_reported(engine: LlamaEngine):
    reply = engine.complete("Once upon a time", GenerateOptions(max_tokens=4))
    assert reply.finish_reason == "length"
    assert reply.completion_tokens == 4


def test_streaming_pieces_add_up_to_the_text(engine: LlamaEngine):
    pieces: list[str] = []
    reply = engine.chat(HELLO, GenerateOptions(max_tokens=8, on_text=pieces.append))
    assert "".join(pieces) == reply.text


def test_logprobs_are_recorded_without_logits_all(engine: LlamaEngine):
    reply = engine.chat(HELLO, GenerateOptions(max_tokens=6, logprobs=True))
    assert len(reply.token_logprobs) >= reply.completion_tokens - 1
    assert all(value <= 0 for value in reply.token_logprobs)


def test_prompt_over_the_context_names_the_sizes(engine: LlamaEngine):
    with pytest.raises(ContextOverflowError, match=r"> 512 tokens"):
        engine.complete("word " * 600, GenerateOptions(max_tokens=16))


def test_model_without_chat_template_is_refused(engine: LlamaEngine):
    from dataclasses import replace

    bare = LlamaEngine(engine.path, engine.settings, name="bare")
    metadata = {
        k: v for k, v in engine.info.metadata.items() if k != "tokenizer.chat_template"
    }
    bare.info = replace(engine.info, metadata=metadata)
    with pytest.raises(ModelError, match="no chat template"):
        bare.chat(HELLO, GenerateOptions(max_tokens=4))


def test_smoke_is_quiet_on_stderr(run_hc, model_home: Path):
    result = run_hc("doctor", "--smoke")
    assert result.returncode == 0, result.output
    assert "smoke" in result.stdout
    assert result.stderr == ""  # no llama.cpp log lines


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(smollm2_path: Path) -> Iterator[str]:
    """llama-cpp-python's own OpenAI-compatible server on loopback."""
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(smollm2_path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "1024",
            "--verbose",
            "false",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(url + "/v1/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_openai_backend_chat_and_completion(llama_server: str):
    remote = OpenAIEngine.from_settings(
        ModelSettings(backend="openai", base_url=llama_server, n_ctx=1024)
    )
    chat = remote.chat(HELLO, GenerateOptions(max_tokens=8))
    assert chat.text.strip()
    raw = remote.complete("def add(a, b):\n", GenerateOptions(max_tokens=4))
    assert raw.finish_reason == "length"
    assert remote.count_tokens("hello world") == 2  # the server's tokenizer


def test_openai_backend_from_the_cli(run_hc, llama_server: str):
    result = run_hc(
        "--backend", "openai", "--base-url", llama_server, "doctor", "--smoke"
    )
    assert result.returncode == 0, result.output
    assert "served remotely" in result.stdout


def test_unreachable_server_is_exit_3(run_hc):
    result = run_hc(
        "--backend",
        "openai",
        "--base-url",
        f"http://127.0.0.1:{_free_port()}",
        "doctor",
        "--smoke",
    )
    assert result.returncode == 3
    assert "cannot reach the model server" in result.stdout


def test_stop_token_in_the_prompt_does_not_stop_generation(engine: LlamaEngine):
    prompt = engine.tokenize("Once upon a time")
    options = GenerateOptions(max_tokens=4, stop_tokens=(prompt[-1],))
    reply = engine.complete(prompt, options)
    assert reply.completion_tokens >= 1
    assert reply.text
