"""Test doubles for the FUB client: virtual time and a FUB-like rate-limited server."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import respx

from fub_mcp.fub.client import FUBClient

BASE_URL = "https://api.followupboss.com/v1"
API_KEY = "fubkey_live_9f8e7d6c5b4a"
SYSTEM = "fub-mcp-tests"
SYSTEM_KEY = "syskey_0a1b2c3d4e5f"


class VirtualClock:
    """Fake time. `clock()` reads it; `await clock.sleep(s)` waits on it. While `running()`, a driver
    moves time to the next sleeper's wake-up whenever every task is idle, so concurrent sleepers
    overlap as they would in real time, and nothing really sleeps."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []  # every sleep asked for, in order
        self._timers: list[tuple[float, int, anyio.Event]] = []
        self._seq = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        event = anyio.Event()
        entry = (self.now + seconds, next(self._seq), event)
        heapq.heappush(self._timers, entry)
        try:
            await event.wait()
        finally:
            if not event.is_set():
                self._timers.remove(entry)
                heapq.heapify(self._timers)

    async def _settle(self) -> None:
        loop = asyncio.get_running_loop()
        quiet = 0
        while quiet < 3:
            await asyncio.sleep(0)
            quiet = quiet + 1 if not loop._ready else 0  # type: ignore[attr-defined]

    async def _drive(self) -> None:
        while True:
            await self._settle()
            if not self._timers:
                await asyncio.sleep(0.0005)  # nobody sleeps on fake time: let real I/O finish
                continue
            self.now = max(self.now, self._timers[0][0])
            while self._timers and self._timers[0][0] <= self.now:
                heapq.heappop(self._timers)[2].set()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[VirtualClock]:
        """Advance fake time while the body runs (bounded by 5 real seconds)."""
        error: Exception | None = None
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._drive)
                try:
                    yield self
                except Exception as exc:  # re-raised below, not wrapped in an ExceptionGroup
                    error = exc
                finally:
                    tg.cancel_scope.cancel()
        if error is not None:
            raise error


def make_client(
    handler: respx.MockRouter | Any,
    clock: VirtualClock,
    *,
    random_values: list[float] | None = None,
    **options: Any,
) -> FUBClient:
    """A client on `handler` (a respx router or an httpx handler function) and the virtual clock."""
    if isinstance(handler, respx.MockRouter):
        handler = handler.async_handler
    values = itertools.cycle(random_values or [0.5])
    defaults: dict[str, Any] = {
        "api_key": API_KEY,
        "base_url": BASE_URL,
        "transport": httpx.MockTransport(handler),
        "clock": clock,
        "sleep": clock.sleep,
        "random": lambda: next(values),
    }
    defaults.update(options)
    return FUBClient(**defaults)


def new_router() -> respx.MockRouter:
    return respx.MockRouter(base_url=BASE_URL, assert_all_called=False)


class FakeFUB:
    """A FUB-like endpoint: one sliding window per context over *receipt* times, the four
    X-RateLimit-* headers on every answer, 429 + Retry-After when the budget is gone; each answer
    takes `latency` seconds of fake time after FUB counted the request."""

    def __init__(self, clock: VirtualClock, *, limit: int, window: float, latency: float = 0.0) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self.latency = latency
        self.received: list[float] = []  # receipt times of the requests FUB accepted
        self.rejected: list[float] = []  # receipt times of 429s
        self.order: list[str] = []  # the `i` query param of each accepted request

    def in_window(self, now: float) -> list[float]:
        return [t for t in self.received if t > now - self.window]

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        now = self.clock()
        counted = self.in_window(now)
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Window": f"{self.window:g}",
            "X-RateLimit-Context": "global",
        }
        if len(counted) >= self.limit:
            self.rejected.append(now)
            headers["X-RateLimit-Remaining"] = "0"
            headers["Retry-After"] = str(max(1, math.ceil(min(counted) + self.window - now)))
            response = httpx.Response(429, headers=headers, json={"errorMessage": "Too many requests"})
        else:
            self.received.append(now)
            self.order.append(request.url.params.get("i", ""))
            headers["X-RateLimit-Remaining"] = str(self.limit - len(counted) - 1)
            response = httpx.Response(200, headers=headers, json={"ok": True})
        if self.latency:
            await self.clock.sleep(self.latency)
        return response
