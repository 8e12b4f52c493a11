"""The sandbox's state (`Sandbox`) and its ASGI front door: request log, faults, auth, rate limits,
then Starlette routing to the FUB resources under /v1 and the sandbox-only controls under /_sandbox."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import anyio
import httpx
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Match, Route

from fub_mcp.sandbox._util import FUBError, bad_request, fmt_ts, norm_email, norm_phone
from fub_mcp.sandbox.api_account import ACCOUNT_ROUTES
from fub_mcp.sandbox.api_activity import ACTIVITY_ROUTES
from fub_mcp.sandbox.api_integrations import INTEGRATION_ROUTES
from fub_mcp.sandbox.api_people import PEOPLE_ROUTES
from fub_mcp.sandbox.constants import (
    AGENT_USER_ID,
    OWNER_USER_ID,
    SANDBOX_AGENT_API_KEY,
    SANDBOX_API_KEY,
    SANDBOX_SYSTEM,
    SANDBOX_SYSTEM_KEY,
    RateLimits,
)
from fub_mcp.sandbox.db import Database
from fub_mcp.sandbox.faults import Fault, FaultInjector
from fub_mcp.sandbox.http import Req, endpoint, error_response, json_response, no_content
from fub_mcp.sandbox.ratelimit import RateDecision, SlidingWindowLimiter, context_for
from fub_mcp.sandbox.seed import build_seed
from fub_mcp.sandbox.webhooks import KeepOpenTransport, WebhookDispatcher

__all__ = ["Sandbox", "SandboxApp", "build_app"]

_log = logging.getLogger("fub_mcp.sandbox")

API_KEYS = {SANDBOX_API_KEY: OWNER_USER_ID, SANDBOX_AGENT_API_KEY: AGENT_USER_ID}
SYSTEM_KEYS = {SANDBOX_SYSTEM: SANDBOX_SYSTEM_KEY}
MAX_LOGGED_REQUESTS = 10_000
ARCHIVED_SOURCES = ("Archived Lead Source",)  # lead flows that are archived: POST /events answers 204
SEED_VERSION = "1"

# The URI of a webhook event's resources, by event-name prefix.
_EVENT_RESOURCES = (
    ("peopleRelationship", "peopleRelationships"),
    ("people", "people"),
    ("notes", "notes"),
    ("tasks", "tasks"),
    ("appointments", "appointments"),
    ("textMessages", "textMessages"),
    ("calls", "calls"),
    ("deals", "deals"),
    ("emails", "emails"),
    ("events", "events"),
    ("emEvents", "emEvents"),
    ("pipelineStage", "pipelines"),
    ("pipeline", "pipelines"),
    ("stage", "stages"),
    ("customFields", "customFields"),
    ("dealCustomFields", "dealCustomFields"),
)

_seed_cache_lock = threading.Lock()
_seed_cache: tuple[str, Database] | None = None  # a seeded in-memory template, per seeding minute


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _insert_seed(db: Database, seeded_at: datetime) -> None:
    rows = build_seed(seeded_at)
    with db.write():
        for table, docs in rows.items():
            db.insert_many(table, docs)
        keys: list[tuple[int, str, str]] = []
        for person in rows["people"]:
            pid = person["id"]
            keys += [(pid, "email", norm_email(e["value"])) for e in person["emails"]]
            keys += [(pid, "phone", norm_phone(p["value"])) for p in person["phones"]]
            keys += [(pid, "tag", t.lower()) for t in person["tags"]]
        db.conn.executemany("INSERT INTO person_keys (person_id, kind, value) VALUES (?, ?, ?)", keys)
        db.set_meta("seeded_at", fmt_ts(seeded_at))
        db.set_meta("seed_version", SEED_VERSION)


def seed_database(db: Database, seeded_at: datetime) -> None:
    """Write the seed into an empty `db`. In-memory databases are copied from a template built once per
    process and seeding minute (tests create many sandboxes); files get the rows inserted."""
    global _seed_cache
    if db.path != ":memory:":
        _insert_seed(db, seeded_at)
        return
    key = fmt_ts(seeded_at)
    with _seed_cache_lock:
        if _seed_cache is None or _seed_cache[0] != key:
            template = Database(":memory:")
            _insert_seed(template, seeded_at)
            if _seed_cache is not None:
                _seed_cache[1].close()
            _seed_cache = (key, template)
        with _seed_cache[1].read() as source, db.read() as target:
            source.backup(target)


class Sandbox:
    """An emulated Follow Up Boss account: data (SQLite), rate limits, faults, webhook deliveries."""

    def __init__(
        self,
        db_path: str = ":memory:",
        *,
        rate_limits: RateLimits | None = None,
        seed: bool = True,
        now: Callable[[], datetime] | None = None,
        outbound_transport: httpx.AsyncBaseTransport | None = None,
        webhook_retry_delays: Sequence[float] = (1, 5, 30, 120, 600),
        base_url: str = "http://127.0.0.1:8765/v1",
    ) -> None:
        self.db = Database(str(db_path))
        self.rate_limits = rate_limits or RateLimits()
        self.limiter = SlidingWindowLimiter(self.rate_limits)
        self.faults = FaultInjector()
        self.dispatcher = WebhookDispatcher(transport=outbound_transport, retry_delays=webhook_retry_delays)
        self.outbound_transport = outbound_transport
        self.base_url = base_url.rstrip("/")
        self.requests: list[dict[str, Any]] = []
        self.archived_sources: set[str] = set(ARCHIVED_SOURCES)
        self._now = now or _utcnow
        if seed and not self.db.meta("seeded_at"):
            self._seed()

    # --- time, data ---------------------------------------------------------------------------------

    def now(self) -> datetime:
        value = self._now()
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @property
    def seeded_at(self) -> str | None:
        return self.db.meta("seeded_at")

    def _seed(self) -> None:
        seed_database(self.db, self.now().replace(second=0, microsecond=0))

    def reset(self) -> None:
        """Restore the deterministic seed (seeded now), and clear faults, rate windows, the request log
        and queued webhook deliveries."""
        self.db.wipe()
        self._seed()
        self.faults.clear()
        self.limiter.reset()
        self.requests.clear()
        self.dispatcher.clear()

    def close(self) -> None:
        self.db.close()

    def user(self, user_id: int) -> dict[str, Any] | None:
        return self.db.get("users", user_id)

    # --- webhooks -----------------------------------------------------------------------------------

    def outbound(self) -> httpx.AsyncBaseTransport | None:
        """The transport for the sandbox's own outbound calls (None: real network)."""
        return KeepOpenTransport(self.outbound_transport) if self.outbound_transport is not None else None

    def emit(self, event: str, resource_ids: Sequence[int], data: dict[str, Any] | None = None) -> None:
        """Queue a delivery to every active webhook registered for `event`."""
        hooks = self.db.select(
            "webhooks", "event = ? AND json_extract(data, '$.status') = 'Active'", (event,)
        )
        if not hooks:
            return
        resource = next((path for prefix, path in _EVENT_RESOURCES if event.startswith(prefix)), "people")
        ids = [int(i) for i in resource_ids]
        payload: dict[str, Any] = {
            "eventId": WebhookDispatcher.new_event_id(),
            "eventCreated": self.now().astimezone(UTC).replace(microsecond=0).isoformat(),
            "event": event,
            "resourceIds": ids,
            "uri": f"{self.base_url}/{resource}?id={','.join(map(str, ids))}",
        }
        if data is not None:
            payload["data"] = data
        for hook in hooks:
            key = SYSTEM_KEYS.get(hook.get("system") or "")
            if key is None:
                continue
            self.dispatcher.enqueue(webhook_id=hook["id"], url=hook["url"], system_key=key, payload=payload)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Sandbox]:
        """Run webhook deliveries in a task group for the duration of the block (the app's lifespan
        uses this; without it, deliveries start lazily on the running loop)."""
        async with self.dispatcher.running():
            yield self

    async def join_deliveries(self, timeout: float = 5.0) -> None:
        """Wait until every queued webhook delivery (and retry) is done."""
        await self.dispatcher.join(timeout)

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        """Every delivery attempt so far: eventId, event, url, attempt, status or error."""
        return self.dispatcher.log

    # --- the front door -----------------------------------------------------------------------------

    async def handle(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
        app: Callable[..., Awaitable[None]],
    ) -> None:
        method = scope["method"].upper()
        path = scope["path"]
        admin = path.startswith(("/_sandbox", "/v1/_sandbox"))
        api = not admin and (path == "/v1" or path.startswith("/v1/"))
        bare = (path[3:] or "/") if api else path
        body = await _read_body(receive)
        replay = _replay(body, receive)
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        entry: dict[str, Any] | None = None
        if api:
            try:
                parsed = json.loads(body) if body.strip() else None
            except ValueError:
                parsed = None
            entry = {
                "method": method,
                "path": path,
                "query": query,
                "json": parsed,
                "time": fmt_ts(self.now()),
                "status": None,
            }
            self.requests.append(entry)
            if len(self.requests) > MAX_LOGGED_REQUESTS:
                del self.requests[: len(self.requests) - MAX_LOGGED_REQUESTS]
        key = _basic_key(headers.get("authorization"))
        system = headers.get("x-system") or None
        registered = bool(system) and SYSTEM_KEYS.get(system or "") == headers.get("x-system-key")
        context = context_for(method, bare) if api else "global"
        stamp = self.now().timestamp()

        fault = self.faults.take(method, bare) if api else None
        if fault is not None:
            if fault.kind == "latency":
                await anyio.sleep((fault.latency_ms or 0) / 1000)
            elif not fault.process or fault.kind == "rate_limit":
                await self._fail(fault, send, self.limiter.peek(key or "", context, registered, stamp), entry)
                return

        user_id = API_KEYS.get(key or "")
        user = self.user(user_id) if user_id is not None else None
        if user is None or not user_id:
            decision = self.limiter.peek(key or "", context, registered, stamp)
            await self._send(
                send,
                error_response(
                    FUBError(
                        401,
                        "Missing or invalid user API key",
                        {"WWW-Authenticate": 'Basic realm="Follow Up Boss"'},
                    )
                ),
                decision,
                entry,
            )
            return
        decision = (
            self.limiter.hit(key or "", context, registered, stamp)
            if api
            else self.limiter.peek(key or "", context, registered, stamp)
        )
        if not decision.allowed:
            await self._send(
                send,
                json_response(
                    {
                        "errorMessage": (
                            f"Too many requests: the {context} rate limit is {decision.limit} requests per "
                            f"{decision.window:g} seconds. Retry after {decision.retry_after} seconds."
                        )
                    },
                    429,
                ),
                decision,
                entry,
            )
            return

        scope["fub.ctx"] = {
            "sandbox": self,
            "method": method,
            "path": bare if api else path,
            "query": query,
            "raw_body": body,
            "user": user,
            "api_key": key or "",
            "registered": registered,
            "system": system,
        }
        if fault is not None and fault.kind != "latency":  # the work is done, then the answer is lost
            captured: list[dict[str, Any]] = []

            async def swallow(message: dict[str, Any]) -> None:
                captured.append(message)

            await app(scope, replay, swallow)
            if fault.kind == "malformed":
                original = b"".join(m.get("body", b"") for m in captured if m["type"] == "http.response.body")
                broken = (
                    original[: max(1, len(original) // 2)] if len(original) > 2 else b'{"_metadata": {"coll'
                )
                await self._send(send, Response(broken, 200, media_type="application/json"), decision, entry)
            else:
                await self._fail(fault, send, decision, entry)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), *_encode(decision.headers())]
                if entry is not None:
                    entry["status"] = message["status"]
            await send(message)

        await app(scope, replay, send_with_headers)

    async def _send(
        self, send: Any, response: Response, decision: RateDecision, entry: dict[str, Any] | None
    ) -> None:
        response.headers.update(decision.headers())
        if entry is not None:
            entry["status"] = response.status_code

        async def receive() -> dict[str, Any]:  # responses never read the body
            return {"type": "http.disconnect"}

        await response({"type": "http"}, receive, send)

    async def _fail(
        self, fault: Fault, send: Any, decision: RateDecision, entry: dict[str, Any] | None
    ) -> None:
        if fault.kind == "drop":
            if entry is not None:
                entry["status"] = "dropped"
            await _drop_connection(send)
            return
        if fault.kind == "rate_limit":
            limited = RateDecision(
                False, decision.context, decision.limit, 0, decision.window, int(fault.retry_after or 0)
            )
            await self._send(
                send,
                json_response({"errorMessage": "Too many requests (sandbox fault)"}, 429),
                limited,
                entry,
            )
            return
        status = int(fault.status or 503)
        reasons = {
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            504: "Gateway Timeout",
        }
        await self._send(
            send,
            json_response({"errorMessage": f"{reasons.get(status, 'Error')} (sandbox fault)"}, status),
            decision,
            entry,
        )


