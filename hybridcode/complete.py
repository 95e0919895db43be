"""Fill-in-the-middle completion at a cursor: position, prompt, generation, cleanup."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hybridcode.context.sourcefile import SourceText
from hybridcode.engine.base import Engine, FimTokens, GenerateOptions
from hybridcode.engine.fim import FimFormat, build_tokens, reconcile, stop_ids
from hybridcode.errors import ContextOverflowError, InputError

log = logging.getLogger(__name__)

RESERVED_TOKENS = 8  # FIM markers and a margin for tokenizer merges at the seams
STABLE_LINES = 16  # a cut prefix starts on a multiple of this, so typing keeps it
LINE_RESERVE = 256  # tokens held for the cursor's line, in steps of this
CONTEXT_SHARE = 4  # extra context takes at most 1/4 of the prompt budget
SUFFIX_SHARE = 4  # a cut suffix keeps at most 1/4 of the budget
PREFIX_STOPS = ("\n\n\n",)
BLOCK_OPENERS = (":", "{", "(", "[", "=>", "\\")  # a line ending so continues below
FALLBACK_NOTE = "this model has no FIM tokens; completing from the prefix only"
COMMENT_MARKERS = {"python": "#", "ruby": "#", "bash": "#", "yaml": "#", "toml": "#"}

Measure = Callable[[str], int]


@dataclass(frozen=True)
class Snippet:
    """A piece of context from elsewhere in the repo, labelled with its place."""

    path: str
    line: int
    text: str


@dataclass(frozen=True)
class CompletionRequest:
    source: SourceText
    line: int  # 1-based
    column: int  # 1-based, in code points
    max_tokens: int
    max_lines: int
    deadline_s: float
    language: str | None = None
    fim_format: FimFormat | None = None  # the model family's format, when known
    fim_as_text: bool = False  # the engine reads FIM markers from text (a server)
    snippets: Sequence[Snippet] = ()


@dataclass(frozen=True)
class Completion:
    text: str  # in the file's newline style; "" when nothing is worth inserting
    start: tuple[int, int]  # (line, column) of the range to replace, 1-based
    end: tuple[int, int]
    mode: str  # "fim" or "prefix"
    model: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    context: tuple[str, ...] = ()  # labels of the extra context that was included
    note: str | None = None  # said once on stderr, e.g. the prefix-only fallback


def parse_target(target: str) -> tuple[str, int, int]:
    """Split FILE:LINE:COL; the file name may itself contain colons."""
    parts = target.rsplit(":", 2)
    if len(parts) != 3 or not parts[0]:
        raise InputError(f"'{target}': expected FILE:LINE:COL", "e.g. app.py:12:9")
    name, line, column = parts
    try:
        return name, int(line), int(column)
    except ValueError:
        raise InputError(
            f"'{target}': LINE and COL must be numbers", "e.g. app.py:12:9"
        ) from None


def check_position(text: str, line: int, column: int, name: str) -> None:
    """Refuse a position outside the text, naming the valid range."""
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        raise InputError(
            f"{name}:{line}:{column}: line {line} is outside the file "
            f"(valid lines: 1-{len(lines)})"
        )
    width = len(lines[line - 1]) + 1
    if not 1 <= column <= width:
        raise InputError(
            f"{name}:{line}:{column}: column {column} is outside line {line} "
            f"(valid columns: 1-{width}, counted in characters)"
        )


def complete(engine: Engine, request: CompletionRequest) -> Completion:
    """Generate and clean a completion for the request's cursor."""
    started = time.monotonic()
    deadline = started + request.deadline_s
    prefix, suffix = split_at(request.source.text, request.line, request.column)
    fim = reconcile(engine.fim_tokens(), request.fim_format)
    as_text = request.fim_as_text and request.fim_format is not None
    mode = "fim" if fim is not None or as_text else "prefix"
    prompt, used, labels = build_prompt(engine, request, fim, prefix, suffix)
    built = time.monotonic()

    before = prefix.rsplit("\n", 1)[-1]
    single_line = request.max_lines == 1 or one_line_wanted(before, suffix)
    line_has_code = bool((before + suffix.split("\n", 1)[0]).strip())
    options = _options(request, fim, mode, deadline, single_line, line_has_code)
    generation = engine.complete(prompt, options)
    generated = time.monotonic()

    text, replaced = clean_completion(
        generation.text,
        before,
        suffix,
        request.max_lines,
        generation.finish_reason,
        request.fim_format,
    )
    text = text.replace("\n", request.source.newline)
    return Completion(
        text=text,
        start=(request.line, request.column),
        end=(request.line, request.column + replaced),
        mode=mode,
        model=engine.name,
        prompt_tokens=generation.prompt_tokens or used,
        completion_tokens=generation.completion_tokens,
        finish_reason=generation.finish_reason,
        timings_ms=_timings(started, built, generated),
        context=labels,
        note=None if mode == "fim" else _fallback_note(request.fim_format),
    )


