"""An engine that talks to an OpenAI-compatible server (llama.cpp, vLLM, Ollama)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from hybridcode.config import ModelSettings
from hybridcode.engine.base import (
    FimTokens,
    GenerateOptions,
    Generation,
    Message,
    collect_stream,
)
from hybridcode.errors import ConfigError, ContextOverflowError, ModelError

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 3  # a cautious estimate when the server cannot tokenize


@dataclass
class OpenAIEngine:
    base_url: str
    model: str
    context: int
    timeout_s: float
    api_key: str = ""
    _tokenize_path: str | None = None
    _probed: bool = False
    _client: Any = None  # one httpx.Client: a new connection per call costs ~40 ms

    @classmethod
    def from_settings(cls, settings: ModelSettings) -> OpenAIEngine:
        if not settings.base_url:
            raise ConfigError(
                "the openai backend needs a base URL",
                "pass --base-url or set model.base_url",
            )
        return cls(
            settings.base_url.rstrip("/").removesuffix("/v1"),
            settings.remote_model or settings.id,
            settings.n_ctx,
            settings.timeout_s,
            settings.api_key,
        )

    @property
    def name(self) -> str:
        return f"{self.model}@{self.base_url}"

    @property
    def n_ctx(self) -> int:
        return self.context

    def tokenize(self, text: str) -> list[int]:
        tokens = self._server_tokenize(text)
        if tokens is None:
            raise ModelError(f"{self.base_url} offers no tokenize endpoint")
        return tokens

    def count_tokens(self, text: str) -> int:
        tokens = self._server_tokenize(text)
        return len(tokens) if tokens is not None else -(-len(text) // CHARS_PER_TOKEN)

    def chat_prompt_tokens(self, messages: Sequence[Message]) -> int:
        return sum(self.count_tokens(m.content) + 8 for m in messages)

    def fim_tokens(self) -> FimTokens | None:
        return None

    def chat(self, messages: Sequence[Message], options: GenerateOptions) -> Generation:
        body = {"messages": [{"role": m.role, "content": m.content} for m in messages]}
        used = self.chat_prompt_tokens(messages)
        return self._generate("/v1/chat/completions", body, used, options)

    def complete(self, prompt: str | list[int], options: GenerateOptions) -> Generation:
        used = self.count_tokens(prompt) if isinstance(prompt, str) else len(prompt)
        return self._generate("/v1/completions", {"prompt": prompt}, used, options)

    def _generate(
        self, path: str, body: dict[str, Any], used: int, options: GenerateOptions
    ) -> Generation:
        if used + options.max_tokens > self.context:
            raise ContextOverflowError(
                f"prompt too large for the model context ({used} prompt + "
                f"{options.max_tokens} reply tokens > {self.context} tokens)"
            )
        body.update(
            model=self.model,
            max_tokens=options.max_tokens,
            temperature=options.temperature,
            seed=options.seed,
            stream=True,
        )
        if options.stop:
            body["stop"] = list(options.stop)
        started = time.monotonic()
        text, finish, count = collect_stream(self._events(path, body), options)
        return Generation(text, finish, used, count, seconds=time.monotonic() - started)

    def _events(
        self, path: str, body: dict[str, Any]
    ) -> Iterator[tuple[str, str | None]]:
        import httpx

        try:
            with self.client().stream(
                "POST", self.base_url + path, json=body, headers=self._headers()
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise ModelError(
                        f"{self.base_url}{path} answered "
                        f"{response.status_code}: {response.text[:200]}"
                    )
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    piece, reason = _piece(json.loads(data))
                    if piece or reason:  # role-only deltas carry nothing
                        yield piece, reason
        except httpx.HTTPError as exc:
            raise ModelError(
                f"cannot reach the model server {self.base_url}: {exc}",
                "is it running? (`hc serve`)",
            ) from None

    def client(self) -> Any:
        import httpx

        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout_s)
        return self._client

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def _server_tokenize(self, text: str) -> list[int] | None:
        """Use llama-cpp-python's or llama.cpp's tokenize endpoint when present."""
        import httpx

        routes = (
            [self._tokenize_path] if self._probed else ["/extras/tokenize", "/tokenize"]
        )
        for route in routes:
            if route is None:
                continue
            key = "input" if route == "/extras/tokenize" else "content"
            try:
                response = self.client().post(
                    self.base_url + route,
                    json={key: text},
                    timeout=self.timeout_s,
                    headers=self._headers(),
                )
            except httpx.HTTPError:
                continue
            if response.status_code == 200 and "tokens" in response.json():
                self._tokenize_path, self._probed = route, True
                return [int(t) for t in response.json()["tokens"]]
        self._probed = True
        return None


def _piece(event: dict[str, Any]) -> tuple[str, str | None]:
    choice = (event.get("choices") or [{}])[0]
    delta = choice.get("delta")
    text = delta.get("content") if isinstance(delta, dict) else choice.get("text")
    reason = choice.get("finish_reason")
    # Servers name other endings (eos, tool_calls…); only "length" means cut off.
    return text or "", None if reason is None else (
        "length" if reason == "length" else "stop"
    )
