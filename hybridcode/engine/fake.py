"""A scripted engine for tests: replies come from a list, prompts are recorded."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hybridcode.engine.base import FimTokens, GenerateOptions, Generation, Message
from hybridcode.errors import ConfigError, ContextOverflowError


@dataclass(frozen=True)
class ScriptedReply:
    text: str
    finish_reason: str = "stop"
    delay_s: float = 0.0


@dataclass
class FakeEngine:
    """Returns scripted replies in order; the last one repeats.

    Tokens are counted as whitespace-separated words plus newlines, which is
    enough for budget logic. A prompt over n_ctx raises like llama.cpp would.
    """

    replies: list[ScriptedReply]
    context: int = 2048
    fim: FimTokens | None = None
    record_path: Path | None = None
    prompts: list[str] = field(default_factory=list)
    _served: int = 0

    @property
    def name(self) -> str:
        return "fake"

    @property
    def n_ctx(self) -> int:
        return self.context

    @classmethod
    def from_file(cls, path: Path) -> FakeEngine:
        """Load a script: {"replies": [str | {text, finish_reason, delay_s}], ...}."""
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read fake engine script {path}: {exc}") from exc
        replies = [
            ScriptedReply(r) if isinstance(r, str) else ScriptedReply(**r)
            for r in data.get("replies", [""])
        ]
        fim = FimTokens(**data["fim"]) if data.get("fim") else None
        record = data.get("record")
        return cls(
            replies,
            context=int(data.get("n_ctx", 2048)),
            fim=fim,
            record_path=Path(record) if record else None,
        )

    def tokenize(self, text: str) -> list[int]:
        return [hash(word) & 0xFFFF for word in text.replace("\n", " \n ").split(" ")]

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + text.count("\n")

    def chat_prompt_tokens(self, messages: Sequence[Message]) -> int:
        return sum(self.count_tokens(m.content) + 4 for m in messages)

    def chat(self, messages: Sequence[Message], options: GenerateOptions) -> Generation:
        prompt = "\n".join(f"<{m.role}>\n{m.content}" for m in messages)
        return self._reply(prompt, self.chat_prompt_tokens(messages), options)

    def complete(self, prompt: str | list[int], options: GenerateOptions) -> Generation:
        text = prompt if isinstance(prompt, str) else " ".join(map(str, prompt))
        used = self.count_tokens(text) if isinstance(prompt, str) else len(prompt)
        return self._reply(text, used, options)

    def fim_tokens(self) -> FimTokens | None:
        return self.fim

    def _reply(self, prompt: str, used: int, options: GenerateOptions) -> Generation:
        if used + options.max_tokens > self.context:
            raise ContextOverflowError(
                f"Requested tokens ({used + options.max_tokens}) exceed context "
                f"window of {self.context}"
            )
        self.prompts.append(prompt)
        if self.record_path is not None:
            with self.record_path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps({"prompt": prompt}) + "\n")
        reply = self.replies[min(self._served, len(self.replies) - 1)]
        self._served += 1
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if options.on_text is not None and reply.text:
            options.on_text(reply.text)
        return Generation(
            text=reply.text,
            finish_reason=reply.finish_reason,
            prompt_tokens=used,
            completion_tokens=self.count_tokens(reply.text),
        )
