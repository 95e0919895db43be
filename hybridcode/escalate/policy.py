"""What must hold before anything is sent: cost limits, budget, consent."""

from __future__ import annotations

from dataclasses import dataclass

from hybridcode.errors import ConsentRequired, InputError
from hybridcode.escalate.packaging import Package
from hybridcode.escalate.prices import Price, PriceTable


class NotSent(InputError):
    """A limit the user set stopped the request before it left the machine."""


@dataclass(frozen=True)
class CostEstimate:
    price: Price | None
    input_usd: float | None
    max_output_usd: float | None

    @property
    def total_usd(self) -> float | None:
        if self.input_usd is None or self.max_output_usd is None:
            return None
        return self.input_usd + self.max_output_usd


def estimate_cost(package: Package, table: PriceTable) -> CostEstimate:
    """Estimated input cost plus the most the output could cost (max_tokens)."""
    price = table.price(package.model)
    if price is None:
        return CostEstimate(None, None, None)
    return CostEstimate(
        price, price.cost(package.input_tokens, 0), price.cost(0, package.max_tokens)
    )


def check_limits(
    estimate: CostEstimate,
    model: str,
    max_cost: float | None,
    monthly_budget: float,
    spent_this_month: float,
) -> None:
    """Refuse before sending when the estimate breaks --max-cost or the budget."""
    total = estimate.total_usd
    if (max_cost is not None or monthly_budget > 0) and total is None:
        raise NotSent(
            f"not sent: no price known for {model}, so the cost limit "
            "cannot be checked",
            "set escalate.prices_file",
        )
    assert total is not None or (max_cost is None and monthly_budget <= 0)
    if max_cost is not None and total is not None and total > max_cost:
        raise NotSent(
            f"not sent: estimated cost up to ${total:.4f} is over "
            f"--max-cost ${max_cost:.4f}",
            "lower --budget-tokens or escalate.max_tokens, or raise --max-cost",
        )
    if (
        monthly_budget > 0
        and total is not None
        and spent_this_month + total > monthly_budget
    ):
        raise NotSent(
            f"not sent: ${spent_this_month:.4f} spent this month plus up to "
            f"${total:.4f} would pass the monthly budget of "
            f"${monthly_budget:.2f}",
            "raise escalate.monthly_budget_usd",
        )


def needs_prompt(yes: bool, interactive: bool) -> bool:
    """True when the user must be asked; raise when nobody can be asked."""
    if yes:
        return False
    if not interactive:
        raise ConsentRequired(
            "escalate sends code to Anthropic and there is no terminal to ask "
            "for consent",
            "review with --dry-run, then pass --yes to send",
        )
    return True
