"""The Anthropic adapter: stream one request body, with bounded, visible retries."""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hybridcode import __version__
from hybridcode.config import EscalateSettings
from hybridcode.errors import ApiError, ConfigError

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.anthropic.com"
PROXY_VARIABLES = (
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "HTTP_PROXY",
    "http_proxy",
)
# The SDK's platform headers describe this machine; none of them are needed.
OMITTED_HEADERS = (
    "X-Stainless-Lang",
    "X-Stainless-Package-Version",
    "X-Stainless-OS",
    "X-Stainless-Arch",
    "X-Stainless-Runtime",
    "X-Stainless-Runtime-Version",
    "x-stainless-retry-count",
    "x-stainless-timeout",
    "x-stainless-read-timeout",
    "X-Stainless-Async",
)


@dataclass(frozen=True)
class ApiTarget:
    base_url: str
    api_key: str = field(repr=False)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries. timeout_s limits each connect, write and read of a request.

    Known shortcoming: a server that keeps sending events (pings) within the
    limit keeps a stream open; there is no cap on a whole answer's duration,
    because real answers can stream for minutes.
    """

    timeout_s: float
    max_retries: int
    backoff_s: float
    retry_after_cap_s: float

    @classmethod
    def from_settings(cls, settings: EscalateSettings) -> RetryPolicy:
        return cls(
            settings.timeout_s,
            max(settings.max_retries, 0),
            settings.backoff_s,
            settings.retry_after_cap_s,
        )


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            *(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True))
        )

    def astuple(self) -> tuple[int, int, int, int]:
        return (
            self.input_tokens,
            self.output_tokens,
            self.cache_creation_input_tokens,
            self.cache_read_input_tokens,
        )


@dataclass(frozen=True)
class Answer:
    text: str
    stop_reason: str
    usage: Usage  # summed over every attempt the API started answering
    attempts: int


class SendFailed(ApiError):
    """The request failed after bounded retries; carries what was spent and received."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        partial: str = "",
        usage: Usage | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(message, hint)
        self.partial = partial
        self.usage = usage or Usage()
        self.attempts = attempts


@dataclass
class Progress:
    """Callbacks the CLI uses to show the answer and the waits."""

    on_text: Callable[[str], None] = lambda text: None
    on_restart: Callable[[str], None] = lambda reason: None  # drop shown partial text
    on_wait: Callable[[float, str, int, int], None] = lambda s, why, n, total: None


def api_target(
    env: Mapping[str, str], settings: EscalateSettings, need_key: bool = True
) -> ApiTarget:
    """Resolve the key and endpoint; warn about variables that change requests."""
    key = env.get("ANTHROPIC_API_KEY") or settings.api_key
    if need_key and not key:
        raise ConfigError(
            "no Anthropic API key",
            "set ANTHROPIC_API_KEY or run `hc config set escalate.api_key`",
        )
    base_url = env.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
    warnings = []
    if env.get("ANTHROPIC_BASE_URL"):
        warnings.append(f"ANTHROPIC_BASE_URL is set: requests go to {base_url}")
    if env.get("ANTHROPIC_CUSTOM_HEADERS") is not None:
        names = [
            line.split(":", 1)[0].strip()
            for line in env["ANTHROPIC_CUSTOM_HEADERS"].split("\n")
            if ":" in line
        ]
        warnings.append(
            "ANTHROPIC_CUSTOM_HEADERS adds headers to every request: "
            + (", ".join(names) or "(none parsed)")
        )
    if env.get("ANTHROPIC_LOG"):
        warnings.append("ANTHROPIC_LOG is set: the SDK logs requests")
    proxy = next((env[v] for v in PROXY_VARIABLES if env.get(v)), None)
    if proxy and not env.get("ANTHROPIC_BASE_URL", "").startswith("http://127."):
        warnings.append(f"a proxy variable is set: requests may go through {proxy}")
    return ApiTarget(base_url, key or "", tuple(warnings))


def send(
    body: bytes,
    target: ApiTarget,
    policy: RetryPolicy,
    progress: Progress | None = None,
) -> Answer:
    """Stream the body to the Messages API; retry what is worth retrying."""
    progress = progress or Progress()
    client = _client(target)
    total = policy.max_retries + 1
    spent = Usage()
    try:
        for attempt in range(1, total + 1):
            attempt_usage = _AttemptUsage()
            try:
                answer = _attempt(client, body, policy, progress, attempt_usage)
                usage = spent + attempt_usage.usage
                return Answer(answer[0], answer[1], usage, attempt)
            except _Retryable as problem:
                spent = spent + attempt_usage.usage
                wait = problem.wait(policy, attempt)
                if attempt == total or wait is None:
                    raise SendFailed(
                        problem.message,
                        problem.hint,
                        partial=problem.partial,
                        usage=spent,
                        attempts=attempt,
                    ) from None
                if problem.partial:
                    progress.on_restart(problem.message)
                progress.on_wait(wait, problem.message, attempt + 1, total)
                time.sleep(wait)
            except SendFailed as failed:
                failed.usage = spent + attempt_usage.usage
                failed.attempts = attempt
                raise
    finally:
        client.close()
    raise AssertionError("unreachable")  # pragma: no cover - the loop always returns