async def _read_body(receive: Callable[[], Awaitable[dict[str, Any]]]) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(
    body: bytes, receive: Callable[[], Awaitable[dict[str, Any]]]
) -> Callable[[], Awaitable[dict[str, Any]]]:
    done = False

    async def replay() -> dict[str, Any]:
        nonlocal done
        if not done:
            done = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _basic_key(header: str | None) -> str | None:
    """The API key from `Authorization: Basic base64(key:anything)`."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0] or None


def _encode(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


async def _drop_connection(send: Any) -> None:
    """Close the connection without answering. Under uvicorn the ASGI `send` is a bound method of the
    request cycle, which holds the socket's transport: closing it makes the client see "Server
    disconnected without sending a response". Anywhere else (httpx.ASGITransport) raise what httpx
    raises in that case."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None and hasattr(transport, "close"):
        transport.close()
        for _ in range(200):  # let uvicorn notice, so it does not try to answer 500
            if getattr(cycle, "disconnected", True):
                break
            await anyio.sleep(0.001)
        return
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.")


# --- /_sandbox control routes ---------------------------------------------------------------------


async def admin_add_fault(req: Req) -> Response:
    body = req.body()
    allowed = {"kind", "count", "status", "retry_after", "latency_ms", "route", "process"}
    unknown = [k for k in body if k not in allowed]
    if unknown:
        raise bad_request("Invalid fields in the request body: " + ", ".join(unknown))
    try:
        fault = req.sandbox.faults.inject(**body)
    except (TypeError, ValueError) as exc:
        raise bad_request(str(exc)) from None
    return json_response(
        {"fault": fault.to_json(), "faults": [f.to_json() for f in req.sandbox.faults.pending]}, 201
    )


