"""The rate limiter every concurrent FUB call shares: a sliding log per FUB rate context.

FUB enforces "a sliding 10 second window" per *context*: `global` (125 requests per 10 s, 250 with a
registered system key), `events` (`GET /events`: 10, or 20) and `POST.events` (unlimited). Every
response says where a key stands (`X-RateLimit-Limit`, `-Remaining`, `-Window`, `-Context`), and a
429 carries `Retry-After`. This limiter keeps the client under those limits *before* FUB has to say
no, while still using the whole budget:

* **Sliding log.** Each context keeps the completion times of the requests sent in the last window,
  plus the requests in flight. A request may go when fewer than `limit` are in flight or completed
  within the last `window` seconds. A slot is reserved before sending and stamped with the time the
  response *completed*: FUB counted the request at some moment between send and completion, so a
  completion stamp can only make the window end later locally than at FUB -- never early. Right
  before it is sent, a reservation is confirmed against the budget then in force (FUB's headers may
  have lowered it meanwhile, e.g. during a cold burst that reserved under the default budget); one
  that no longer fits goes back in the queue instead of into a 429.
* **Full budget.** Nothing is held back: a burst sends `limit` requests at once, and the next one
  goes the moment the oldest stamp leaves the window (200 calls at budget B per window W finish in
  about ceil(200/B - 1)·W plus the latency).
* **Fair, quiet waiting.** Callers of one context queue first-come first-served. Only the head of
  the queue watches the budget; it sleeps exactly until the next slot frees (or until something
  changes: a request completes, a header raises the limit), so there is no thundering herd and no
  starvation. A queued caller whose estimated turn would fall after its deadline fails at once.
* **Following FUB.** `X-RateLimit-Limit`/`-Window` replace the configured values for the context
  the response names. When `-Remaining` shows more usage than the local log knows (another process
  or replica uses the same key), the difference is added as phantom entries, so this client slows
  down too. A 429 blocks the whole context until `Retry-After` has passed ("before retrying, or
  sending any other request").
* **Shared state.** All counting lives behind `RateStore`; `InMemoryRateStore` serves one process.
  A shared store (Redis: a sorted set of stamps per key, a hash of in-flight tokens with a TTL, and
  the acquire step as one Lua script) lets many replicas share one key's budget. Keys are scoped by
  a hash of the API key, never the key itself. Nothing lives in module globals.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import anyio

from fub_mcp.fub.errors import DeadlineExceededError

__all__ = [
    "DEFAULT_RATE_WINDOW",
    "EVENTS_LIMIT",
    "EVENTS_LIMIT_REGISTERED",
    "GLOBAL_LIMIT",
    "GLOBAL_LIMIT_REGISTERED",
    "ContextLimit",
    "InMemoryRateStore",
    "LimiterStats",
    "RateLimiter",
    "RateStore",
    "Slot",
    "Usage",
    "busy_error",
    "default_context",
    "default_limits",
]

# FUB's documented defaults ("always check the headers for the most up-to-date values").
DEFAULT_RATE_WINDOW = 10.0  # seconds
GLOBAL_LIMIT = 125  # requests per window without a registered system key
GLOBAL_LIMIT_REGISTERED = 250  # with X-System + X-System-Key
EVENTS_LIMIT = 10  # GET /events
EVENTS_LIMIT_REGISTERED = 20
# `POST.events` (lead intake) is unlimited: None.

# While every slot of a context is in flight, the head of the queue waits for a completion; with a
# shared store a completion in another replica sends no signal, so it looks again this often.
IN_FLIGHT_POLL = 1.0  # seconds


def default_limits(registered: bool) -> dict[str, int | None]:
    """FUB's default budget per context, for a client with or without a registered system key."""
    return {
        "global": GLOBAL_LIMIT_REGISTERED if registered else GLOBAL_LIMIT,
        "events": EVENTS_LIMIT_REGISTERED if registered else EVENTS_LIMIT,
        "POST.events": None,
    }


