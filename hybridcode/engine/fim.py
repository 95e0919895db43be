"""Fill-in-the-middle prompt formats, one per model family.

llama.cpp reads the FIM token ids from the GGUF vocabulary, but not the order a
family was trained on (Codestral puts the suffix first) nor, for a server that
only takes text, the spelling of those tokens. This table supplies both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from hybridcode.engine.base import FimTokens


@dataclass(frozen=True)
class FimFormat:
    """How one model family spells and orders its FIM prompt."""

    family: str
    prefix: str
    suffix: str
    middle: str  # "" when the family has none (Codestral generates after the prefix)
    suffix_first: bool = False
    stop: tuple[str, ...] = ()  # texts that end a FIM generation
    pad_prefix: str = ""  # text between the prefix token and the prefix (CodeLlama)
    pad_middle: str = ""  # text before the middle token (CodeLlama)

    def render(self, prefix: str, suffix: str) -> str:
        """Spell the whole prompt as text, for servers that parse special tokens."""
        head = self.prefix + self.pad_prefix + prefix
        tail = self.suffix + suffix
        body = tail + head if self.suffix_first else head + tail
        return body + self.pad_middle + self.middle


QWEN = FimFormat(
    "qwen2.5-coder",
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    stop=(
        "<|endoftext|>",
        "<|fim_pad|>",
        "<|file_sep|>",
        "<|repo_name|>",
        "<|im_end|>",
        "<|fim_prefix|>",
    ),
)
STARCODER = FimFormat(
    "starcoder",
    "<fim_prefix>",
    "<fim_suffix>",
    "<fim_middle>",
    stop=("<|endoftext|>", "<file_sep>", "<fim_prefix>", "<fim_pad>"),
)
CODELLAMA = FimFormat(
    "codellama",
    "<PRE>",
    "<SUF>",
    "<MID>",
    stop=("<EOT>", "</s>"),
    pad_prefix=" ",
    pad_middle=" ",
)
DEEPSEEK = FimFormat(
    "deepseek-coder",
    "<｜fim▁begin｜>",
    "<｜fim▁hole｜>",
    "<｜fim▁end｜>",
    stop=("<|EOT|>", "<｜end▁of▁sentence｜>", "<｜fim▁begin｜>"),
)
CODESTRAL = FimFormat(
    "codestral", "[PREFIX]", "[SUFFIX]", "", suffix_first=True, stop=("</s>",)
)
CODEGEMMA = FimFormat(
    "codegemma",
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    stop=("<|file_separator|>", "<eos>", "<|fim_prefix|>"),
)

FORMATS = {
    f.family: f for f in (QWEN, STARCODER, CODELLAMA, DEEPSEEK, CODESTRAL, CODEGEMMA)
}
ALIASES = {
    "qwen2.5": "qwen2.5-coder",
    "qwen2": "qwen2.5-coder",
    "starcoder2": "starcoder",
    "santacoder": "starcoder",
    "code-llama": "codellama",
    "deepseek": "deepseek-coder",
    "mistral-codestral": "codestral",
}
# Substrings of a model's id, file name or GGUF name that reveal its family.
NAME_HINTS = (
    ("qwen2.5-coder", "qwen2.5-coder"),
    ("qwen2.5coder", "qwen2.5-coder"),
    ("starcoder", "starcoder"),
    ("codellama", "codellama"),
    ("code-llama", "codellama"),
    ("deepseek-coder", "deepseek-coder"),
    ("codestral", "codestral"),
    ("codegemma", "codegemma"),
)


def format_for(family: str | None) -> FimFormat | None:
    """Return the FIM format of a family name from models.toml, or None."""
    if not family or family == "none":
        return None
    name = family.lower()
    return FORMATS.get(ALIASES.get(name, name))


def guess_family(*names: str) -> str | None:
    """Guess a FIM family from a model id, file name or GGUF general.name."""
    for name in names:
        lowered = name.lower().replace("_", "-")
        for hint, family in NAME_HINTS:
            if hint in lowered:
                return family
    return None


def reconcile(tokens: FimTokens | None, fmt: FimFormat | None) -> FimTokens | None:
    """Merge the vocabulary's FIM ids with what the family table knows.

    The GGUF wins on ids; the table decides the order, since llama.cpp does not
    record that Codestral-style models want the suffix first.
    """
    if tokens is None:
        return None
    if fmt is not None and fmt.suffix_first and not tokens.suffix_first:
        return replace(tokens, suffix_first=True)
    return tokens


def build_tokens(
    fim: FimTokens,
    prefix: str,
    suffix: str,
    tokenize: Callable[[str], list[int]],
    fmt: FimFormat | None = None,
) -> list[int]:
    """Build the FIM prompt as token ids, special tokens placed by id.

    Text never passes through a special-token parser, so code that happens to
    contain "<|fim_prefix|>" stays plain text.
    """
    head_text = (fmt.pad_prefix if fmt else "") + prefix
    head = [fim.prefix, *(tokenize(head_text) if head_text else [])]
    tail = [fim.suffix, *(tokenize(suffix) if suffix else [])]
    body = tail + head if fim.suffix_first else head + tail
    middle = [fim.middle] if fim.middle >= 0 else []
    return body + middle


def stop_ids(fim: FimTokens) -> tuple[int, ...]:
    """Ids that end a FIM generation: the family's extras and the FIM markers.

    The middle marker is left out: it is the prompt's last token, and a stop
    check that looks at the last id seen would end the generation at once.
    """
    markers: Sequence[int] = (fim.prefix, fim.suffix)
    return tuple(dict.fromkeys(t for t in (*fim.stop, *markers) if t >= 0))


def family_of(model_id: str) -> str | None:
    """The FIM family models.toml records for a model id, else a guess from its name."""
    from hybridcode.models.registry import load_registry

    entry = load_registry().get(model_id)
    if entry is not None:
        return None if entry.fim == "none" else entry.fim
    return guess_family(model_id)