def _client(target: ApiTarget) -> Any:
    import gc

    import anthropic

    # The SDK defines thousands of pydantic models that live until exit; freezing
    # them spares the final garbage collection about a second.
    gc.freeze()

    headers: dict[str, Any] = {name: anthropic.Omit() for name in OMITTED_HEADERS}
    headers["User-Agent"] = f"hybridcode/{__version__}"
    # The Messages API documents the key in x-api-key; this SDK version would send
    # it as a Bearer token, so send the documented header instead. Passing api_key
    # as well keeps the SDK from reading credentials of its own (env, profiles).
    headers["Authorization"] = anthropic.Omit()
    headers["X-Api-Key"] = target.api_key
    return anthropic.Anthropic(
        api_key=target.api_key,
        base_url=target.base_url,
        max_retries=0,  # retries are ours, so every wait is shown and bounded
        default_headers=headers,
        open_telemetry={"traces": {"enabled": False}, "propagation": False},
    )


@dataclass
class _AttemptUsage:
    usage: Usage = field(default_factory=Usage)


class _Retryable(Exception):
    def __init__(
        self,
        message: str,
        hint: str | None = None,
        partial: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.partial = partial
        self.retry_after = retry_after
        self.timed_out = False

    def wait(self, policy: RetryPolicy, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now."""
        if self.timed_out:
            return 0.0  # the timeout itself was the wait
        if self.retry_after is None:
            return policy.backoff_s * 2 ** (attempt - 1)
        if self.retry_after > policy.retry_after_cap_s:
            self.hint = (
                f"the API asks to wait {self.retry_after:g} s, over "
                f"escalate.retry_after_cap_s={policy.retry_after_cap_s:g}; "
                "try again later"
            )
            return None
        return self.retry_after


def _attempt(
    client: Any,
    body: bytes,
    policy: RetryPolicy,
    progress: Progress,
    usage: _AttemptUsage,
) -> tuple[str, str]:
    import anthropic
    from anthropic.types import Message, RawMessageStreamEvent

    text: list[str] = []
    try:
        stream = client.post(
            "/v1/messages",
            cast_to=Message,
            content=body,
            stream=True,
            stream_cls=anthropic.Stream[RawMessageStreamEvent],
            options={"timeout": policy.timeout_s},
        )
        with stream:
            stop = _read_stream(stream, text, progress, usage)
    except anthropic.APIStatusError as exc:
        raise _status_problem(exc, "".join(text)) from None
    except anthropic.APITimeoutError:
        problem = _Retryable(
            f"the request timed out after {policy.timeout_s:g} s",
            "escalate.timeout_s sets the limit",
            "".join(text),
        )
        problem.timed_out = True
        raise problem from None
    except anthropic.APIConnectionError as exc:
        cause = exc.__cause__ or exc
        raise _Retryable(
            f"connection to {client.base_url} failed: {cause}", None, "".join(text)
        ) from None
    if stop is None:
        raise _Retryable(
            "the answer stream ended before message_stop; the answer is incomplete",
            None,
            "".join(text),
        )
    return "".join(text), stop


def _read_stream(
    stream: Any, text: list[str], progress: Progress, usage: _AttemptUsage
) -> str | None:
    """Collect text and usage; return the stop reason, or None if message_stop
    never came."""
    stop_reason = ""
    for event in stream:
        if event.type == "message_start":
            usage.usage = _usage(event.message.usage)
        elif event.type == "content_block_delta" and event.delta.type == "text_delta":
            text.append(event.delta.text)
            progress.on_text(event.delta.text)
        elif event.type == "message_delta":
            stop_reason = event.delta.stop_reason or stop_reason
            usage.usage = _merge_delta(usage.usage, event.usage)
        elif event.type == "message_stop":
            return stop_reason or "end_turn"
    return None


def _usage(raw: Any) -> Usage:
    return Usage(
        raw.input_tokens or 0,
        raw.output_tokens or 0,
        getattr(raw, "cache_creation_input_tokens", 0) or 0,
        getattr(raw, "cache_read_input_tokens", 0) or 0,
    )


def _merge_delta(current: Usage, delta: Any) -> Usage:
    # message_delta carries cumulative counts; fields it leaves out stay as they were.
    return Usage(
        getattr(delta, "input_tokens", None) or current.input_tokens,
        getattr(delta, "output_tokens", None) or current.output_tokens,
        getattr(delta, "cache_creation_input_tokens", None)
        or current.cache_creation_input_tokens,
        getattr(delta, "cache_read_input_tokens", None)
        or current.cache_read_input_tokens,
    )


def _status_problem(exc: Any, partial: str) -> Exception:
    status = exc.status_code
    kind, detail = _error_body(exc.body)
    if kind == "overloaded_error" or status == 529:
        # Inside a stream the SDK reports the error with the stream's status, 200:
        # only the error type tells it is an overload.
        where = f"{status}" if status != 200 else "overloaded_error inside the stream"
        return _Retryable(
            f"the API is overloaded ({where})",
            "retry later",
            partial,
            _retry_after(exc.response),
        )
    if status == 429:
        return _Retryable(
            "rate limited by the API (429)",
            "retry later",
            partial,
            _retry_after(exc.response),
        )
    if status >= 500 or kind == "api_error":
        return _Retryable(
            f"the API failed ({status}: {detail or kind})",
            "retry later",
            partial,
            _retry_after(exc.response),
        )
    if status == 401:
        return SendFailed(
            "the API key was rejected (401)",
            "check ANTHROPIC_API_KEY or escalate.api_key",
            partial=partial,
        )
    if status == 403:
        return SendFailed(
            f"the API refused the request (403: {detail or kind})", partial=partial
        )
    return SendFailed(
        f"the API rejected the request ({status}: {detail or kind})", partial=partial
    )


def _error_body(body: object) -> tuple[str, str]:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("type", "")), str(error.get("message", ""))
    return "", str(body or "")[:200]


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None) or {}
    try:
        if "retry-after-ms" in headers:
            return float(headers["retry-after-ms"]) / 1000
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(float(value), 0.0)
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(when.timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None
