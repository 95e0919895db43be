"""`hc escalate`: package context, show exactly what would be sent, send on consent.

On a terminal the answer renders as Markdown while it streams; a retry clears what
was shown. Off a terminal the answer is printed once the stream has ended with
message_stop, so a failed or retried stream never leaves a partial answer on stdout.
Refusals that send nothing (no consent, declined, --max-cost, monthly budget) exit 2.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from hybridcode.cli.state import AppState, get_state

if TYPE_CHECKING:
    from rich.live import Live

    from hybridcode.escalate.client import ApiTarget, Progress
    from hybridcode.escalate.ledger import Ledger
    from hybridcode.escalate.packaging import EscalateRequest, Package
    from hybridcode.escalate.policy import CostEstimate
    from hybridcode.escalate.run import Outcome

MAX_LISTED = 8


def register(app: typer.Typer) -> None:
    """Add `hc escalate` to the root app."""
    app.command("escalate")(escalate)


def escalate(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="What to ask the frontier model.")],
    files: Annotated[
        Optional[list[str]],
        typer.Option("-f", "--file", help="Send this file, or PATH:START-END."),
    ] = None,
    diff: Annotated[
        bool, typer.Option("--diff", help="Include staged and unstaged changes.")
    ] = False,
    budget_tokens: Annotated[
        Optional[int],
        typer.Option("--budget-tokens", min=500, help="Context budget in tokens."),
    ] = None,
    yes: Annotated[
        bool, typer.Option("-y", "--yes", help="Send without asking.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the exact body; send nothing.")
    ] = False,
    max_cost: Annotated[
        Optional[float],
        typer.Option("--max-cost", min=0.0, help="Refuse above this USD estimate."),
    ] = None,
) -> None:
    """Show what would leave the machine, then ask Anthropic's model (on consent)."""
    from hybridcode.escalate.client import api_target
    from hybridcode.escalate.ledger import Ledger, month_start
    from hybridcode.escalate.packaging import build_package
    from hybridcode.escalate.policy import check_limits, estimate_cost, needs_prompt
    from hybridcode.escalate.prices import load_prices

    state = get_state(ctx)
    config = state.settings.escalate
    package = build_package(_request(state, question, files or [], diff, budget_tokens))
    estimate = estimate_cost(package, load_prices(config.prices_file))
    target = api_target(state.env, config, need_key=not dry_run)
    for warning in target.warnings:
        state.warn(warning)
    interactive = sys.stdin.isatty()
    _show_manifest(state, package, estimate, force=interactive and not yes)
    if dry_run:
        sys.stdout.buffer.write(package.body + b"\n")
        return
    ledger = Ledger(state.paths.data_dir)
    check_limits(
        estimate,
        package.model,
        max_cost,
        config.monthly_budget_usd,
        ledger.spent_since(month_start()),
    )
    if needs_prompt(yes, interactive) and not _confirm(state, package, estimate):
        from hybridcode.escalate.policy import NotSent

        raise NotSent("not sent: declined")
    _send(state, package, question, estimate, target, ledger)


def _request(
    state: AppState,
    question: str,
    files: list[str],
    diff: bool,
    budget_tokens: int | None,
) -> EscalateRequest:
    from hybridcode.escalate.packaging import EscalateRequest, parse_file_spec

    config, ask = state.settings.escalate, state.settings.ask
    return EscalateRequest(
        cwd=state.cwd,
        question=question,
        model=config.model,
        max_tokens=config.max_tokens,
        budget_tokens=budget_tokens or config.budget_tokens,
        files=tuple(parse_file_spec(f) for f in files),
        diff=diff,
        top_k=ask.top_k,
        chunk_lines=ask.chunk_lines,
        max_file_bytes=ask.max_file_bytes,
        cache_dir=state.paths.cache_dir,
    )


def _show_manifest(
    state: AppState, package: Package, estimate: CostEstimate, force: bool
) -> None:
    for line in manifest_lines(package, estimate):
        if force:
            state.err.print(line, markup=False, highlight=False)
        else:
            state.say(line)


def manifest_lines(package: Package, estimate: CostEstimate) -> list[str]:
    """The manifest as shown on stderr before anything is sent."""
    lines = [
        "hc: escalation manifest (nothing has been sent yet)",
        f"  repo      {package.root} ({package.head})",
        f"  model     {package.model}",
    ]
    lines += _piece_lines(package)
    if not package.pieces:
        lines.append("  context   none found; only the question is sent")
    lines += _excluded_lines(package) + _redaction_lines(package)
    lines.append(
        f"  tokens    ≈{package.input_tokens:,} input (local estimate) + "
        f"up to {package.max_tokens:,} output"
    )
    lines.append(f"  cost      {_cost_text(estimate)}")
    lines.append(f"  body      {len(package.body):,} bytes, sha256 {package.sha256}")
    return lines


