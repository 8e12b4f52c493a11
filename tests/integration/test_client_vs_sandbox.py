"""The real FUB client against the sandbox over a real loopback port: pagination to the end, 429 storms
and a tight rate limit, 5xx bursts, writes that must not be duplicated, data that survives a restart.
No key is ever written anywhere (checked after every test by the `leaks` fixture in conftest.py)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from fub_mcp.fub.client import FUBClient
from fub_mcp.fub.errors import APIError, AuthenticationError, NotFoundError, ServerError
from fub_mcp.sandbox import RateLimits
from tests.integration.conftest import WRONG_KEY, Leaks, answered, sandbox

pytestmark = pytest.mark.anyio

Connect = Callable[..., FUBClient]


async def at_once(client: FUBClient, paths: list[str]) -> list[Any]:
    """GET every path concurrently; the answers in the order of `paths`."""
    results: list[Any] = [None] * len(paths)

    async def one(index: int) -> None:
        results[index] = await client.get(paths[index])

    async with anyio.create_task_group() as tg:
        for index in range(len(paths)):
            tg.start_soon(one, index)
    return results


async def test_paging_to_the_end_of_every_person_follows_next_cursors(
    tmp_path: Path, connect: Connect
) -> None:
    async with sandbox(tmp_path / "fub.sqlite3") as (base, state), connect(base) as client:
        total = (await client.get_page("/people", {"limit": 1})).total
        state.requests.clear()
        ids = [person["id"] async for person in client.paginate("/people", max_items=10_000)]
    assert total is not None and 250 <= total <= 400  # the seeded brokerage (~300 people outside Trash)
    assert len(ids) == total and len(set(ids)) == total  # every person exactly once
    pages = answered(state, "GET", "/people")
    assert len(pages) == math.ceil(total / 100) and all(page["status"] == 200 for page in pages)
    first, *rest = [page["query"] for page in pages]
    assert "next" not in first and int(first.get("offset", 0)) == 0
    assert all(query.get("next") and int(query.get("offset", 0)) == 0 for query in rest)  # cursors only


async def test_a_429_storm_is_absorbed(tmp_path: Path, connect: Connect) -> None:
    async with sandbox(tmp_path / "fub.sqlite3") as (base, state), connect(base) as client:
        state.faults.inject("rate_limit", count=4, retry_after=1, route="GET /people")
        results = await at_once(client, [f"/people/{n}" for n in range(1, 11)])
        stats = client.stats
    assert [person["id"] for person in results] == list(range(1, 11))  # no 429 reached a caller
    sent_429 = [r for r in state.requests if r["status"] == 429]
    assert len(sent_429) == 4 == stats.rate_limited_responses  # the storm, and nothing more
    assert stats.rate_limit_waits >= 1  # the others waited out Retry-After instead of hammering


async def test_100_concurrent_reads_under_a_tight_limit_never_see_a_429(
    tmp_path: Path, connect: Connect
) -> None:
    limits = RateLimits(global_limit_registered=20, window_seconds=1.0)
    async with sandbox(tmp_path / "fub.sqlite3", limits) as (base, state), connect(base) as client:
        results = await at_once(client, [f"/people/{n % 50 + 1}" for n in range(100)])
        stats = client.stats
    assert [person["id"] for person in results] == [n % 50 + 1 for n in range(100)]  # no 429 reached a caller
    # The client starts from FUB's default budget (250 / 10 s): its cold burst is capped by max_concurrency
    # (16 <= 20), the first answers' headers teach it 20 / 1 s, and the reservations made under the old
    # budget are confirmed again before sending. So the sandbox never has to refuse a request.
    assert [r for r in state.requests if r["status"] == 429] == []
    assert stats.rate_limited_responses == 0 and stats.requests_sent == 100


async def test_a_503_burst_is_absorbed_by_the_backoff(tmp_path: Path, connect: Connect) -> None:
    async with sandbox(tmp_path / "fub.sqlite3") as (base, state), connect(base) as client:
        state.faults.inject("status", count=3, status=503, route="GET /me")
        me = await client.get("/me")
        state.faults.inject("status", count=2, status=502, route="PUT /people/3")
        person = await client.put("/people/3", {"tags": ["Retried"]})
        stats = client.stats
    assert me["id"] and person["tags"] == ["Retried"]
    assert [r["status"] for r in answered(state, "GET", "/me")] == [503, 503, 503, 200]
    assert [r["status"] for r in answered(state, "PUT", "/people/3")] == [502, 502, 200]
    assert stats.server_errors == 5 and stats.retries == 5


async def test_a_note_is_never_posted_twice(tmp_path: Path, connect: Connect, leaks: Leaks) -> None:
    async with sandbox(tmp_path / "fub.sqlite3") as (base, state), connect(base) as client:
        # FUB stores the note, then the answer is lost: a 500, then a dropped connection.
        state.faults.inject("status", status=500, route="POST /notes", process=True)
        with pytest.raises(ServerError) as after_500:
            await client.post("/notes", {"personId": 1, "body": "stored despite a 500"})
        state.faults.inject("drop", route="POST /notes", process=True)
        with pytest.raises(APIError) as after_drop:
            await client.post("/notes", {"personId": 1, "body": "stored despite a dropped connection"})
        notes = (await client.get("/notes", {"personId": 1, "limit": 100}))["notes"]
    for caught in (after_500, after_drop):
        assert "may have stored it" in leaks.note(caught.value) and "not sent again" in str(caught.value)
    assert [r["status"] for r in answered(state, "POST", "/notes")] == [500, "dropped"]  # one POST each
    bodies = [note["body"] for note in notes]
    assert bodies.count("stored despite a 500") == 1
    assert bodies.count("stored despite a dropped connection") == 1


async def test_a_lead_is_retried_without_duplicating_the_person(tmp_path: Path, connect: Connect) -> None:
    lead = {
        "source": "Integration",
        "type": "Registration",
        "person": {"firstName": "Once", "lastName": "Only", "emails": [{"value": "once.only@example.org"}]},
    }
    async with sandbox(tmp_path / "fub.sqlite3") as (base, state), connect(base) as client:
        state.faults.inject("status", status=503, route="POST /events", process=True)
        state.faults.inject("drop", route="POST /events", process=True)
        await client.post("/events", lead)
        people = (await client.get("/people", {"email": "once.only@example.org"}))["people"]
    assert [r["status"] for r in answered(state, "POST", "/events")] == [503, "dropped", 200]
    assert len(people) == 1  # processed three times, one person (FUB dedupes POST /events by email)


async def test_data_survives_a_restart(tmp_path: Path, connect: Connect) -> None:
    db = tmp_path / "fub.sqlite3"
    async with sandbox(db) as (base, _state), connect(base) as client:
        total = (await client.get_page("/people", {"limit": 1})).total
        person = await client.post("/people", {"firstName": "Durable", "lastName": "Data"})
        await client.put(f"/people/{person['id']}", {"tags": ["Survivor"]})
        note = await client.post("/notes", {"personId": person["id"], "body": "still here after a restart"})
    async with sandbox(db) as (base, _state), connect(base) as client:
        again = await client.get(f"/notes/{note['id']}")
        found = await client.get(f"/people/{person['id']}")
        total_again = (await client.get_page("/people", {"limit": 1})).total
    assert again["body"] == "still here after a restart" and found["tags"] == ["Survivor"]
    assert total is not None and total_again == total + 1  # the restart did not re-seed or lose anyone


async def test_errors_and_the_audit_trail_never_carry_a_key(
    tmp_path: Path, connect: Connect, leaks: Leaks
) -> None:
    async with sandbox(tmp_path / "fub.sqlite3") as (base, state):
        async with connect(base) as client:
            with pytest.raises(NotFoundError) as missing:
                await client.get("/people/999999")
            with pytest.raises(APIError) as invalid:
                await client.post("/people", {"unknownField": 1})
            await client.get("/people", {"email": "private.person@example.org"})
            state.faults.inject("status", count=10, status=503, route="GET /me")
            with pytest.raises(APIError) as unavailable:
                await client.get("/me")
            leaks.errors.append(repr(client))
        async with connect(base, FUB_API_KEY=WRONG_KEY) as wrong:
            with pytest.raises(AuthenticationError) as refused:
                await wrong.get("/me")
            leaks.errors.append(repr(wrong))
    for caught in (missing, invalid, unavailable, refused):
        leaks.note(caught.value)
    audit = leaks.audit.read_text()
    assert audit.count("\n") >= 9  # every attempt, retries included, is one line
    assert "private.person@example.org" not in audit  # personal data in a query is redacted too
