"""The background worker: drains the webhook queue through the shared FUB client, one delivery at a time.

For each delivery it fetches the changed resources (FUB's payload carries ids only), turns them into
compact `Change` records, stores them with the delivery marked done (exactly once, see the store),
and tells the `ChangeNotifier`, which reaches subscribed MCP sessions. A failure is retried with
backoff (min(2^attempts, 300) s, about 4 hours over `MAX_ATTEMPTS`), then kept as `failed` with its
error; a resource FUB no longer has (404) is recorded as gone.

Only paths under the configured FUB base URL are ever fetched: a payload's `uri` pointing anywhere
else is ignored and the path is rebuilt from the event name, so a forged delivery can't make the
server send its FUB credentials elsewhere (the signature already rules that out: belt and braces).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import anyio

from fub_mcp.fub.client import FUBClient
from fub_mcp.fub.errors import FUBError, NotFoundError
from fub_mcp.fub.pagination import Page
from fub_mcp.insights.clock import parse_when, to_utc_iso
from fub_mcp.schemas.common import clean_text
from fub_mcp.webhooks.store import Change, ChangeQueue, Claimed

__all__ = ["ChangeNotifier", "WebhookWorker", "resource_of"]

_log = logging.getLogger("fub_mcp.webhooks")

MAX_RETRY_DELAY = 300.0
MAX_ATTEMPTS = 54  # 2 + 4 + ... + 256 s, then every 5 min: about 4 hours (FUB itself retries for 8)
LEASE_SECONDS = 120.0
IDLE_POLL = 5.0
_ACTIONS = ("Created", "Updated", "Deleted", "TagsCreated", "StageUpdated", "RelationshipCreated",
            "RelationshipUpdated", "RelationshipDeleted", "Opened", "Clicked", "Unsubscribed")
# event prefix -> API collection (FUB's event names don't all match the paths)
_COLLECTIONS = {"stage": "stages", "pipeline": "pipelines", "pipelineStage": "stages"}  # others: the prefix

Listener = Callable[[list[Change]], Awaitable[None]]


def resource_of(event: str) -> tuple[str, str]:
    """(collection, action) of a FUB event name: `peopleStageUpdated` -> ("people", "StageUpdated")."""
    for action in sorted(_ACTIONS, key=len, reverse=True):
        if event.endswith(action) and event[: -len(action)]:
            prefix = event[: -len(action)]
            return _COLLECTIONS.get(prefix, prefix), action
    return event, ""


class ChangeNotifier:
    """Fan-out of new changes to whoever listens (each MCP server built over this context)."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def publish(self, changes: list[Change]) -> None:
        for listener in list(self._listeners):
            try:
                await listener(changes)
            except Exception:  # a broken session must not stop the worker
                _log.warning("a change listener failed", exc_info=True)


def _summary(resource: str, record: dict[str, Any]) -> str:
    """A few structured facts about a record: names, stage, type. Never free text someone typed."""
    parts: list[Any]
    if resource == "people":
        parts = [record.get("name"), record.get("stage"),
                 record.get("source") and f"source {record['source']}",
                 record.get("assignedTo") and f"agent {record['assignedTo']}"]
    elif resource == "deals":
        parts = [record.get("name"), record.get("stageName") or record.get("stage"), record.get("price")]
    elif resource in ("calls", "textMessages"):
        direction = "incoming" if record.get("isIncoming") else "outgoing"
        parts = [direction, "call" if resource == "calls" else "text", record.get("userName")]
    elif resource == "events":
        parts = [record.get("type"), record.get("source") and f"from {record['source']}"]
    else:
        parts = [record.get("type"), record.get("name") or record.get("title"), record.get("status")]
    text = " · ".join(str(p) for p in parts if p not in (None, ""))
    return clean_text(text, limit=200) or resource


def _person_of(resource: str, record: dict[str, Any]) -> int | None:
    value = record.get("id") if resource == "people" else record.get("personId")
    return value if isinstance(value, int) else None