def _fallback_note(fmt: FimFormat | None) -> str:
    if fmt is None:
        return FALLBACK_NOTE
    return f"{FALLBACK_NOTE} (models.toml says {fmt.family}; the GGUF has none)"


def one_line_wanted(before: str, suffix: str) -> bool:
    """Whether only the rest of the cursor's line is wanted.

    True with code after the cursor, or mid-statement (text before the cursor
    that does not open a block): finishing the line is what is being typed,
    and stopping there keeps each keystroke's request short.
    """
    after = suffix.split("\n", 1)[0]
    if after.strip():
        return True
    typed = before.rstrip()
    return bool(typed.strip()) and not typed.endswith(BLOCK_OPENERS)


def split_at(text: str, line: int, column: int) -> tuple[str, str]:
    """Return the text before and after a 1-based (line, column) cursor."""
    lines = text.split("\n")
    offset = sum(len(item) + 1 for item in lines[: line - 1]) + column - 1
    return text[:offset], text[offset:]


def _options(
    request: CompletionRequest,
    fim: FimTokens | None,
    mode: str,
    deadline: float,
    single_line: bool,
    line_has_code: bool,
) -> GenerateOptions:
    fmt = request.fim_format
    if mode == "prefix":
        stop: tuple[str, ...] = PREFIX_STOPS
    else:
        stop = fmt.stop if fmt is not None else ()
    if single_line and line_has_code:  # only this line is kept: stop at its end
        stop = (*stop, "\n")
    return GenerateOptions(
        max_tokens=request.max_tokens,
        temperature=0.0,
        stop=stop,
        stop_tokens=stop_ids(fim) if fim is not None else (),
        deadline=deadline,
    )


def _timings(started: float, built: float, generated: float) -> dict[str, float]:
    done = time.monotonic()
    return {
        "prompt": round((built - started) * 1000, 1),
        "generate": round((generated - built) * 1000, 1),
        "total": round((done - started) * 1000, 1),
    }


# --- the prompt ------------------------------------------------------------


