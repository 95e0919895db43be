"""A dated price table for cost estimates; escalate.prices_file replaces it.

The override is TOML:

    as_of = "2026-01-15"
    [models.claude-sonnet-4-5]
    input = 3.0          # USD per million input tokens
    output = 15.0        # USD per million output tokens
    cache_write = 3.75   # optional
    cache_read = 0.30    # optional
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from hybridcode.errors import ConfigError

BUILTIN_AS_OF = "2025-11-24"
# USD per million tokens: input, output, cache write (5 min), cache read.
BUILTIN = {
    "claude-opus-4-5": (5.0, 25.0, 6.25, 0.50),
    "claude-opus-4-1": (15.0, 75.0, 18.75, 1.50),
    "claude-opus-4-0": (15.0, 75.0, 18.75, 1.50),
    "claude-sonnet-4-5": (3.0, 15.0, 3.75, 0.30),
    "claude-sonnet-4-0": (3.0, 15.0, 3.75, 0.30),
    "claude-haiku-4-5": (1.0, 5.0, 1.25, 0.10),
    "claude-3-5-haiku": (0.80, 4.0, 1.0, 0.08),
}
ALIASES = {"claude-opus-4": "claude-opus-4-0", "claude-sonnet-4": "claude-sonnet-4-0"}


@dataclass(frozen=True)
class Price:
    model: str
    input: float
    output: float
    cache_write: float
    cache_read: float
    as_of: str
    source: str  # "built-in" or the override file's path

    def cost(
        self,
        input_tokens: int,
        output_tokens: int,
        cache_write: int = 0,
        cache_read: int = 0,
    ) -> float:
        """USD for the given token counts."""
        total = (
            input_tokens * self.input
            + output_tokens * self.output
            + cache_write * self.cache_write
            + cache_read * self.cache_read
        )
        return total / 1_000_000


@dataclass(frozen=True)
class PriceTable:
    as_of: str
    source: str
    models: dict[str, tuple[float, float, float, float]]

    def price(self, model: str) -> Price | None:
        """The price for a model id, also matching dated ids like name-20250929."""
        for name in (model, _undated(model), ALIASES.get(_undated(model), "")):
            if name in self.models:
                values = self.models[name]
                return Price(model, *values, as_of=self.as_of, source=self.source)
        return None


def load_prices(prices_file: str) -> PriceTable:
    """The built-in table, or the user's file when escalate.prices_file is set."""
    if not prices_file:
        return PriceTable(BUILTIN_AS_OF, "built-in", dict(BUILTIN))
    path = Path(prices_file).expanduser()
    try:
        data = tomllib.loads(path.read_text("utf-8"))
        models = {
            str(name): (
                float(v["input"]),
                float(v["output"]),
                float(v.get("cache_write", v["input"] * 1.25)),
                float(v.get("cache_read", v["input"] * 0.1)),
            )
            for name, v in data["models"].items()
        }
        return PriceTable(str(data.get("as_of", "undated")), str(path), models)
    except (
        OSError,
        UnicodeDecodeError,
        tomllib.TOMLDecodeError,
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
    ) as exc:
        raise ConfigError(f"cannot read price table {path}: {exc}") from None


def _undated(model: str) -> str:
    head, _, tail = model.rpartition("-")
    return head if head and tail.isdigit() and len(tail) == 8 else model
