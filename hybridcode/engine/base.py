"""The Engine protocol every model backend implements."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

Role = Literal["system", "user", "assistant"]
OnText = Callable[[str], None]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class FimTokens:
    """Token ids of a model's fill-in-the-middle format."""

    prefix: int
    suffix: int
    middle: int
    suffix_first: bool = False  # Codestral-style order: suffix, then prefix
    stop: tuple[int, ...] = ()  # extra ids that end a FIM generation


@dataclass(frozen=True)
class GenerateOptions:
    max_tokens: int
    temperature: float = 0.0
    seed: int = 0
    stop: tuple[str, ...] = ()
    stop_tokens: tuple[int, ...] = ()
    logprobs: bool = False
    deadline: float | None = None  # time.monotonic() after which decoding may stop
    on_text: OnText | None = None  # called with each piece of text as it arrives


@dataclass(frozen=True)
class Generation:
    text: str
    finish_reason: str  # "stop", "length", or "deadline"
    prompt_tokens: int
    completion_tokens: int
    token_logprobs: tuple[float, ...] = field(default=())
    seconds: float = 0.0

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


class Engine(Protocol):
    """A loaded (or lazily loaded) model that can generate text."""

    @property
    def name(self) -> str: ...

    @property
    def n_ctx(self) -> int: ...

    def count_tokens(self, text: str) -> int:
        """Count tokens with the model's own tokenizer."""
        ...

    def tokenize(self, text: str) -> list[int]:
        """Tokenize text without adding special tokens."""
        ...

    def chat(self, messages: Sequence[Message], options: GenerateOptions) -> Generation:
        """Generate an assistant reply with the model's chat template."""
        ...

    def complete(self, prompt: str | list[int], options: GenerateOptions) -> Generation:
        """Continue raw text or a token list, with no template."""
        ...

    def fim_tokens(self) -> FimTokens | None:
        """Return the model's FIM token ids, or None when it has none."""
        ...

    def chat_prompt_tokens(self, messages: Sequence[Message]) -> int:
        """Count the tokens the chat template makes of these messages."""
        ...


def collect_stream(
    chunks: Iterable[tuple[str, str | None]], options: GenerateOptions
) -> tuple[str, str, int]:
    """Gather streamed (text, finish reason) pieces into (text, finish, count).

    Pieces go to options.on_text as they arrive. Past options.deadline, decoding
    stops once a full line exists; a final piece with only a reason is not counted.
    """
    pieces: list[str] = []
    finish, count = "length", 0
    for piece, reason in chunks:
        count += 0 if (reason and not piece) else 1
        if piece:
            pieces.append(piece)
            if options.on_text is not None:
                options.on_text(piece)
        if reason:
            finish = reason
            break
        if (
            options.deadline is not None
            and time.monotonic() > options.deadline
            and "\n" in "".join(pieces)
        ):
            finish = "deadline"
            break
    return "".join(pieces), finish, count
