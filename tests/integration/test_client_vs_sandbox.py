"""The real FUB client against the sandbox over a real loopback port: pagination, 429 storms, 5xx bursts,
writes that must not be duplicated, data that survives a restart, and no key ever written anywhere."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from fub_mcp.config import Settings
from fub_mcp.fub.client import FUBClient
from fub_mcp.fub.errors import APIError
from fub_mcp.sandbox import SANDBOX_API_KEY, SANDBOX_SYSTEM, SANDBOX_SYSTEM_KEY, RateLimits, create_app
from tests.sandbox.test_real_http import bound_socket, served

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def sandbox(db: Path, limits: RateLimits | None = None) -> AsyncIterator[tuple[str, Any]]:
    """The sandbox on a free 127.0.0.1 port, data in `db`; yields (base URL incl. /v1, its Sandbox)."""
    sock = bound_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    app = create_app(str(db), rate_limits=limits, base_url=base)
    try:
        with anyio.fail_after(60):
            async with served(app, sock):
                yield base, app.state.sandbox
    finally:
        app.state.sandbox.close()


def client_for(base: str, audit: Path, **settings: Any) -> FUBClient:
    values: dict[str, Any] = {"api_key": SANDBOX_API_KEY, "base_url": base, "system": SANDBOX_SYSTEM,
                              "system_key": SANDBOX_SYSTEM_KEY, "max_backoff": 0.2, "call_deadline": 30,
                              "audit_log": str(audit), **settings}
    return FUBClient.from_settings(Settings(**values))


def seen(state: Any, method: str, path: str) -> list[dict[str, Any]]:
    return [r for r in state.requests if r["method"] == method and r["path"] == path]


async def test_paging_to_the_end_of_every_person_follows_next_cursors(tmp_path: Path) -> None:
    async with sandbox(tmp_path / "fub.sqlite3") as (base, state):
        async with client_for(base, tmp_path / "audit.log") as client:
            total = (await client.get_page("/people", {"limit": 1})).total
            ids = [p["id"] async for p in client.paginate("/people", {}, max_items=10_000)]
    assert total and total >= 250 and len(ids) == total and len(set(ids)) == total
    offsets = [int(r["query"].get("offset", 0)) for r in seen(state, "GET", "/v1/people")]
    assert max(offsets) <= 100  # deep pages went by `next` cursor, never by a big offset


async def test_a_429_storm_and_a_tight_limit_are_absorbed(tmp_path: Path) -> None:
    limits = RateLimits(global_limit_registered=20, window_seconds=1.0)
    async with sandbox(tmp_path / "fub.sqlite3", limits) as (base, state):
        async with client_for(base, tmp_path / "audit.log") as client:
            state.faults.inject("rate_limit", count=3, retry_after=1, route="GET /me")
            assert (await client.get("/me"))["id"]
            results: list[Any] = []

            async def one(n: int) -> None:
                results.append(await client.get(f"/people/{n % 50 + 1}"))

            with anyio.fail_after(30):
                async with anyio.create_task_group() as tg:
                    for n in range(100):
                        tg.start_soon(one, n)
            stats = client.stats
    assert len(results) == 100 and all(r["id"] for r in results)  # no 429 reached the caller
    # The injected storm was answered 429 three times; the limiter kept the rest under the budget.
    assert stats.rate_limited_responses >= 3
    assert stats.rate_limited_responses - 3 <= 20, stats


async def test_a_503_burst_is_absorbed_by_the_backoff(tmp_path: Path) -> None:
    async with sandbox(tmp_path / "fub.sqlite3") as (base, state):
        async with client_for(base, tmp_path / "audit.log") as client:
            state.faults.inject("status", count=3, status=503, route="GET /me")
            me = await client.get("/me")
            stats = client.stats
    assert me["id"] and stats.server_errors == 3 and stats.retries == 3
    assert len(seen(state, "GET", "/v1/me")) == 4


async def test_a_note_is_never_posted_twice_but_a_lead_is_retried_without_a_duplicate(tmp_path: Path) -> None:
    async with sandbox(tmp_path / "fub.sqlite3") as (base, state):
        async with client_for(base, tmp_path / "audit.log") as client:
            state.faults.inject("status", status=500, route="POST /notes", process=True)
            with pytest.raises(APIError) as caught:
                await client.post("/notes", {"personId": 1, "body": "exactly once"})
            assert "may have" in str(caught.value)
            notes = (await client.get("/notes", {"personId": 1, "limit": 100}))["notes"]

            state.faults.inject("status", status=503, route="POST /events", process=True)
            lead = {"source": "Test", "type": "Registration",
                    "person": {"firstName": "Once", "lastName": "Only", "emails": [{"value": "once@example.org"}]}}
            await client.post("/events", lead)
            people = (await client.get("/people", {"email": "once@example.org"}))["people"]
    assert len(seen(state, "POST", "/v1/notes")) == 1
    assert [n["body"] for n in notes].count("exactly once") == 1  # FUB stored it once; we did not re-send
    assert len(seen(state, "POST", "/v1/events")) == 2 and len(people) == 1


async def test_data_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "fub.sqlite3"
    async with sandbox(db) as (base, _state), client_for(base, tmp_path / "audit.log") as client:
        note = await client.post("/notes", {"personId": 2, "body": "still here after a restart"})
    async with sandbox(db) as (base, _state), client_for(base, tmp_path / "audit.log") as client:
        again = await client.get(f"/notes/{note['id']}")
    assert again["body"] == "still here after a restart"


async def test_no_key_appears_in_the_audit_log_errors_or_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    audit = tmp_path / "audit.log"
    errors: list[str] = []
    async with sandbox(tmp_path / "fub.sqlite3") as (base, state):
        async with client_for(base, audit) as client:
            calls: list[Callable[[], Any]] = [
                lambda: client.get("/people/999999"),
                lambda: client.post("/people", {"unknownField": 1}),
                lambda: client.get("/people", {"email": "someone@example.org"}),
            ]
            state.faults.inject("status", count=10, status=503, route="GET /me")
            calls.append(lambda: client.get("/me"))
            for attempt in calls:
                try:
                    await attempt()
                except APIError as exc:
                    errors.append(f"{exc} {exc!r}")
            errors.append(repr(client))
        async with client_for(base, audit, api_key="definitely-wrong-key") as wrong:
            with pytest.raises(APIError) as caught:
                await wrong.get("/me")
            errors.append(str(caught.value))
    written = audit.read_text() + "\n".join(errors) + caplog.text
    assert len(errors) >= 4 and audit.read_text().count("\n") >= 5
    for secret in (SANDBOX_API_KEY, SANDBOX_SYSTEM_KEY, "definitely-wrong-key", "someone@example.org"):
        assert secret not in written