def _bare(path: str) -> str:
    path = "/" + path.split("?", 1)[0].strip("/")
    return path[3:] if path.startswith("/v1/") else path


def default_context(method: str, path: str) -> str:
    """FUB's rate context for a request: `POST.events`, `events` (GET /events...) or `global`."""
    bare = _bare(path)
    if bare == "/events" or bare.startswith("/events/"):
        if method.upper() == "POST":
            return "POST.events"
        if method.upper() == "GET":
            return "events"
    return "global"


def _route(method: str, path: str) -> str:
    """`GET /people/12/x` -> `GET /people/{id}/x`: the key under which a learned context is kept."""
    parts = ["{id}" if p.isdigit() else p for p in _bare(path).split("/") if p]
    return f"{method.upper()} /{'/'.join(parts)}"


@dataclass(frozen=True)
class ContextLimit:
    """`limit` requests per `window` seconds; `limit=None` means unlimited."""

    limit: int | None
    window: float


@dataclass(frozen=True)
class Usage:
    """What a store knows about one context right now."""

    stamped: tuple[float, ...]  # completion times (and phantoms) inside the window, oldest first
    pending: int  # requests reserved and not yet completed
    blocked_until: float  # no request before this time (after a 429); -inf when not blocked

    @property
    def used(self) -> int:
        return len(self.stamped) + self.pending


@runtime_checkable
class RateStore(Protocol):
    """Where a limiter keeps its counts. `key` is `<scope>:<context>`; every method is atomic.

    Times are the limiter's clock (seconds). A shared implementation must use one clock for all
    replicas (e.g. the store server's time) and should expire in-flight tokens after a generous TTL
    in case a replica dies mid-request.
    """

    async def get_limit(self, key: str) -> ContextLimit | None:
        """The limit learned from FUB's headers, if any."""
        ...

    async def set_limit(self, key: str, limit: ContextLimit) -> None:
        """Remember the limit FUB's headers gave for this key."""
        ...

    async def try_acquire(self, key: str, now: float, limit: ContextLimit) -> tuple[str | None, float]:
        """Reserve one slot if the window has room: `(token, 0.0)`; else `(None, seconds)` until one may
        free (`math.inf` when every slot is in flight). Unlimited contexts only honour a 429 block."""
        ...

    async def confirm(self, key: str, token: str, now: float, limit: ContextLimit) -> bool:
        """Whether the reserved, not yet sent request still fits just before it is sent: no 429 block,
        and fewer than `limit.limit` stamps plus reservations older than it. (The budget can shrink
        while a reservation waits: FUB's headers lower the limit or report usage from elsewhere.)"""
        ...

    async def complete(self, key: str, token: str, at: float) -> None:
        """The reserved request finished at `at`: it now counts until `at + window`."""
        ...

    async def release(self, key: str, token: str) -> None:
        """The reserved request was never sent: free its slot."""
        ...

    async def record_usage(self, key: str, used: int, now: float, window: float) -> int:
        """FUB says `used` requests count in the window: add phantom entries when it knows more than
        this store. Returns how many were added."""
        ...

    async def block(self, key: str, until: float) -> None:
        """No request for this key before `until` (a 429's Retry-After)."""
        ...

    async def usage(self, key: str, now: float, window: float) -> Usage:
        """A snapshot of the key's usage in the window ending at `now`."""
        ...


@dataclass
class _Log:
    stamped: deque[float] = field(default_factory=deque)
    pending: dict[str, float] = field(default_factory=dict)
    blocked_until: float = -math.inf
    limit: ContextLimit | None = None

    def prune(self, now: float, window: float) -> None:
        horizon = now - window
        while self.stamped and self.stamped[0] <= horizon:
            self.stamped.popleft()

    def stamp(self, at: float, count: int = 1) -> None:
        for _ in range(count):
            if self.stamped and at < self.stamped[-1]:
                bisect.insort(self.stamped, at)
            else:
                self.stamped.append(at)


