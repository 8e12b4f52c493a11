"""The HTTP side: `POST /webhooks/fub` and the Inbox App subscription endpoint, plus the service that
ties receiver, queue, worker and notifier together for one AppContext.

A delivery is answered within milliseconds and before any FUB call: verify the signature, check the
shape, commit it to the queue, wake the worker, answer 200. Anything unverifiable is refused and
nothing is stored: no system key configured → 503; bad or missing signature → 401; oversized → 413;
not the documented JSON shape → 400.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import platformdirs
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fub_mcp.webhooks.signature import HEADER, verify
from fub_mcp.webhooks.store import ChangeQueue, Inbound, SQLiteChangeQueue
from fub_mcp.webhooks.worker import ChangeNotifier, WebhookWorker, now_iso

if TYPE_CHECKING:
    from fub_mcp.tools._base import AppContext

__all__ = [
    "INBOX_PATH",
    "MAX_DELIVERY_BYTES",
    "WEBHOOK_PATH",
    "WebhookService",
    "http_integration",
    "webhook_service",
]

_log = logging.getLogger("fub_mcp.webhooks")

WEBHOOK_PATH = "/webhooks/fub"
INBOX_PATH = "/inbox-app/subscription"
MAX_DELIVERY_BYTES = 256 * 1024  # FUB's payloads carry ids only; a few KiB at most
_EVENT = re.compile(r"^[A-Za-z]{3,60}$")


NO_KEY = "FUB_SYSTEM_KEY is not set: fub-mcp cannot verify FUB's signature, so it stores nothing"
Lifespan = Callable[[], AbstractAsyncContextManager[Any]]


def _refuse(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _system_key(context: AppContext) -> str:
    key = context.settings.system_key
    return key.get_secret_value() if key is not None else ""


async def _refuse_unverifiable(request: Request) -> JSONResponse:
    return _refuse(503, NO_KEY)


def _queue_path(context: AppContext) -> Path:
    """One queue file per FUB API key (named by its hash), in FUB_MCP_DATA_DIR or the user data dir."""
    folder = context.settings.data_dir or Path(platformdirs.user_data_dir("fub-mcp", appauthor=False))
    return Path(folder) / f"webhooks-{context.client.key_id}.sqlite3"


class WebhookService:
    """Receiver routes, the durable queue, the worker and the notifier of one AppContext."""

    def __init__(self, context: AppContext, queue: ChangeQueue | None = None) -> None:
        self.context = context
        self.queue = queue if queue is not None else SQLiteChangeQueue(_queue_path(context))
        self.notifier = ChangeNotifier()
        self.worker = WebhookWorker(self.queue, context.client, self.notifier)

    def routes(self) -> list[Route]:
        return [
            Route(WEBHOOK_PATH, self.receive_webhook, methods=["POST"]),
            Route(INBOX_PATH, self.receive_inbox, methods=["POST"]),
        ]

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[WebhookService]:
        """Run the worker in the background (resuming whatever a previous process left)."""
        async with anyio.create_task_group() as tg:
            tg.start_soon(self.worker.run)
            try:
                yield self
            finally:
                tg.cancel_scope.cancel()

    async def _verified_body(self, request: Request) -> bytes | JSONResponse:
        key = _system_key(self.context)
        if not key:
            return _refuse(503, NO_KEY)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_DELIVERY_BYTES:
            return _refuse(413, f"delivery larger than {MAX_DELIVERY_BYTES} bytes")
        body = await request.body()
        if len(body) > MAX_DELIVERY_BYTES:
            return _refuse(413, f"delivery larger than {MAX_DELIVERY_BYTES} bytes")
        if not verify(key, body, request.headers.get(HEADER)):
            return _refuse(401, f"missing or invalid {HEADER} signature")
        return body

    async def receive_webhook(self, request: Request) -> JSONResponse:
        body = await self._verified_body(request)
        if isinstance(body, JSONResponse):
            return body
        payload = _json_object(body)
        problem = _webhook_problem(payload)
        if problem:
            return _refuse(400, problem)
        assert payload is not None
        inbound = Inbound(payload["eventId"], payload["event"], payload, now_iso(), "webhook")
        return await self._accept(inbound)

    async def receive_inbox(self, request: Request) -> JSONResponse:
        body = await request.body()
        if len(body) <= 64 and _json_object(body) == {"test": 1}:
            return JSONResponse({"ok": True})  # FUB's synchronous install check: answer now, store nothing
        verified = await self._verified_body(request)
        if isinstance(verified, JSONResponse):
            return verified
        payload = _json_object(verified)
        if payload is None:
            return _refuse(400, "expected a JSON object")
        event_id = payload.get("eventId") or payload.get("id") or hashlib.sha256(verified).hexdigest()
        event_id = str(event_id)[:100]
        event = str(payload.get("event") or payload.get("type") or "inboxAppEvent")[:60]
        return await self._accept(Inbound(event_id, event, payload, now_iso(), "inbox"))

    async def _accept(self, inbound: Inbound) -> JSONResponse:
        stored = await self.queue.enqueue(inbound)
        if stored:
            self.worker.wake()
        return JSONResponse({"ok": True, "duplicate": not stored})


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _webhook_problem(payload: dict[str, Any] | None) -> str | None:
    """Why a body is not a FUB webhook delivery ({eventId, eventCreated, event, resourceIds, uri})."""
    if payload is None:
        return "expected a JSON object"
    event_id, event, ids = payload.get("eventId"), payload.get("event"), payload.get("resourceIds")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 100:
        return "eventId must be a non-empty string"
    if not isinstance(event, str) or not _EVENT.match(event):
        return "event must be a FUB event name such as peopleCreated"
    if not isinstance(ids, list) or len(ids) > 10_000 or not all(isinstance(i, int) for i in ids):
        return "resourceIds must be a list of integer ids"
    if not isinstance(payload.get("uri", ""), str):
        return "uri must be a string"
    return None


def webhook_service(context: AppContext) -> WebhookService:
    """The context's webhook service, created on first use (one per AppContext, never a module global)."""
    service = context.extras.get("webhooks")
    if service is None:
        service = context.extras["webhooks"] = WebhookService(context)
    return service


def http_integration(context: AppContext) -> tuple[list[Route], list[Lifespan]]:
    """What `serve --transport http` mounts: the two receivers and the worker's lifespan. Without
    FUB_SYSTEM_KEY nothing can be verified: both paths then answer 503 with the reason, and no queue
    is opened."""
    if not _system_key(context):
        paths = (WEBHOOK_PATH, INBOX_PATH)
        return [Route(path, _refuse_unverifiable, methods=["POST"]) for path in paths], []
    service = webhook_service(context)
    return service.routes(), [service.running]