def _piece_lines(package: Package) -> list[str]:
    """One line per piece; retrieved chunks of one file share a line, in order."""
    chunks: dict[str, list[tuple[int, int]]] = {}
    lines: list[str | tuple[str, str]] = []
    for piece in package.pieces:
        if piece.kind == "chunk":
            if piece.path not in chunks:
                lines.append(("chunk", piece.path))
            chunks.setdefault(piece.path, []).append((piece.start, piece.end))
            continue
        note = f" ({piece.note})" if piece.note else ""
        lines.append(f"  {piece.kind:<9} {piece.where}{note}")
    return [
        line
        if isinstance(line, str)
        else f"  chunk     {line[1]}:"
        + ", ".join(f"{a}-{b}" for a, b in sorted(chunks[line[1]]))
        for line in lines
    ]


def _excluded_lines(package: Package) -> list[str]:
    if not package.excluded:
        return []
    shown = [f"{e.path} ({e.reason})" for e in package.excluded[:MAX_LISTED]]
    more = len(package.excluded) - len(shown)
    return [
        f"  excluded  {len(package.excluded)}: "
        + ", ".join(shown)
        + (f", and {more} more" if more else "")
    ]


def _redaction_lines(package: Package) -> list[str]:
    count = len(package.redactions)
    if not count:
        return ["  redacted  0 values"]
    shown = [
        f"[REDACTED-{r.marker}] {r.where} ({r.kind})"
        for r in package.redactions[:MAX_LISTED]
    ]
    more = count - len(shown)
    plural = "value" if count == 1 else "values"
    return [
        f"  redacted  {count} {plural}: "
        + ", ".join(shown)
        + (f", and {more} more" if more else "")
    ]


def _cost_text(estimate: CostEstimate) -> str:
    price = estimate.price
    if price is None or estimate.total_usd is None:
        return "unknown: no price for this model (set escalate.prices_file)"
    return (
        f"≈${estimate.input_usd:.4f} input + up to ${estimate.max_output_usd:.4f} "
        f"output = up to ${estimate.total_usd:.4f} (prices as of {price.as_of}, "
        f"{price.source})"
    )


def _confirm(state: AppState, package: Package, estimate: CostEstimate) -> bool:
    total = estimate.total_usd
    cost = "unknown cost" if total is None else f"up to ${total:.4f}"
    state.err.print(
        f"Send {len(package.body):,} bytes to Anthropic ({package.model}, {cost})? "
        "[y/N] ",
        end="",
        markup=False,
        highlight=False,
    )
    try:
        reply = sys.stdin.readline()
    except KeyboardInterrupt:
        return False
    return reply.strip().lower() in {"y", "yes"}


def _send(
    state: AppState,
    package: Package,
    question: str,
    estimate: CostEstimate,
    target: ApiTarget,
    ledger: Ledger,
) -> None:
    from hybridcode.escalate.client import RetryPolicy
    from hybridcode.escalate.run import send_and_record

    policy = RetryPolicy.from_settings(state.settings.escalate)
    live = _live(state)
    progress = _progress(state, live)
    state.say(f"hc: sending {len(package.body):,} bytes to {target.base_url} …")
    try:
        if live is not None:
            live.start()
        outcome = send_and_record(
            package, question, estimate, target, policy, ledger, progress
        )
    except Exception as exc:
        if live is not None:
            live.stop()
            from hybridcode.escalate.client import SendFailed

            if isinstance(exc, SendFailed) and exc.partial:
                state.warn("the answer above is incomplete")
        raise
    if live is not None:
        live.stop()
    else:
        text = outcome.answer.text
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    _report(state, outcome)


def _live(state: AppState) -> Live | None:
    if not state.out.is_terminal:
        return None
    from rich.live import Live
    from rich.markdown import Markdown

    return Live(
        Markdown(""),
        console=state.out,
        refresh_per_second=8,
        vertical_overflow="visible",
    )


def _progress(state: AppState, live: Live | None) -> Progress:
    from hybridcode.escalate.client import Progress

    shown: list[str] = []

    def on_text(delta: str) -> None:
        if live is not None:
            from rich.markdown import Markdown

            shown.append(delta)
            live.update(Markdown("".join(shown)))

    def on_restart(reason: str) -> None:
        shown.clear()
        if live is not None:
            from rich.markdown import Markdown

            live.update(Markdown(""))
        state.warn(f"{reason}; discarding the partial answer")

    def on_wait(seconds: float, reason: str, attempt: int, total: int) -> None:
        when = f"in {seconds:.1f} s" if seconds > 0 else "now"
        state.warn(f"{reason}; retrying {when} (attempt {attempt} of {total})")

    return Progress(on_text=on_text, on_restart=on_restart, on_wait=on_wait)


def _report(state: AppState, outcome: Outcome) -> None:
    usage, answer = outcome.answer.usage, outcome.answer
    cost = "unknown cost" if outcome.cost_usd is None else f"${outcome.cost_usd:.4f}"
    if answer.stop_reason == "max_tokens":
        state.warn("the answer stopped at escalate.max_tokens; it may be cut short")
    state.say(
        f"hc: recorded as #{outcome.entry} in `hc log`: "
        f"{usage.input_tokens:,} input + {usage.output_tokens:,} output "
        f"tokens, {cost}"
    )
