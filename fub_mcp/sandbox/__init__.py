"""The embedded Follow Up Boss: an ASGI app that answers the FUB v1 API, with durable SQLite data.

    app = create_app(":memory:")                 # a freshly seeded account; app.state.sandbox is the state
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sandbox/v1",
                               auth=(SANDBOX_API_KEY, ""))

or over HTTP: `serve(port=8765)` (FUB_BASE_URL=http://127.0.0.1:8765/v1).

It is an independent model of FUB (it imports nothing from the client, schemas, tools or server), so
tests against it check fub-mcp against FUB's documented behaviour, not against itself.

Webhook deliveries run in the background: inside the app's lifespan (uvicorn, or any ASGI server
that runs lifespan) a task group holds the delivery worker and stops it on shutdown. Under
`httpx.ASGITransport`, which runs no lifespan, the first delivery lazily starts a worker task on the
running asyncio loop that exits as soon as nothing is queued; `await sandbox.join_deliveries()` waits
for it, and `async with sandbox.running():` gives an explicit, structured scope instead.

Faults for tests: `sandbox.faults.inject("status", count=2, status=503)`, `"rate_limit"` (429 with
Retry-After), `"latency"` (latency_ms), `"drop"` (no answer), `"malformed"` (200 with broken JSON),
optionally `route="POST /notes"`; or over HTTP `POST /_sandbox/faults` with the same JSON fields,
`DELETE /_sandbox/faults`, `POST /_sandbox/reset`, `GET /_sandbox/requests` (same API key auth;
also reachable under /v1/_sandbox/...). Faults and the request log apply to /v1 requests only.

Where FUB's documentation is silent (⚠️ in the reference) the sandbox picks the plausible, usually
the stricter, behaviour, so that a client that works here also works against FUB:

* 401 body `{"errorMessage": "Missing or invalid user API key"}`; a wrong X-System-Key just means
  "not registered" (lower limits; 403 on registered-only routes); /inboxApps/installedApps -> 404.
* Rate limits count per API key and context; 401s and 429s are not counted; POST.events responses
  omit X-RateLimit-Limit/-Remaining (unlimited). /_sandbox requests are never counted.
* `limit` > 100 is clamped to 100; `offset` > 2000 -> 400 (use `next`); `next` is unpadded urlsafe
  base64 of `{"sinceId": <last id>, "offset": n[, "sort", "desc", "sinceValue"]}`; `next`/`nextLink`
  are absent on the last page and on small config collections (stages, pipelines, customFields,
  smartLists); nextLink uses the request's Host.
* Writes accept only the documented fields (`stageId`, `name`, `id` on people, `pipelineId` on deals
  are refused); PUT /people refuses `source`/`sourceUrl`; emails must contain "@", phones >= 7
  digits; addresses take `code` (a `zip` key is refused); custom values are checked by type (date
  YYYY-MM-DD, number, dropdown choice); unknown custom names are invalid fields.
* People without a source get `<unspecified>`; POST /people by an agent key is assigned to that
  agent (owner: unassigned); new leads from POST /events go to the calling user (the lead flow).
* POST /events: `type` and `person` are required; the person is matched by email, or by phone plus
  first and last name (HELP's rule), only among people the key can see; an existing person gets new
  emails/phones/addresses/tags appended, missing names, price and custom fields set, but no stage,
  source or assignment change; sources in `sandbox.archived_sources` ("Archived Lead Source") -> 204.
  `property.code` must be a string.
* Default people fields: every standard field, no custom fields; `allFields` adds all custom fields
  (null when unset), `allCustom` = id + custom fields, unknown names in `fields` are ignored.
* `stage=Trash` shows Trash without `includeTrash`; an unknown stage name matches nobody; an unknown
  smartListId -> 400. `lastActivity` = latest event, note, call, text or inbox message (not `updated`).
* Tasks: `AssignedTo` (capital A, as FUB's example); `name` required; due=today|overdue|upcoming by
  the due date in America/Chicago (overdue/upcoming: open tasks only).
* DELETE answers 204; deals are soft-deleted (status Deleted); people are removed.
* Webhooks: the two-per-event limit counts Active and Disabled hooks of the system; http:// is
  allowed to loopback hosts (a deliberate deviation); one eventId per change, shared by its hooks.
* Inbox Apps: a reinstall (same publishedInboxAppId + userId) reactivates the same id (200); note and
  conversation bodies (`body`, `subject`, `isRead`, ...) are guesses; messages link to a person by
  `person.id`, or emails/phones of `person` (and of `sender` when incoming).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import httpx
from starlette.applications import Starlette

from fub_mcp.sandbox.app import Sandbox, build_app
from fub_mcp.sandbox.constants import (
    SANDBOX_AGENT_API_KEY,
    SANDBOX_API_KEY,
    SANDBOX_SYSTEM,
    SANDBOX_SYSTEM_KEY,
    RateLimits,
)
from fub_mcp.sandbox.faults import FAULT_KINDS, Fault, FaultInjector
from fub_mcp.sandbox.webhooks import sign as sign_webhook

__all__ = [
    "FAULT_KINDS",
    "SANDBOX_AGENT_API_KEY",
    "SANDBOX_API_KEY",
    "SANDBOX_SYSTEM",
    "SANDBOX_SYSTEM_KEY",
    "Fault",
    "FaultInjector",
    "RateLimits",
    "Sandbox",
    "create_app",
    "default_db_path",
    "reset_database",
    "serve",
    "sign_webhook",
]

_log = logging.getLogger("fub_mcp.sandbox")


def create_app(
    db_path: str = ":memory:",
    *,
    rate_limits: RateLimits | None = None,
    seed: bool = True,
    now: Callable[[], datetime] | None = None,
    outbound_transport: httpx.AsyncBaseTransport | None = None,
    webhook_retry_delays: Sequence[float] = (1, 5, 30, 120, 600),
    base_url: str = "http://127.0.0.1:8765/v1",
) -> Starlette:
    """The sandbox as an ASGI app (`app.state.sandbox` is its `Sandbox`).

    `db_path`: a SQLite file (created and seeded when new; its data survives restarts) or ":memory:".
    `now`: the clock for timestamps, task due dates and the rate-limit window (tests pass a fake one).
    `outbound_transport`: where webhook deliveries and the Inbox App install test POST go (tests route
    them to an in-process ASGI app); None = the network. `base_url`: used in webhook `uri`s and
    `nextLink`s.
    """
    if str(db_path) != ":memory:" and not str(db_path).startswith("file:"):
        Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    sandbox = Sandbox(
        str(db_path),
        rate_limits=rate_limits,
        seed=seed,
        now=now,
        outbound_transport=outbound_transport,
        webhook_retry_delays=webhook_retry_delays,
        base_url=base_url,
    )
    return build_app(sandbox)


def default_db_path() -> Path:
    """`<user data dir>/fub-mcp/sandbox.sqlite3` (platformdirs)."""
    from platformdirs import user_data_path

    return user_data_path("fub-mcp", appauthor=False) / "sandbox.sqlite3"


def reset_database(path: str | Path | None = None) -> None:
    """Restore the seed in the database file at `path` (default: `default_db_path()`)."""
    target = Path(path) if path is not None else default_db_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    sandbox = Sandbox(str(target), seed=False)
    try:
        sandbox.reset()
    finally:
        sandbox.close()


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    db_path: str | Path | None = None,
    rate_limits: RateLimits | None = None,
) -> None:
    """Serve the sandbox over HTTP with uvicorn until interrupted (logs go to stderr, never stdout)."""
    import uvicorn

    path = Path(db_path) if db_path is not None else default_db_path()
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    app = create_app(str(path), rate_limits=rate_limits, base_url=f"http://{shown}:{port}/v1")
    _log.info("FUB sandbox on http://%s:%d/v1 (data: %s)", shown, port, path)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        http="h11",
        ws="none",
        proxy_headers=False,
        log_config=_stderr_logging(),
    )
    uvicorn.Server(config).run()


def _stderr_logging() -> dict[str, object]:
    """uvicorn's logging config with the access log on stderr too (stdout is reserved for MCP stdio)."""
    from uvicorn.config import LOGGING_CONFIG

    config = {
        **LOGGING_CONFIG,
        "handlers": {name: dict(handler) for name, handler in LOGGING_CONFIG["handlers"].items()},
    }
    for handler in config["handlers"].values():  # type: ignore[union-attr]
        handler["stream"] = "ext://sys.stderr"
    return config