async def admin_list_faults(req: Req) -> Response:
    return json_response({"faults": [f.to_json() for f in req.sandbox.faults.pending]})


async def admin_clear_faults(req: Req) -> Response:
    req.sandbox.faults.clear()
    return no_content()


async def admin_reset(req: Req) -> Response:
    req.sandbox.reset()
    return json_response({"reset": True, "seededAt": req.sandbox.seeded_at})


async def admin_requests(req: Req) -> Response:
    log = req.sandbox.requests
    method, prefix = req.q("method"), req.q("path")
    items = [
        r
        for r in log
        if (not method or r["method"] == method.upper())
        and (not prefix or r["path"].startswith(prefix) or r["path"][3:].startswith(prefix))
    ]
    return json_response({"requests": items})


async def admin_clear_requests(req: Req) -> Response:
    req.sandbox.requests.clear()
    return no_content()


async def admin_deliveries(req: Req) -> Response:
    return json_response({"deliveries": req.sandbox.deliveries, "pending": req.sandbox.dispatcher.pending})


ADMIN_ROUTES = [
    ("/faults", "POST", admin_add_fault),
    ("/faults", "GET", admin_list_faults),
    ("/faults", "DELETE", admin_clear_faults),
    ("/reset", "POST", admin_reset),
    ("/requests", "GET", admin_requests),
    ("/requests", "DELETE", admin_clear_requests),
    ("/deliveries", "GET", admin_deliveries),
]