class InMemoryRateStore:
    """A `RateStore` for one process. Every method runs without yielding, so each one is atomic."""

    def __init__(self) -> None:
        self._logs: dict[str, _Log] = {}
        self._tokens = itertools.count(1)

    def _log(self, key: str) -> _Log:
        log = self._logs.get(key)
        if log is None:
            log = self._logs[key] = _Log()
        return log

    async def get_limit(self, key: str) -> ContextLimit | None:
        return self._log(key).limit

    async def set_limit(self, key: str, limit: ContextLimit) -> None:
        self._log(key).limit = limit

    async def try_acquire(self, key: str, now: float, limit: ContextLimit) -> tuple[str | None, float]:
        log = self._log(key)
        if now < log.blocked_until:
            return None, log.blocked_until - now
        if limit.limit is None:
            return "", 0.0
        log.prune(now, limit.window)
        used = len(log.stamped) + len(log.pending)
        if used < limit.limit:
            token = str(next(self._tokens))
            log.pending[token] = now
            return token, 0.0
        must_free = used - limit.limit + 1  # the oldest `must_free` stamps have to leave the window
        if must_free > len(log.stamped):
            return None, math.inf
        return None, max(log.stamped[must_free - 1] + limit.window - now, 1e-6)

    async def confirm(self, key: str, token: str, now: float, limit: ContextLimit) -> bool:
        log = self._log(key)
        if now < log.blocked_until:
            return False
        if limit.limit is None or token not in log.pending:
            return True
        log.prune(now, limit.window)
        older = list(log.pending).index(token)  # reservations are kept in the order they were made
        return len(log.stamped) + older < limit.limit

    async def complete(self, key: str, token: str, at: float) -> None:
        log = self._log(key)
        if log.pending.pop(token, None) is not None:
            log.stamp(at)

    async def release(self, key: str, token: str) -> None:
        self._log(key).pending.pop(token, None)

    async def record_usage(self, key: str, used: int, now: float, window: float) -> int:
        log = self._log(key)
        log.prune(now, window)
        missing = used - (len(log.stamped) + len(log.pending))
        if missing <= 0:
            return 0
        log.stamp(now, missing)
        return missing

    async def block(self, key: str, until: float) -> None:
        log = self._log(key)
        log.blocked_until = max(log.blocked_until, until)

    async def usage(self, key: str, now: float, window: float) -> Usage:
        log = self._log(key)
        log.prune(now, window)
        return Usage(tuple(log.stamped), len(log.pending), log.blocked_until)


@dataclass(frozen=True)
class Slot:
    """A reserved place in a context's window; hand it back with `complete()` or `release()`."""

    context: str
    key: str
    token: str


@dataclass
class LimiterStats:
    waits: int = 0  # calls that had to wait for budget (or a Retry-After block)
    wait_seconds: float = 0.0
    phantom_entries: int = 0  # usage seen in FUB's headers that this client did not cause
    deadline_failures: int = 0
    requeued: int = 0  # reservations given back because the budget shrank before they were sent


def busy_error(retry_after: float, *, method: str, path: str, reason: str) -> DeadlineExceededError:
    """The error for "waiting would outlive this call's deadline": "FUB is busy; retry after N s"."""
    seconds = max(1, math.ceil(retry_after))
    return DeadlineExceededError(
        f"FUB is busy; retry after {seconds} s ({reason}).", retry_after=float(seconds), method=method, path=path
    )


_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*s?\s*$")


def _number(value: str | None) -> float | None:
    match = _NUMBER.match(value) if value else None
    return float(match.group(1)) if match else None


