"""When to retry a FUB request and how long to wait: pure functions and named constants.

FUB's own advice ("Retrying failed requests"): for 5xx answers use truncated exponential backoff,
waiting 1 s + random ms, then 2 s + random ms, 4 s + random ms, ... up to a maximum. Here the n-th
retry (n = 0, 1, 2, ...) waits

    min(2**n + random_ms / 1000, max_backoff)        random_ms drawn anew each retry, 0 <= random_ms <= 1000

and a 429 waits `Retry-After` seconds (else the same backoff).

What is re-sent (the one rule that keeps a retry from duplicating a write):

* 429 -- every method. FUB: "your request was not processed".
* Nothing reached FUB (connect error, connect timeout, pool timeout) -- every method.
* FUB may have processed it (5xx, 408, read/write timeout, broken connection, malformed 2xx body) --
  only GET, PUT and DELETE, which are safe to repeat: a PUT sets the same values again, a DELETE
  deletes what is already gone (FUB may then answer 404, which the client explains).
* POST after FUB may have processed it: NOT re-sent, because notes, tasks, calls, deals, people,
  appointments, text messages ... would be created twice. The one exception is `POST /events`
  (lead intake): FUB de-duplicates the person by email/phone, so a re-send at worst adds a second
  timeline event to the same person, and a lost lead is the greater harm. The error for a POST that
  is not re-sent says FUB may have stored it and to check before trying again.
* A malformed 2xx body on a POST is never re-sent: FUB answered 2xx, so it did process it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import Enum

import httpx

__all__ = [
    "DEFAULT_CALL_DEADLINE",
    "DEFAULT_MAX_BACKOFF",
    "DEFAULT_MAX_RETRIES",
    "IDEMPOTENT_METHODS",
    "MAX_JITTER_MS",
    "RESENDABLE_POSTS",
    "Delivery",
    "backoff_delay",
    "classify_transport_error",
    "draw_jitter_ms",
    "may_resend",
    "parse_retry_after",
    "retryable_status",
]

DEFAULT_MAX_RETRIES = 5  # retries after the first attempt
DEFAULT_MAX_BACKOFF = 32.0  # seconds: the cap of the exponential backoff
DEFAULT_CALL_DEADLINE = 50.0  # seconds: one call, waits and retries included (MCP clients give up ~60 s)
MAX_JITTER_MS = 1000  # random_ms is drawn in [0, MAX_JITTER_MS]
MAX_RETRY_AFTER = 3600.0  # seconds: a larger or nonsensical Retry-After is clamped to this

# Methods FUB may safely see twice.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

# POST paths that may be re-sent after FUB may have processed them, and why.
RESENDABLE_POSTS = {
    "/events": "FUB de-duplicates the person by email/phone; a duplicate timeline event beats a lost lead",
}


class Delivery(Enum):
    """How far a request got before a transport error."""

    NOT_SENT = "not_sent"  # nothing reached FUB: safe to re-send any method
    MAYBE_PROCESSED = "maybe_processed"  # FUB may have received and processed it
    FATAL = "fatal"  # a local mistake (bad URL, protocol misuse): retrying cannot help


def backoff_delay(retry: int, random_ms: int, max_backoff: float = DEFAULT_MAX_BACKOFF) -> float:
    """Seconds before retry number `retry` (0-based): min(2**retry + random_ms/1000, max_backoff)."""
    if retry < 0:
        raise ValueError("retry must be >= 0")
    random_ms = min(max(random_ms, 0), MAX_JITTER_MS)
    exponent = min(retry, 62)  # 2**62 s is already far past any cap
    return min(2.0**exponent + random_ms / 1000, max_backoff)


def draw_jitter_ms(random: Callable[[], float]) -> int:
    """A fresh random_ms for one retry: int(random() * 1000), kept within [0, MAX_JITTER_MS]."""
    return min(max(int(random() * MAX_JITTER_MS), 0), MAX_JITTER_MS)


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` in seconds (FUB sends whole seconds); None when missing or not a number."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # an HTTP-date: FUB documents seconds only, fall back to the backoff
    if math.isnan(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER)


def _bare(path: str) -> str:
    path = "/" + path.split("?", 1)[0].strip("/")
    return path[3:] if path.startswith("/v1/") else path


def may_resend(method: str, path: str) -> bool:
    """True when a request FUB may already have processed can be sent again without harm."""
    method = method.upper()
    if method in IDEMPOTENT_METHODS:
        return True
    return method == "POST" and _bare(path) in RESENDABLE_POSTS


def retryable_status(status_code: int, method: str, path: str) -> bool:
    """True when an error status is worth another attempt for this method and path."""
    if status_code == 429:
        return True  # FUB did not process it
    if status_code == 408 or status_code >= 500:
        return may_resend(method, path)
    return False


def classify_transport_error(exc: httpx.TransportError) -> Delivery:
    """Whether a transport error happened before anything reached FUB."""
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return Delivery.NOT_SENT
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.ProxyError, httpx.LocalProtocolError)):
        return Delivery.FATAL
    return Delivery.MAYBE_PROCESSED  # read/write timeout, read/write error, remote protocol error
