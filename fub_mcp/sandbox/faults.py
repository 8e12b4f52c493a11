"""Injected failures for client tests: 5xx answers, 429 storms, latency, dropped connections and
malformed bodies, each for the next N matching requests."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["FAULT_KINDS", "Fault", "FaultInjector"]

FAULT_KINDS = ("status", "rate_limit", "latency", "drop", "malformed")
_STATUSES = (500, 502, 503, 504)


@dataclass
class Fault:
    """One injected fault.

    * `status`: answer `status` (500/502/503/504) with an `errorMessage` body.
    * `rate_limit`: answer 429 with `Retry-After: retry_after` and `X-RateLimit-Remaining: 0`.
    * `latency`: wait `latency_ms`, then answer normally.
    * `drop`: close the connection without an answer (over real HTTP the client sees "Server
      disconnected without sending a response"; under httpx.ASGITransport `httpx.RemoteProtocolError`
      is raised into the client with the same message).
    * `malformed`: answer 200 with a truncated, invalid JSON body.

    `process`: whether the request is carried out before the failure (the answer was lost on the
    way back): default False for status/rate_limit/drop (nothing happened), True for malformed (a 2xx
    means FUB did the work); latency always processes. `route` limits the fault to matching requests:
    "POST /notes" (method + path prefix, path relative to /v1) or "/people" (any method).
    """

    kind: str
    count: int = 1
    status: int | None = None
    retry_after: int | None = None
    latency_ms: int | None = None
    route: str | None = None
    process: bool | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(FAULT_KINDS)}")
        if not isinstance(self.count, int) or isinstance(self.count, bool) or self.count < 1:
            raise ValueError("count must be an integer >= 1")
        if self.kind == "status":
            self.status = 503 if self.status is None else self.status
            if self.status not in _STATUSES:
                raise ValueError(f"status must be one of {_STATUSES}")
        if self.kind == "rate_limit":
            self.retry_after = 1 if self.retry_after is None else int(self.retry_after)
            if self.retry_after < 0:
                raise ValueError("retry_after must be >= 0")
        if self.kind == "latency":
            self.latency_ms = 100 if self.latency_ms is None else int(self.latency_ms)
            if self.latency_ms < 0:
                raise ValueError("latency_ms must be >= 0")
        if self.process is None:
            self.process = self.kind in ("malformed", "latency")
        if self.route is not None:
            self.route = self.route.strip()

    def matches(self, method: str, bare_path: str) -> bool:
        if not self.route:
            return True
        route = self.route
        if route.startswith("/"):
            return bare_path.startswith(route.removeprefix("/v1") or "/")
        wanted_method, _, path = route.partition(" ")
        path = path.strip().removeprefix("/v1") or "/"
        return wanted_method.upper() == method and bare_path.startswith(path)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


class FaultInjector:
    """The queue of faults; the first one that matches a request is used (and counted down)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def inject(
        self,
        kind: str,
        count: int = 1,
        status: int | None = None,
        retry_after: int | None = None,
        latency_ms: int | None = None,
        route: str | None = None,
        process: bool | None = None,
    ) -> Fault:
        """Make the next `count` (matching) requests fail as `kind` (see `Fault`)."""
        fault = Fault(kind, count, status, retry_after, latency_ms, route, process)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, method: str, bare_path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, bare_path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None
