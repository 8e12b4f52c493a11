"""Webhook deliveries: `{eventId, eventCreated, event, resourceIds, uri[, data]}` POSTed to every
active webhook of the event, signed `FUB-Signature: hex(HMAC-SHA256(system key, base64(raw body)))`,
retried on any non-2xx answer or transport error after each of `retry_delays` (and never later than
8 hours after the first attempt).

Deliveries run in the background:

* Inside `async with dispatcher.running():` (the app's lifespan uses it) a worker lives in that task
  group until the block exits; in-flight attempts are cancelled then, queued ones stay queued.
* Without it (an app driven through `httpx.ASGITransport`, which runs no lifespan), the first queued
  delivery starts a worker as an asyncio task on the running loop; that worker exits as soon as
  nothing is queued or in flight, so nothing is left running between tests. A test waits for the
  deliveries with `await dispatcher.join()` (or `sandbox.join_deliveries()`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx

__all__ = ["MAX_RETRY_SPAN", "Delivery", "WebhookDispatcher", "sign"]

_log = logging.getLogger("fub_mcp.sandbox.webhooks")

MAX_RETRY_SPAN = 8 * 3600.0  # FUB: "will continue to retry for up to 8 hours"
DELIVERY_TIMEOUT = 10.0  # seconds a receiver has to answer


def sign(system_key: str, raw_body: bytes) -> str:
    """FUB-Signature: lowercase hex HMAC-SHA256 keyed with the system key over base64(raw body)."""
    return hmac.new(system_key.encode(), base64.b64encode(raw_body), hashlib.sha256).hexdigest()


@dataclass
class Delivery:
    webhook_id: int
    url: str
    event: str
    body: bytes
    signature: str
    event_id: str
    attempts: int = 0
    due: float = 0.0  # monotonic time of the next attempt
    first_attempt: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


class KeepOpenTransport(httpx.AsyncBaseTransport):
    """Lets a per-attempt client use a caller's transport without closing it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        return None


class WebhookDispatcher:
    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_delays: Sequence[float] = (1, 5, 30, 120, 600),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._transport = KeepOpenTransport(transport) if transport is not None else None
        self.retry_delays = tuple(float(d) for d in retry_delays)
        self._clock = clock
        self._queue: list[Delivery] = []
        self._in_flight = 0
        self._wakes: set[anyio.Event] = set()  # one per sleeping worker
        self._managed = 0  # running() blocks currently open
        self._lazy_task: asyncio.Task[None] | None = None
        self.log: list[dict[str, Any]] = []  # every attempt: event, url, attempt, status or error
        self.completed: list[Delivery] = []  # delivered (2xx) or given up

    # --- queueing ---------------------------------------------------------------------------------

    def enqueue(
        self,
        *,
        webhook_id: int,
        url: str,
        system_key: str,
        payload: dict[str, Any],
    ) -> Delivery:
        body = json.dumps(payload, separators=(",", ":")).encode()
        delivery = Delivery(
            webhook_id=webhook_id,
            url=url,
            event=payload["event"],
            body=body,
            signature=sign(system_key, body),
            event_id=payload["eventId"],
            due=self._clock(),
        )
        self._queue.append(delivery)
        self._poke()
        return delivery

    @staticmethod
    def new_event_id() -> str:
        return str(uuid.uuid4())

    @property
    def pending(self) -> int:
        """Deliveries queued (incl. waiting for a retry) or being attempted."""
        return len(self._queue) + self._in_flight

    def clear(self) -> None:
        self._queue.clear()
        self.log.clear()
        self.completed.clear()

    def _wake_all(self) -> None:
        for wake in list(self._wakes):
            wake.set()

    def _poke(self) -> None:
        self._wake_all()
        if self._managed:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not in async code: the next running() or enqueue starts a worker
            return
        if self._lazy_task is None or self._lazy_task.done():
            self._lazy_task = loop.create_task(self._work(until_idle=True), name="fub-sandbox-webhooks")

    # --- workers ----------------------------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[WebhookDispatcher]:
        """Deliver in this task group until the block exits (then in-flight attempts are cancelled)."""
        async with anyio.create_task_group() as tg:
            self._managed += 1
            tg.start_soon(self._work, False)
            try:
                yield self
            finally:
                self._managed -= 1
                tg.cancel_scope.cancel()

    async def join(self, timeout: float = 5.0) -> None:
        """Wait until nothing is queued or in flight (raises TimeoutError after `timeout`)."""
        with anyio.fail_after(timeout):
            while self.pending:
                await anyio.sleep(0.005)

    async def aclose(self) -> None:
        task, self._lazy_task = self._lazy_task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _work(self, until_idle: bool) -> None:
        async with anyio.create_task_group() as tg:
            while True:
                handed_over = until_idle and self._managed > 0  # a running() worker took over
                now = self._clock()
                if not handed_over:
                    for delivery in [d for d in self._queue if d.due <= now]:
                        self._queue.remove(delivery)
                        self._in_flight += 1
                        tg.start_soon(self._attempt, delivery)
                if until_idle and not self._in_flight and (handed_over or not self._queue):
                    return
                wake = anyio.Event()
                self._wakes.add(wake)
                wait = min((d.due for d in self._queue), default=now + 3600) - self._clock()
                if handed_over:
                    wait = 0.05
                try:
                    with anyio.move_on_after(max(wait, 0)):
                        await wake.wait()
                finally:
                    self._wakes.discard(wake)

    async def _attempt(self, delivery: Delivery) -> None:
        delivery.attempts += 1
        started = self._clock()
        if delivery.first_attempt is None:
            delivery.first_attempt = started
        record: dict[str, Any] = {
            "eventId": delivery.event_id,
            "event": delivery.event,
            "url": delivery.url,
            "attempt": delivery.attempts,
        }
        ok = False
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=DELIVERY_TIMEOUT) as client:
                response = await client.post(
                    delivery.url,
                    content=delivery.body,
                    headers={
                        "Content-Type": "application/json",
                        "FUB-Signature": delivery.signature,
                        "User-Agent": "FollowUpBoss-Webhooks (fub-mcp sandbox)",
                    },
                )
            record["status"] = response.status_code
            ok = 200 <= response.status_code < 300
        except anyio.get_cancelled_exc_class():  # shutting down: keep it queued for the next worker
            delivery.attempts -= 1
            self._queue.append(delivery)
            raise
        except Exception as exc:  # any transport failure is retried like a non-2xx answer
            record["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            self._in_flight -= 1
        delivery.history.append(record)
        self.log.append(record)
        if ok:
            self.completed.append(delivery)
        else:
            index = delivery.attempts - 1
            elapsed = self._clock() - (delivery.first_attempt or started)
            if index < len(self.retry_delays) and elapsed + self.retry_delays[index] <= MAX_RETRY_SPAN:
                delivery.due = self._clock() + self.retry_delays[index]
                self._queue.append(delivery)
            else:
                _log.warning(
                    "webhook %s to %s given up after %d attempts",
                    delivery.event,
                    delivery.url,
                    delivery.attempts,
                )
                self.completed.append(delivery)
        self._wake_all()
