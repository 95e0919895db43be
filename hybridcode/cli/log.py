"""`hc log`: the local ledger of escalations, with totals; `hc log show N` for one."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from hybridcode.cli.state import get_state
from hybridcode.errors import InputError

if TYPE_CHECKING:
    from hybridcode.escalate.ledger import Entry

log_app = typer.Typer(
    help="List what `hc escalate` sent, what came back and what it cost.",
    invoke_without_command=True,
)


def register(app: typer.Typer) -> None:
    """Add `hc log` to the root app."""
    app.add_typer(log_app, name="log")


@log_app.callback()
def list_entries(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False,
) -> None:
    """List every escalation with its tokens and cost, then the totals."""
    if ctx.invoked_subcommand is not None:
        return
    from hybridcode.escalate.ledger import Ledger, month_start, totals

    state = get_state(ctx)
    ledger = Ledger(state.paths.data_dir)
    entries = ledger.entries()
    if as_json:
        print(json.dumps([_as_dict(e) for e in entries], indent=2))
        return
    if not entries:
        state.say("hc: no escalations recorded yet")
        return
    for entry in entries:
        print(_row(entry))
    total = totals(entries)
    month = ledger.spent_since(month_start())
    budget = state.settings.escalate.monthly_budget_usd
    limit = f" of ${budget:.2f} budget" if budget > 0 else ""
    print(
        f"total: {total.count} escalations, {total.usage.input_tokens:,} input + "
        f"{total.usage.output_tokens:,} output tokens, ${total.cost_usd:.4f}; "
        f"this month ${month:.4f}{limit}"
    )


@log_app.command("show")
def show(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(help="The escalation number.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False,
) -> None:
    """Print one escalation: question, manifest, body hash, answer, usage, cost."""
    from hybridcode.escalate.ledger import Ledger

    entry = Ledger(get_state(ctx).paths.data_dir).get(number)
    if entry is None:
        raise InputError(f"no escalation #{number}", "list them with `hc log`")
    if as_json:
        print(json.dumps(_as_dict(entry), indent=2))
        return
    usage = entry.usage
    print(f"#{entry.id}  {entry.created_at}  {entry.status}  {entry.model}")
    print(f"question: {entry.question}")
    print(f"body sha256: {entry.body_sha256}")
    print(
        f"usage: {usage.input_tokens:,} input, {usage.output_tokens:,} output, "
        f"{usage.cache_creation_input_tokens:,} cache write, "
        f"{usage.cache_read_input_tokens:,} cache read"
    )
    print(
        f"cost: {_money(entry.cost_usd)} (estimated up to {_money(entry.estimate_usd)})"
    )
    if entry.error:
        print(f"error: {entry.error}")
    print("manifest:")
    print(json.dumps(entry.manifest, indent=2))
    print("answer:" if entry.status == "complete" else f"answer ({entry.status}):")
    print(entry.answer)


def _row(entry: Entry) -> str:
    question = " ".join(entry.question.split())
    if len(question) > 60:
        question = question[:57] + "..."
    return (
        f"#{entry.id:<4} {entry.created_at}  {entry.status:<10} {entry.model:<20} "
        f"{entry.usage.input_tokens:>7,} in {entry.usage.output_tokens:>6,} out "
        f"{_money(entry.cost_usd):>9}  {question}"
    )


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.4f}"


def _as_dict(entry: Entry) -> dict[str, object]:
    usage = entry.usage
    return {
        "id": entry.id,
        "created_at": entry.created_at,
        "status": entry.status,
        "model": entry.model,
        "question": entry.question,
        "manifest": entry.manifest,
        "body_sha256": entry.body_sha256,
        "answer": entry.answer,
        "error": entry.error,
        "usage": {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cache_creation_input_tokens": usage.cache_creation_input_tokens,
            "cache_read_input_tokens": usage.cache_read_input_tokens,
        },
        "cost_usd": entry.cost_usd,
        "estimate_usd": entry.estimate_usd,
    }
