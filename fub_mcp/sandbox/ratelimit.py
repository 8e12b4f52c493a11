"""FUB's rate limiting: a real sliding window of request timestamps per API key and context."""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

from fub_mcp.sandbox.constants import RateLimits

__all__ = ["RateDecision", "SlidingWindowLimiter", "context_for"]


def context_for(method: str, bare_path: str) -> str:
    """`POST.events` (POST /events), `events` (GET /events[/...]) or `global` (everything else)."""
    if bare_path == "/events" or bare_path.startswith("/events/"):
        if method == "POST":
            return "POST.events"
        if method == "GET":
            return "events"
    return "global"


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    context: str
    limit: int | None  # None: unlimited
    remaining: int | None
    window: float
    retry_after: int = 0

    def headers(self) -> dict[str, str]:
        """The X-RateLimit-* headers. For an unlimited context (POST.events) Limit and Remaining are
        omitted: FUB documents it as unlimited and gives no number to send."""
        window = f"{self.window:g}"
        headers = {"X-RateLimit-Window": window, "X-RateLimit-Context": self.context}
        if self.limit is not None:
            headers["X-RateLimit-Limit"] = str(self.limit)
            headers["X-RateLimit-Remaining"] = str(max(self.remaining or 0, 0))
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class SlidingWindowLimiter:
    """`limit` requests in any `window` seconds, counted per (API key, context).

    A request is counted when it is accepted; a 429 is not counted (FUB: "your request was not
    processed"). `Retry-After` is the time until the oldest counted request leaves the window,
    rounded up to whole seconds and at least 1.
    """

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._stamps: dict[tuple[str, str], deque[float]] = {}

    def reset(self) -> None:
        with self._lock:
            self._stamps.clear()

    def _window(self, key: str, context: str, now: float) -> deque[float]:
        stamps = self._stamps.setdefault((key, context), deque())
        horizon = now - self.limits.window_seconds
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        return stamps

    def hit(self, key: str, context: str, registered: bool, now: float) -> RateDecision:
        """Count one request (when within budget) and say whether it may proceed."""
        limit = self.limits.limit_for(context, registered)
        window = self.limits.window_seconds
        if limit is None:
            return RateDecision(True, context, None, None, window)
        with self._lock:
            stamps = self._window(key, context, now)
            if len(stamps) >= limit:
                oldest = stamps[len(stamps) - limit]
                wait = oldest + window - now
                return RateDecision(False, context, limit, 0, window, max(1, math.ceil(wait - 1e-9)))
            stamps.append(now)
            return RateDecision(True, context, limit, limit - len(stamps), window)

    def peek(self, key: str, context: str, registered: bool, now: float) -> RateDecision:
        """Where a key stands, without counting a request (for answers that are not counted)."""
        limit = self.limits.limit_for(context, registered)
        window = self.limits.window_seconds
        if limit is None:
            return RateDecision(True, context, None, None, window)
        with self._lock:
            used = len(self._window(key, context, now))
        return RateDecision(True, context, limit, max(limit - used, 0), window)