def build_prompt(
    engine: Engine,
    request: CompletionRequest,
    fim: FimTokens | None,
    prefix: str,
    suffix: str,
) -> tuple[str | list[int], int, tuple[str, ...]]:
    """Cut prefix and suffix to the budget, add context, and spell the prompt."""
    by_ids = fim is not None
    measure: Measure = (
        (lambda s: len(engine.tokenize(s))) if by_ids else (engine.count_tokens)
    )
    budget = engine.n_ctx - request.max_tokens - RESERVED_TOKENS
    if budget <= 0:
        raise ContextOverflowError(
            f"too large for the model context ({request.max_tokens} reply tokens "
            f"> {engine.n_ctx} tokens)",
            "lower complete.max_tokens",
        )
    mode_suffix = suffix if (by_ids or request.fim_as_text) else ""
    prefix, suffix, room = fit_window(prefix, mode_suffix, budget, measure)
    header, labels = context_block(
        request.snippets, request.language, min(room, budget // CONTEXT_SHARE)
    )
    prefix = header + prefix
    if fim is not None:
        ids = build_tokens(fim, prefix, suffix, engine.tokenize, request.fim_format)
        return ids, len(ids), labels
    if request.fim_as_text and request.fim_format is not None:
        text = request.fim_format.render(prefix, suffix)
        return text, budget - room, labels
    return prefix, budget - room, labels


def _bytes_bound(text: str) -> int:
    return len(text.encode("utf-8")) + 1 if text else 0


def fit_window(
    prefix: str, suffix: str, budget: int, measure: Measure
) -> tuple[str, str, int]:
    """Cut prefix and suffix at line boundaries so both fit; return the room left."""
    whole = measure(prefix + suffix)  # one call: with a server, each one is a request
    if whole <= budget:
        return prefix, suffix, budget - whole
    prefix_cost, suffix_cost = measure(prefix), measure(suffix) if suffix else 0
    suffix_budget = min(suffix_cost, budget // SUFFIX_SHARE)
    prefix_budget = budget - suffix_budget
    if prefix_cost < prefix_budget:
        prefix_budget, suffix_budget = prefix_cost, budget - prefix_cost
    kept_prefix = _keep_tail(prefix, prefix_budget, prefix_cost, measure)
    kept_suffix = _keep_head(suffix, suffix_budget, suffix_cost, measure)
    used = measure(kept_prefix) + measure(kept_suffix)
    return kept_prefix, kept_suffix, max(0, budget - used)


def _keep_tail(text: str, budget: int, cost: int, measure: Measure) -> str:
    """Keep the last lines of text that fit, starting on a stable line number.

    The cursor's line changes with every keystroke and the lines above it do
    not, so the start is chosen from those lines alone: typing a line keeps the
    prompt's start, and the server's prompt cache with it.
    """
    if cost <= budget:
        return text
    *fixed, last = text.splitlines(keepends=True) or [""]
    fixed_text = "".join(fixed)
    per_char = measure(fixed_text) / max(1, len(fixed_text))
    # Bytes bound a line's token count; reserving them in whole steps keeps the
    # room constant while a line is typed.
    size = len(last.encode("utf-8")) + 1
    step = min(LINE_RESERVE, max(16, budget // 8))
    room = budget - -(-size // step) * step
    keep = _count_fitting(reversed(fixed), room * 0.9 / max(per_char, 1e-6))
    while keep > 0:
        start = len(fixed) - keep
        start += -start % STABLE_LINES
        kept = "".join(fixed[start:]) + last
        if measure(kept) <= budget:
            return kept
        keep = min(keep - 1, int(keep * 0.9))
    if measure(last) <= budget:
        return last
    return _cut_chars(last, budget, measure, from_end=True)


def _keep_head(text: str, budget: int, cost: int, measure: Measure) -> str:
    """Keep the first lines of text that fit."""
    if cost <= budget:
        return text
    pieces = text.splitlines(keepends=True)
    per_char = cost / max(1, len(text))
    keep = _count_fitting(iter(pieces), budget * 0.95 / per_char)
    while keep > 0:
        kept = "".join(pieces[:keep])
        if measure(kept) <= budget:
            return kept
        keep = min(keep - 1, int(keep * 0.9))
    return _cut_chars(pieces[0] if pieces else "", budget, measure, from_end=False)


def _count_fitting(pieces: object, chars: float) -> int:
    count, total = 0, 0
    for piece in pieces:  # type: ignore[attr-defined]
        total += len(piece)
        if total > chars:
            break
        count += 1
    return count


def _cut_chars(line: str, budget: int, measure: Measure, from_end: bool) -> str:
    """A single line longer than the budget (minified code): keep what fits."""
    size = len(line)
    while size > 0:
        part = line[-size:] if from_end else line[:size]
        if measure(part) <= budget:
            return part
        size = size * 3 // 4
    return ""


def context_block(
    snippets: Sequence[Snippet], language: str | None, room: int
) -> tuple[str, tuple[str, ...]]:
    """Spell context from other places as comments, as much as the room allows.

    Sizes are counted in UTF-8 bytes, which bound the token count from above:
    no tokenizer call per snippet (each one is an HTTP request with a server).
    """
    measure = _bytes_bound
    if not snippets or room <= 0:
        return "", ()
    mark = COMMENT_MARKERS.get(language or "", "//")
    lines, labels, used = (
        [f"{mark} Context from elsewhere in this repository:\n"],
        [],
        0,
    )
    used = measure(lines[0])
    for snippet in snippets:
        label = f"{snippet.path}:{snippet.line}"
        body = "".join(f"{mark} {row}\n" for row in snippet.text.splitlines())
        entry = f"{mark} {label}\n{body}"
        cost = measure(entry)
        if used + cost > room:
            continue
        lines.append(entry)
        labels.append(label)
        used += cost
    if not labels:
        return "", ()
    return "".join(lines) + "\n", tuple(labels)


# --- cleanup ---------------------------------------------------------------

OPENERS = {"(": ")", "[": "]", "{": "}"}
LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")
CLOSERS = {v: k for k, v in OPENERS.items()}


def clean_completion(
    raw: str,
    before: str,
    suffix: str,
    max_lines: int,
    finish_reason: str,
    fmt: FimFormat | None = None,
) -> tuple[str, int]:
    """Turn raw model text into what should be inserted at the cursor.

    Returns the text (with "\\n" newlines) and how many characters after the
    cursor on its line it replaces (whitespace on a whitespace-only line).
    """
    after, _, following = suffix.partition("\n")
    text = _strip_markers(raw.replace("\r\n", "\n").replace("\r", "\n"), fmt)
    cut_short = finish_reason in ("deadline", "length")
    if cut_short and "\n" in text and not text.endswith("\n"):
        text = text[: text.rfind("\n")]  # keep only whole lines
    if not (before + after).strip():
        # On a blank line a model often ends "its" line first and writes the
        # code on the next one; that code is what belongs at the cursor.
        text = LEADING_BLANK_LINES.sub("", text)
    lines = text.split("\n")
    lines[0], replaced, base = _fix_first_indent(lines[0], before, after)

    if one_line_wanted(before, suffix):
        single = _drop_rest_of_line(lines[0], after)
        single = (
            "\n".join(_close_brackets([single], following)) if not after else single
        )
        return (single, 0) if single.strip() else ("", 0)
    lines = _block_lines(lines, base, following, max_lines)
    lines = _close_brackets(lines, following)
    result = "\n".join(lines).rstrip()
    if not result.strip():
        return "", 0
    return result, replaced


def _strip_markers(text: str, fmt: FimFormat | None) -> str:
    markers = (*(fmt.stop if fmt else ()), "<|endoftext|>", "<|fim_pad|>", "<EOT>")
    for marker in markers:
        if marker in text:
            text = text[: text.index(marker)]
    return text


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _fix_first_indent(first: str, before: str, after: str) -> tuple[str, int, int]:
    """Avoid doubled indentation when the cursor sits on a whitespace-only line.

    Returns the first line, the number of characters after the cursor it
    replaces, and the indentation width of the block the cursor is in.
    """
    line_is_blank = not (before + after).strip()
    if not line_is_blank:
        return first, 0, len(_indent(before))
    model_indent, body = _indent(first), first.lstrip()
    if not after:  # cursor at the end of the indentation: the model may repeat it
        if model_indent.startswith(before):
            return model_indent[len(before) :] + body, 0, len(model_indent)
        return (body if model_indent else first), 0, len(before)
    # Cursor inside the whitespace: replace the rest of it and use one indentation.
    wanted = model_indent if model_indent else before + after
    if not body:
        return first, 0, len(before)
    if wanted.startswith(before):
        return wanted[len(before) :] + body, len(after), len(wanted)
    return body, len(after), len(before)


def _drop_rest_of_line(completion: str, after: str) -> str:
    """Cut a tail that repeats the text after the cursor on the same line."""
    completion = completion.rstrip()
    rest = after.rstrip()
    for size in range(min(len(rest), len(completion)), 0, -1):
        if completion.endswith(rest[:size]):
            trimmed = completion[:-size]
            if not _unclosed(trimmed):
                return trimmed
    return completion


def _block_lines(
    lines: list[str], base: int, following: str, max_lines: int
) -> list[str]:
    """Keep lines up to the end of the cursor's block, the suffix, or max_lines."""
    next_line = next((row.strip() for row in following.split("\n") if row.strip()), "")
    kept = [lines[0]]
    opened = _unclosed(lines[0])
    for line in lines[1:]:
        if len(kept) >= max_lines:
            break
        stripped = line.strip()
        if not stripped:
            kept.append(line)
            continue
        closes_own = opened and all(ch in CLOSERS for ch in stripped.rstrip(";,"))
        if stripped == next_line and not closes_own:
            break  # the model started repeating the code after the cursor
        if len(_indent(line)) < base:
            if stripped[0] in CLOSERS and opened:
                kept.append(line)
            break
        kept.append(line)
        opened = _unclosed("\n".join(kept))
    while kept and not kept[-1].strip():
        kept.pop()
    return kept or [""]


def _close_brackets(lines: list[str], following: str) -> list[str]:
    """Close brackets the completion opened and left open."""
    lines = "\n".join(lines).rstrip().split("\n")
    missing = _unclosed("\n".join(lines))
    if not missing:
        return lines
    closers = "".join(OPENERS[ch] for ch, _ in reversed(missing))
    next_line = next((row for row in following.split("\n") if row.strip()), "")
    if len(lines) > 1 and next_line.strip().startswith(closers[0]):
        return lines  # the file already closes it on the next line
    opener_row = lines[missing[0][1]]
    if len(lines) > 1 and opener_row.rstrip().endswith(tuple(OPENERS)):
        return [*lines, _indent(opener_row) + closers]
    return [*lines[:-1], lines[-1] + closers]


_STRING = re.compile(r"'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"|`(?:\\.|[^`\\])*`")


def _unclosed(text: str) -> list[tuple[str, int]]:
    """Openers left unclosed in text, with their line; extra closers are ignored."""
    stack: list[tuple[str, int]] = []
    for row, line in enumerate(_STRING.sub('""', text).split("\n")):
        for ch in line:
            if ch in OPENERS:
                stack.append((ch, row))
            elif ch in CLOSERS and stack and stack[-1][0] == CLOSERS[ch]:
                stack.pop()
    return stack