# --- the app ----------------------------------------------------------------------------------------


class SandboxApp(Starlette):
    """Starlette, with the sandbox's front door (log, faults, auth, rate limit) before routing."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope["app"] = self

            async def route(s: Any, r: Any, se: Any) -> None:
                await Starlette.__call__(self, s, r, se)

            await self.state.sandbox.handle(scope, receive, send, route)
        else:
            await Starlette.__call__(self, scope, receive, send)


def build_app(sandbox: Sandbox) -> SandboxApp:
    routes: list[Route] = []
    for prefix, table in (
        ("/v1", PEOPLE_ROUTES + ACTIVITY_ROUTES + ACCOUNT_ROUTES + INTEGRATION_ROUTES),
        ("/_sandbox", ADMIN_ROUTES),
        ("/v1/_sandbox", ADMIN_ROUTES),
    ):
        for path, method, handler in table:
            routes.append(Route(prefix + path, endpoint(handler), methods=[method]))
    api_routes = list(routes)

    async def unknown(req: Req) -> Response:
        for route in api_routes:
            match, _ = route.matches(dict(req.scope))
            if match == Match.PARTIAL:
                raise FUBError(405, f"Method {req.method} is not allowed for {req.path}")
        name = req.path.strip("/").split("/")[0] if req.path.startswith("/") else ""
        if name and any(r.path.startswith(f"/v1/{name}") for r in api_routes):
            raise FUBError(
                404,
                "This resource does not exist, it may have been deleted or it may have never existed at all",
            )
        raise FUBError(404, f"Collection name '{name}' in the URL is not valid")

    every = ["GET", "POST", "PUT", "DELETE", "PATCH"]
    routes += [
        Route("/v1", endpoint(unknown), methods=every),
        Route("/v1/{rest:path}", endpoint(unknown), methods=every),
        Route("/{rest:path}", endpoint(unknown), methods=every),
    ]

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with sandbox.running():
            yield

    app = SandboxApp(routes=routes, lifespan=lifespan)
    app.state.sandbox = sandbox
    return app
