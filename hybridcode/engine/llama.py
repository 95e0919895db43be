"""The in-process engine: llama-cpp-python, loaded lazily and quietly."""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from hybridcode.config import ModelSettings
from hybridcode.engine.base import (
    FimTokens,
    GenerateOptions,
    Generation,
    Message,
    collect_stream,
)
from hybridcode.errors import ContextOverflowError, ModelError, ModelFileError
from hybridcode.models.gguf import inspect_gguf

log = logging.getLogger(__name__)

_log_callback: Any = None  # kept alive: llama.cpp holds a raw pointer to it


def silence_native_logs(verbose: bool) -> None:
    """Route llama.cpp's own logging to stderr only when verbose; drop it otherwise."""
    global _log_callback
    import llama_cpp

    @llama_cpp.llama_log_callback  # type: ignore[misc]
    def callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        if verbose:
            sys.stderr.write(text.decode("utf-8", "replace"))

    _log_callback = callback
    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))


def default_threads() -> int:
    """Every core this process may use (llama-cpp-python's default is half)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


class LlamaEngine:
    """A GGUF model run in-process; nothing loads until the first token is needed."""

    def __init__(
        self, path: Path, settings: ModelSettings, name: str, verbose: bool = False
    ) -> None:
        self.path = path
        self.settings = settings
        self._name = name
        self.verbose = verbose
        self.info = inspect_gguf(path)  # fails fast, before llama.cpp sees the file
        self._llm: Any = None
        self.load_seconds = 0.0

    @property
    def name(self) -> str:
        return self._name

    @property
    def n_ctx(self) -> int:
        return self.settings.n_ctx

    @property
    def llm(self) -> Any:
        """The llama_cpp.Llama object, loaded on first use."""
        if self._llm is None:
            self._llm = self._load()
        return self._llm

    def _load(self) -> Any:
        started = time.monotonic()
        # OpenMP threads spin while waiting by default, which starves a busy
        # machine; passive waiting costs nothing when the cores are free.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import llama_cpp
        except ImportError as exc:
            raise ModelError(f"llama-cpp-python is not installed: {exc}") from None
        silence_native_logs(self.verbose)
        threads = self.settings.threads or default_threads()
        try:
            llm = llama_cpp.Llama(
                model_path=str(self.path),
                n_ctx=self.settings.n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                n_gpu_layers=self.settings.gpu_layers,
                seed=self.settings.seed,
                verbose=self.verbose,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelFileError(
                f"{self.path}: llama.cpp could not load it ({exc})",
                "run `hc models verify`",
            ) from None
        self.load_seconds = time.monotonic() - started
        log.info(
            "loaded %s in %.2fs (%d threads)",
            self.path.name,
            self.load_seconds,
            threads,
        )
        return llm

    def tokenize(self, text: str) -> list[int]:
        tokens = self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        return list(tokens)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def detokenize(self, tokens: Sequence[int]) -> str:
        return str(self.llm.detokenize(list(tokens)).decode("utf-8", "replace"))

    def chat_prompt_tokens(self, messages: Sequence[Message]) -> int:
        return len(self._chat_tokens(messages)[0])

    def chat(self, messages: Sequence[Message], options: GenerateOptions) -> Generation:
        tokens, stop = self._chat_tokens(messages)
        merged = GenerateOptions(
            **{**options.__dict__, "stop": tuple(options.stop) + tuple(stop)}
        )
        return self._generate(tokens, merged)

    def complete(self, prompt: str | list[int], options: GenerateOptions) -> Generation:
        if isinstance(prompt, str):
            tokens = list(
                self.llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=False)
            )
        else:
            tokens = list(prompt)
        return self._generate(tokens, options)

    def fim_tokens(self) -> FimTokens | None:
        """FIM ids from the vocabulary llama.cpp read (-1 means absent)."""
        import llama_cpp

        vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
        pre = llama_cpp.llama_vocab_fim_pre(vocab)
        suf = llama_cpp.llama_vocab_fim_suf(vocab)
        mid = llama_cpp.llama_vocab_fim_mid(vocab)
        if min(pre, suf, mid) < 0:
            return None
        extra = (
            llama_cpp.llama_vocab_fim_pad(vocab),
            llama_cpp.llama_vocab_fim_rep(vocab),
            llama_cpp.llama_vocab_fim_sep(vocab),
            self.llm.token_eos(),
        )
        return FimTokens(
            prefix=pre, suffix=suf, middle=mid, stop=tuple(t for t in extra if t >= 0)
        )

    def is_end_token(self, token: int) -> bool:
        import llama_cpp

        vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
        return bool(llama_cpp.llama_vocab_is_eog(vocab, token))

    def _chat_tokens(self, messages: Sequence[Message]) -> tuple[list[int], list[str]]:
        template = self.info.chat_template
        if template is None:
            raise ModelError(
                f"{self.path.name} has no chat template in its GGUF metadata",
                "use a chat (instruct) model",
            )
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llm = self.llm
        eos = llm.detokenize([llm.token_eos()], special=True).decode("utf-8", "replace")
        bos = llm.detokenize([llm.token_bos()], special=True).decode("utf-8", "replace")
        formatter = Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos)
        chat: list[Any] = [{"role": m.role, "content": m.content} for m in messages]
        result = formatter(messages=chat)
        tokens = llm.tokenize(
            result.prompt.encode("utf-8"), add_bos=False, special=True
        )
        stop = result.stop if isinstance(result.stop, list) else [result.stop]
        return list(tokens), [s for s in stop if s]

    def _generate(self, tokens: list[int], options: GenerateOptions) -> Generation:
        if options.max_tokens <= 0:
            raise ValueError("max_tokens must be explicit and positive")
        if len(tokens) + options.max_tokens > self.n_ctx:
            raise ContextOverflowError(
                f"prompt too large for the model context ({len(tokens)} prompt + "
                f"{options.max_tokens} reply tokens > {self.n_ctx} tokens)"
            )
        started = time.monotonic()
        logprobs: list[float] = []
        text, finish, count = collect_stream(
            self._chunks(tokens, options, logprobs), options
        )
        return Generation(
            text=text,
            finish_reason=finish,
            prompt_tokens=len(tokens),
            completion_tokens=count,
            token_logprobs=tuple(logprobs),
            seconds=time.monotonic() - started,
        )

    def _chunks(
        self, tokens: list[int], options: GenerateOptions, logprobs: list[float]
    ) -> Iterator[tuple[str, str | None]]:
        from llama_cpp import LogitsProcessorList, StoppingCriteriaList

        stop_ids = set(options.stop_tokens)
        prompt_length = len(tokens)
        criteria = (
            StoppingCriteriaList(
                [
                    lambda ids, _logits: (
                        len(ids) > prompt_length and int(ids[-1]) in stop_ids
                    )
                ]
            )
            if stop_ids
            else None
        )
        processors = (
            LogitsProcessorList([_LogprobRecorder(logprobs)])
            if options.logprobs
            else None
        )
        stream = self.llm.create_completion(
            prompt=tokens,
            max_tokens=options.max_tokens,
            temperature=options.temperature,
            seed=options.seed,
            stop=list(options.stop) or None,
            stream=True,
            stopping_criteria=criteria,
            logits_processor=processors,
            top_k=40 if options.temperature > 0 else 1,
        )
        try:
            for chunk in stream:
                choice = chunk["choices"][0]
                yield choice.get("text") or "", choice.get("finish_reason")
        finally:
            stream.close()


class _LogprobRecorder:
    """Record the log-probability of each sampled token without logits_all.

    Each call sees the logits for the next position; the token chosen from the
    previous call's logits is the last input id.
    """

    def __init__(self, out: list[float]) -> None:
        self.out = out
        self.previous: Any = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import numpy as np

        if self.previous is not None:
            self.out.append(float(self.previous[int(input_ids[-1])]))
        shifted = scores - np.max(scores)
        self.previous = shifted - np.log(np.sum(np.exp(shifted)))
        return scores
