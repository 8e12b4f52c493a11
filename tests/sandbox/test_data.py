"""Contract tests: the seed, durability across re-opening the file, reset, and paging cost."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from fub_mcp.sandbox import RateLimits, create_app, default_db_path, reset_database
from fub_mcp.sandbox.seed import build_seed
from tests.sandbox.conftest import FakeClock, client_for

pytestmark = pytest.mark.anyio


def test_the_seed_is_deterministic_and_looks_like_a_real_brokerage() -> None:
    now = datetime(2026, 3, 10, 17, 30, tzinfo=UTC)
    seed = build_seed(now)
    assert seed == build_seed(now)
    users = seed["users"]
    assert [(u["name"], u["role"], u["isOwner"]) for u in users if u["isOwner"]] == [
        ("Olivia Owner", "Broker", True)
    ]
    assert Counter(u["role"] for u in users) == {"Agent": 4, "Broker": 1, "Lender": 1}
    people = seed["people"]
    assert len(people) == 300
    assert len({p["source"] for p in people}) >= 8 and len({p["stage"] for p in people}) == 9
    assert any(p["stage"] == "Trash" for p in people)
    phones = Counter(p["phones"][0]["normalized"] for p in people if p["phones"])
    assert any(count > 1 for count in phones.values())  # a few people share a phone
    assert {"Buyer", "Seller", "Investor", "First-time buyer"} <= {t for p in people for t in p["tags"]}
    assert {f["type"] for f in seed["customfields"]} >= {"text", "date", "dropdown"}
    assert len({e["type"] for e in seed["events"]}) >= 12
    assert all(e["property"] for e in seed["events"] if e["type"] == "Property Inquiry")
    assert max(e["created"] for e in seed["events"]) > (now - timedelta(days=7)).strftime("%Y-%m-%d")
    today = "2026-03-10"
    due = Counter(
        "past" if t["dueDate"] < today else "today" if t["dueDate"] == today else "future"
        for t in seed["tasks"]
    )
    assert due["past"] and due["today"] and due["future"]
    assert any(t["isCompleted"] for t in seed["tasks"])
    assert {d["pipelineId"] for d in seed["deals"]} == {1, 2}
    assert len(seed["smartlists"]) >= 3 and len(seed["actionplans"]) == 3 and seed["actionplanspeople"]
    latest: dict[int, str] = {}
    for table in ("events", "notes", "calls", "textmessages"):
        for row in seed[table]:
            latest[row["personId"]] = max(latest.get(row["personId"], ""), row["created"])
    assert all(p["lastActivity"] == latest.get(p["id"], p["created"]) for p in people)
    assert all(
        row["created"] <= "2026-03-10T17:30:00Z"
        for table in ("events", "notes", "calls")
        for row in seed[table]
    )


async def test_writes_survive_reopening_the_same_database_file(tmp_path: Path) -> None:
    path = str(tmp_path / "fub.sqlite3")
    first = create_app(path)
    async with client_for(first) as client:
        pid = (await client.post("/people", json={"firstName": "Dur", "lastName": "Able"})).json()["id"]
        await client.post("/notes", json={"personId": pid, "body": "remember me"})
        seeded_at = first.state.sandbox.seeded_at
    # no close(): every acknowledged write is already committed; a second connection must see it
    second = create_app(path)
    async with client_for(second) as client:
        assert (await client.get(f"/people/{pid}")).json()["name"] == "Dur Able"
        notes = (await client.get("/notes", params={"personId": pid})).json()["notes"]
        assert [n["body"] for n in notes] == ["remember me"]
        assert (await client.get("/people")).json()["_metadata"]["total"] == 283  # not seeded twice
    assert second.state.sandbox.seeded_at == seeded_at
    first.state.sandbox.close()
    second.state.sandbox.close()


async def test_reset_restores_the_seed(app: Any, client: httpx.AsyncClient, sandbox: Any) -> None:
    before = (await client.get("/people", params={"limit": 5})).json()
    await client.post("/people", json={"firstName": "Tempo", "lastName": "Rary"})
    await client.delete("/people/1")
    sandbox.faults.inject("status", count=9)
    reset = await client.post("http://sandbox/_sandbox/reset")
    assert reset.status_code == 200
    assert (await client.get("/people", params={"limit": 5})).json() == before
    assert (await client.get("/people/1")).status_code == 200
    assert sandbox.faults.pending == []


def test_reset_database_restores_a_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "fub.sqlite3"
    reset_database(path)
    app = create_app(str(path))
    sandbox = app.state.sandbox
    assert sandbox.db.scalar("SELECT COUNT(*) FROM people") == 300
    sandbox.db.delete("people", 1)
    sandbox.close()
    reset_database(path)
    again = create_app(str(path)).state.sandbox
    assert again.db.scalar("SELECT COUNT(*) FROM people") == 300
    again.close()
    assert default_db_path().name == "sandbox.sqlite3" and default_db_path().parent.name == "fub-mcp"


async def test_paging_ten_thousand_people_with_next_stays_flat(clock: FakeClock) -> None:
    app = create_app(":memory:", now=clock, rate_limits=RateLimits(global_limit=100_000))
    db = app.state.sandbox.db
    template = db.get("people", 300)
    db.insert_many(
        "people",
        [
            {**template, "id": 1000 + i, "name": f"Bulk {i}", "emails": [], "phones": []}
            for i in range(10_000)
        ],
    )
    async with client_for(app) as client:
        timings = []
        page = (await client.get("/people", params={"limit": 100})).json()
        seen = len(page["people"])
        while "next" in page["_metadata"]:
            started = time.perf_counter()
            page = (
                await client.get("/people", params={"limit": 100, "next": page["_metadata"]["next"]})
            ).json()
            timings.append(time.perf_counter() - started)
            seen += len(page["people"])
        assert seen == page["_metadata"]["total"] == 10_000 + 282
        early, late = statistics.median(timings[:10]), statistics.median(timings[-10:])
        assert late < early * 3 + 0.005, (early, late)
        singles = []
        for pid in (5, 500, 5000, 10500):
            started = time.perf_counter()
            assert (await client.get(f"/people/{pid}")).status_code in (200, 404)
            singles.append(time.perf_counter() - started)
        assert statistics.median(singles) < 0.005