class RateLimiter:
    """Keeps one API key's requests within FUB's limits, fairly, at the full budget."""

    def __init__(
        self,
        *,
        limits: Mapping[str, int | None] | None = None,
        window: float = DEFAULT_RATE_WINDOW,
        registered: bool = False,
        store: RateStore | None = None,
        scope: str = "default",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        if window <= 0:
            raise ValueError("rate window must be positive")
        configured = default_limits(registered)
        for context, limit in (limits or {}).items():
            if limit is not None and limit < 1:
                raise ValueError(f"rate limit for {context!r} must be >= 1 (None: unlimited)")
            configured[context] = limit
        self._configured = {c: ContextLimit(v, window) for c, v in configured.items()}
        self._store: RateStore = store if store is not None else InMemoryRateStore()
        self._scope = scope
        self._clock = clock
        self._sleep = sleep
        self._routes: dict[str, str] = {}  # learned from X-RateLimit-Context: route -> context
        self._lines: dict[str, deque[anyio.Event]] = {}  # per context: the FIFO of waiting callers
        self._changed: dict[str, anyio.Event] = {}  # per context: set when the budget may have grown
        self.stats = LimiterStats()

    @property
    def store(self) -> RateStore:
        return self._store

    def context_for(self, method: str, path: str) -> str:
        """The context FUB will count this request in (learned from its headers, else the defaults)."""
        return self._routes.get(_route(method, path)) or default_context(method, path)

    def _key(self, context: str) -> str:
        return f"{self._scope}:{context}"

    async def limit_for(self, context: str) -> ContextLimit:
        """The budget in force: FUB's latest headers, else the configured value, else `global`'s."""
        learned = await self._store.get_limit(self._key(context))
        if learned is not None:
            return learned
        return self._configured.get(context) or self._configured["global"]

    async def usage(self, context: str) -> Usage:
        limit = await self.limit_for(context)
        return await self._store.usage(self._key(context), self._clock(), limit.window)

    # --- acquiring -------------------------------------------------------------------------------

    async def acquire(self, context: str, *, deadline_at: float, method: str = "", path: str = "") -> Slot:
        """Wait (first come, first served) for a slot in `context`; raise `DeadlineExceededError`
        at once when the wait would pass `deadline_at`."""
        line = self._lines.setdefault(context, deque())
        me = anyio.Event()
        line.append(me)
        started = self._clock()
        waited = False
        try:
            if line[0] is not me:
                waited = True
                estimate = await self._estimate_wait(context, position=len(line) - 1)
                remaining = deadline_at - self._clock()
                if estimate > remaining:
                    raise self._deadline(estimate, context, method, path)
                if not await self._wait_for(me, remaining):
                    raise self._deadline(await self._estimate_wait(context, position=len(line)), context, method, path)
            slot, head_waited = await self._acquire_as_head(context, deadline_at, method, path)
            waited = waited or head_waited
            return slot
        finally:
            was_head = line[0] is me
            line.remove(me)
            if was_head and line:
                line[0].set()
            if not line:
                self._lines.pop(context, None)
            if waited:
                self.stats.waits += 1
                self.stats.wait_seconds += self._clock() - started

    async def _acquire_as_head(
        self, context: str, deadline_at: float, method: str, path: str
    ) -> tuple[Slot, bool]:
        key = self._key(context)
        waited = False
        while True:
            changed = self._changed.get(context)
            if changed is None:
                changed = self._changed[context] = anyio.Event()
            limit = await self.limit_for(context)
            now = self._clock()
            token, wait = await self._store.try_acquire(key, now, limit)
            if token is not None:
                return Slot(context, key, token), waited
            remaining = deadline_at - now
            if math.isinf(wait):  # every slot is in flight: wait for a completion
                if remaining <= 0:
                    raise self._deadline(limit.window, context, method, path)
                timeout = min(remaining, IN_FLIGHT_POLL)
            elif wait > remaining:
                raise self._deadline(wait, context, method, path)
            else:
                timeout = wait
            waited = True
            await self._wait_for(changed, timeout)

    async def _estimate_wait(self, context: str, *, position: int) -> float:
        """Seconds until the caller `position` places behind the head could send (a fair guess)."""
        limit = await self.limit_for(context)
        now = self._clock()
        usage = await self._store.usage(self._key(context), now, limit.window)
        blocked = max(0.0, usage.blocked_until - now)
        if limit.limit is None:
            return blocked
        # In-flight requests count as if they completed now; freed slots recycle once per window.
        frees = sorted([t + limit.window for t in usage.stamped] + [now + limit.window] * usage.pending)
        needed = usage.used - limit.limit + position  # 0-based index of the slot this caller takes
        if needed < 0:
            return blocked
        if not frees:
            return blocked + (needed // limit.limit) * limit.window
        when = frees[needed % len(frees)] + (needed // len(frees)) * limit.window
        return max(blocked, when - now)

    async def _wait_for(self, event: anyio.Event, timeout: float) -> bool:
        """Wait until `event` is set or `timeout` seconds pass (on the injected clock). True if set."""
        if event.is_set():
            return True
        if timeout <= 0:
            return False
        async with anyio.create_task_group() as tg:

            async def timer() -> None:
                await self._sleep(timeout)
                tg.cancel_scope.cancel()

            tg.start_soon(timer)
            await event.wait()
            tg.cancel_scope.cancel()
        return event.is_set()

    def _notify(self, context: str) -> None:
        event = self._changed.pop(context, None)
        if event is not None:
            event.set()

    def _deadline(self, wait: float, context: str, method: str, path: str) -> DeadlineExceededError:
        self.stats.deadline_failures += 1
        return busy_error(
            wait,
            method=method,
            path=path,
            reason=f"this key's `{context}` rate budget is used up and waiting would pass the call's deadline",
        )

    async def confirm(self, slot: Slot) -> bool:
        """Just before sending: does `slot` still fit the budget in force? When it does not, the caller
        releases it and queues again (`acquire`), so a reservation made under a budget FUB has since
        lowered (a smaller X-RateLimit-Limit, usage from elsewhere, a 429 block) is never sent into a 429."""
        limit = await self.limit_for(slot.context)
        fits = await self._store.confirm(slot.key, slot.token, self._clock(), limit)
        if not fits:
            self.stats.requeued += 1
        return fits

    # --- settling ---------------------------------------------------------------------------------

    async def complete(self, slot: Slot, *, at: float | None = None) -> None:
        """The request of `slot` finished (answer or error after sending)."""
        if slot.token:
            await self._store.complete(slot.key, slot.token, self._clock() if at is None else at)
        self._notify(slot.context)

    async def release(self, slot: Slot) -> None:
        """The request of `slot` was never sent."""
        if slot.token:
            await self._store.release(slot.key, slot.token)
        self._notify(slot.context)

    async def block(self, context: str, seconds: float) -> None:
        """Nobody sends in `context` for `seconds` (FUB answered 429 with this Retry-After)."""
        await self._store.block(self._key(context), self._clock() + seconds)

    async def observe(
        self,
        context: str,
        headers: Mapping[str, str],
        *,
        method: str,
        path: str,
        at: float | None = None,
        sync_usage: bool = True,
    ) -> tuple[str, int | None]:
        """Follow a response's `X-RateLimit-*` headers: the limit and window replace what was known for
        the context FUB names, and (with `sync_usage`) usage FUB counted beyond the local log is added
        as phantom entries. Returns (the context FUB named, remaining)."""
        now = self._clock() if at is None else at
        named = (headers.get("X-RateLimit-Context") or "").strip() or context
        if named != context:
            self._routes[_route(method, path)] = named
        limit_value = _number(headers.get("X-RateLimit-Limit"))
        window_value = _number(headers.get("X-RateLimit-Window"))
        remaining_value = _number(headers.get("X-RateLimit-Remaining"))
        current = await self.limit_for(named)
        limit = int(limit_value) if limit_value else current.limit
        window = window_value if window_value else current.window
        updated = ContextLimit(limit, window)
        key = self._key(named)
        if updated != current:
            await self._store.set_limit(key, updated)
            self._notify(named)
        remaining = int(remaining_value) if remaining_value is not None else None
        if sync_usage and remaining is not None and limit is not None:
            added = await self._store.record_usage(key, max(limit - remaining, 0), now, window)
            self.stats.phantom_entries += added
        return named, remaining