class WebhookWorker:
    """Drains a `ChangeQueue`; `run()` until cancelled, or `drain()` what is due (for tests and tools)."""

    def __init__(
        self,
        queue: ChangeQueue,
        client: FUBClient,
        notifier: ChangeNotifier | None = None,
        *,
        clock: Callable[[], float] = time.time,
        lease_seconds: float = LEASE_SECONDS,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.queue = queue
        self.client = client
        self.notifier = notifier or ChangeNotifier()
        self._clock = clock
        self._lease = lease_seconds
        self._max_attempts = max_attempts
        self._wake = anyio.Event()

    def wake(self) -> None:
        """New work arrived: stop idling."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                await self.drain()
                due = await self.queue.next_due()
            except Exception:  # e.g. the queue's disk is full: keep the server up, try again shortly
                _log.exception("webhook queue unavailable; retrying in %.0f s", IDLE_POLL)
                due = None
            wait = IDLE_POLL if due is None else min(IDLE_POLL, max(0.0, due - self._clock()))
            with anyio.move_on_after(wait):
                await self._wake.wait()
            self._wake = anyio.Event()

    async def drain(self, limit: int = 10_000) -> int:
        """Process every due delivery (at most `limit`); returns how many were completed."""
        done = 0
        for _ in range(limit):
            claimed = await self.queue.claim(self._clock(), self._lease)
            if claimed is None:
                break
            done += await self.process(claimed)
        return done

    async def process(self, claimed: Claimed) -> bool:
        try:
            changes = await self._changes(claimed)
        except Exception as exc:  # FUB unavailable, or a payload we did not expect: keep it, try later
            if claimed.attempts >= self._max_attempts:
                _log.error("webhook %s failed %d times; kept as failed: %s",
                           claimed.inbound.event_id, claimed.attempts, exc)
                await self.queue.fail(claimed, f"{type(exc).__name__}: {exc}")
                return False
            delay = min(2.0 ** claimed.attempts, MAX_RETRY_DELAY)
            _log.warning("webhook %s failed (attempt %d), retrying in %.0f s: %s",
                         claimed.inbound.event_id, claimed.attempts, delay, exc,
                         exc_info=not isinstance(exc, FUBError))
            await self.queue.retry_later(claimed, str(exc), self._clock() + delay)
            return False
        if not await self.queue.complete(claimed, changes):
            return False  # our lease expired and someone else took it over
        await self.notifier.publish(changes)
        return True

    async def _changes(self, claimed: Claimed) -> list[Change]:
        inbound, payload = claimed.inbound, claimed.inbound.payload
        moment = parse_when(payload.get("eventCreated")) or parse_when(inbound.received_at)
        at = to_utc_iso(moment) if moment else inbound.received_at
        if inbound.source == "inbox":
            return [_inbox_change(inbound.event, payload, at)]
        resource, action = resource_of(inbound.event)
        ids = [i for i in payload.get("resourceIds") or [] if isinstance(i, int)]
        if action.endswith("Deleted") and action != "RelationshipDeleted":
            return [Change(inbound.event, resource, i, i if resource == "people" else None, "deleted", at)
                    for i in ids]
        records = await self._fetch(resource, ids, str(payload.get("uri") or ""))
        changes = []
        for rid in ids:
            record = records.get(rid)
            summary = _summary(resource, record) if record else "no longer available in FUB"
            if inbound.event == "peopleStageUpdated" and isinstance(payload.get("data"), dict):
                summary = f"stage → {clean_text(str(payload['data'].get('stage')), limit=60)}; {summary}"
            person = _person_of(resource, record) if record else (rid if resource == "people" else None)
            changes.append(Change(inbound.event, resource, rid, person, summary, at))
        return changes

    async def _fetch(self, resource: str, ids: list[int], uri: str) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        path, params = self._path(resource, ids, uri)
        if resource == "people":
            params["fields"] = "allFields"
        params.setdefault("limit", min(100, max(len(ids), 1)))
        try:
            data = await self.client.get(path, params)
        except NotFoundError:
            return {}
        items = Page.from_data(data).items if isinstance(data, dict) and "_metadata" in data else [data]
        return {r["id"]: r for r in items if isinstance(r, dict) and isinstance(r.get("id"), int)}

    def _path(self, resource: str, ids: list[int], uri: str) -> tuple[str, dict[str, Any]]:
        base = self.client.base_url.rstrip("/")
        if uri.startswith(base + "/"):
            parts = urlsplit(uri)
            path = parts.path[len(urlsplit(base).path):] or "/"
            return path, dict(parse_qsl(parts.query))
        return f"/{resource}", {"id": ",".join(map(str, ids))}


def _inbox_change(event: str, payload: dict[str, Any], at: str) -> Change:
    person = payload.get("personId")
    if not isinstance(person, int) and isinstance(payload.get("person"), dict):
        person = payload["person"].get("id")
    conversation = payload.get("externalConversationId") or payload.get("conversationId")
    facts = [event, conversation and f"conversation {conversation}"]
    return Change(event, "inboxApp", None, person if isinstance(person, int) else None,
                  clean_text(" · ".join(str(f) for f in facts if f), limit=200) or event, at)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
