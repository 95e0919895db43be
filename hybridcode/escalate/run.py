"""Send a package and record the outcome in the ledger, whatever it is."""

from __future__ import annotations

from dataclasses import dataclass

from hybridcode.escalate.client import (
    Answer,
    ApiTarget,
    Progress,
    RetryPolicy,
    SendFailed,
    Usage,
    send,
)
from hybridcode.escalate.ledger import Ledger
from hybridcode.escalate.packaging import Package
from hybridcode.escalate.policy import CostEstimate


@dataclass(frozen=True)
class Outcome:
    answer: Answer
    entry: int  # ledger number
    cost_usd: float | None


@dataclass(frozen=True)
class _Recorder:
    ledger: Ledger
    package: Package
    question: str
    estimate: CostEstimate

    def cost(self, usage: Usage) -> float | None:
        price = self.estimate.price
        if price is None:
            return None
        return price.cost(*usage.astuple())

    def __call__(self, status: str, answer: str, usage: Usage, error: str = "") -> int:
        return self.ledger.record(
            status=status,
            model=self.package.model,
            question=self.question,
            manifest=self.package.manifest(),
            body_sha256=self.package.sha256,
            answer=answer,
            usage=usage,
            cost_usd=self.cost(usage),
            estimate_usd=self.estimate.total_usd,
            error=error,
        )


def send_and_record(
    package: Package,
    question: str,
    estimate: CostEstimate,
    target: ApiTarget,
    policy: RetryPolicy,
    ledger: Ledger,
    progress: Progress,
) -> Outcome:
    """Send the exact package body; record success and failure alike."""
    record = _Recorder(ledger, package, question, estimate)
    try:
        answer = send(package.body, target, policy, progress)
    except KeyboardInterrupt:
        # The body may already have left the machine: the ledger says so.
        record("interrupted", "", Usage(), "interrupted by the user")
        raise
    except SendFailed as failed:
        status = "incomplete" if failed.partial else "failed"
        number = record(status, failed.partial, failed.usage, str(failed))
        failed.hint = (
            f"{failed.hint}; ledger #{number}" if failed.hint else (f"ledger #{number}")
        )
        raise
    status = "complete" if answer.stop_reason != "max_tokens" else "max_tokens"
    number = record(status, answer.text, answer.usage)
    return Outcome(answer, number, record.cost(answer.usage))
