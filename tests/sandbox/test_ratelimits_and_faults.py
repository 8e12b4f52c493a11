"""Contract tests: rate limiting (a fake clock, no sleeping), injected faults and the request log."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from fub_mcp.sandbox import RateLimits, create_app
from tests.sandbox.conftest import SYSTEM_HEADERS, FakeClock, client_for

pytestmark = pytest.mark.anyio


def small_app(clock: FakeClock, **limits: Any) -> Any:
    return create_app(":memory:", now=clock, rate_limits=RateLimits(**limits))


async def test_rate_limit_headers_are_on_every_response(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get("/people"),
        await client.get("/nope"),
        await client.post("/people", json={"x": 1}),
    ):
        assert response.headers["X-RateLimit-Context"] == "global"
        assert response.headers["X-RateLimit-Window"] == "10"
        assert response.headers["X-RateLimit-Limit"] == "125"
    assert int(response.headers["X-RateLimit-Remaining"]) == 122


async def test_past_the_budget_fub_answers_429_with_retry_after_until_the_window_slides(
    clock: FakeClock,
) -> None:
    app = small_app(clock, global_limit=3, window_seconds=10)
    async with client_for(app) as client:
        remaining = []
        for _ in range(3):
            response = await client.get("/me")
            remaining.append(int(response.headers["X-RateLimit-Remaining"]))
            clock.advance(2)
        assert remaining == [2, 1, 0]
        limited = await client.get("/me")
        assert limited.status_code == 429 and "errorMessage" in limited.json()
        assert limited.headers["Retry-After"] == "4"  # the first request leaves the window 10 s after it came
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        clock.advance(3.5)
        assert (await client.get("/me")).status_code == 429
        assert (await client.get("/me")).headers["Retry-After"] == "1"
        clock.advance(0.5)  # the oldest request has left the window: exactly one slot frees
        assert (await client.get("/me")).status_code == 200
        assert (await client.get("/me")).status_code == 429


async def test_get_events_has_its_own_budget_and_post_events_is_unlimited(clock: FakeClock) -> None:
    app = small_app(clock, global_limit=2, events_get=1, window_seconds=1)
    async with client_for(app) as client:
        first = await client.get("/events")
        assert first.headers["X-RateLimit-Context"] == "events" and first.headers["X-RateLimit-Limit"] == "1"
        assert (await client.get("/events")).status_code == 429
        assert (await client.get("/me")).status_code == 200  # global is separate
        for i in range(5):
            posted = await client.post(
                "/events",
                json={
                    "source": "S",
                    "type": "Registration",
                    "person": {"emails": [{"value": f"p{i}@example.org"}]},
                },
            )
            assert posted.status_code == 201
            assert posted.headers["X-RateLimit-Context"] == "POST.events"
            assert "X-RateLimit-Limit" not in posted.headers  # unlimited: no number to give


async def test_registered_systems_get_the_higher_budget_and_keys_count_separately(clock: FakeClock) -> None:
    app = small_app(clock, global_limit=1, global_limit_registered=3, window_seconds=1)
    async with client_for(app, headers=SYSTEM_HEADERS) as registered:
        assert [(await registered.get("/me")).status_code for _ in range(4)] == [200, 200, 200, 429]
        assert (await registered.get("/me")).headers["X-RateLimit-Limit"] == "3"
    async with client_for(app, "sandbox-agent-key") as agent:  # another key, another window
        assert [(await agent.get("/me")).status_code for _ in range(2)] == [200, 429]
        assert (await agent.get("/me")).headers["X-RateLimit-Limit"] == "1"


async def test_status_faults_answer_the_next_n_requests(sandbox: Any, client: httpx.AsyncClient) -> None:
    sandbox.faults.inject("status", count=2, status=502)
    assert [(await client.get("/me")).status_code for _ in range(3)] == [502, 502, 200]
    sandbox.faults.inject("status", status=500)
    failed = await client.get("/me")
    assert failed.status_code == 500 and "errorMessage" in failed.json()


async def test_a_rate_limit_storm_answers_429_with_retry_after(
    sandbox: Any, client: httpx.AsyncClient
) -> None:
    sandbox.faults.inject("rate_limit", count=3, retry_after=7)
    storm = [await client.get("/people") for _ in range(4)]
    assert [r.status_code for r in storm] == [429, 429, 429, 200]
    assert storm[0].headers["Retry-After"] == "7" and storm[0].headers["X-RateLimit-Remaining"] == "0"


async def test_a_dropped_connection_raises_a_transport_error_and_a_post_is_not_stored(
    sandbox: Any, client: httpx.AsyncClient
) -> None:
    sandbox.faults.inject("drop", route="POST /notes")
    assert (await client.get("/me")).status_code == 200  # the fault waits for its route
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post("/notes", json={"personId": 1, "body": "lost"})
    notes = (await client.get("/notes", params={"personId": 1, "limit": 100})).json()["notes"]
    assert "lost" not in [n["body"] for n in notes]
    sandbox.faults.inject("drop", route="POST /notes", process=True)  # done, then the answer is lost
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post("/notes", json={"personId": 1, "body": "kept"})
    notes = (await client.get("/notes", params={"personId": 1, "limit": 100})).json()["notes"]
    assert "kept" in [n["body"] for n in notes]


async def test_a_malformed_fault_answers_200_with_broken_json(
    sandbox: Any, client: httpx.AsyncClient
) -> None:
    sandbox.faults.inject("malformed")
    response = await client.get("/people")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert (await client.get("/people")).json()["people"]


async def test_a_latency_fault_delays_the_answer(sandbox: Any, client: httpx.AsyncClient) -> None:
    sandbox.faults.inject("latency", latency_ms=150)
    started = time.perf_counter()
    assert (await client.get("/me")).status_code == 200
    assert time.perf_counter() - started >= 0.14
    started = time.perf_counter()
    await client.get("/me")
    assert time.perf_counter() - started < 0.1  # only the next request was slowed


async def test_faults_and_reset_can_be_driven_over_http(client: httpx.AsyncClient, sandbox: Any) -> None:
    admin = "http://sandbox/_sandbox"
    added = await client.post(
        f"{admin}/faults", json={"kind": "status", "count": 1, "status": 504, "route": "/people"}
    )
    assert added.status_code == 201 and added.json()["fault"]["status"] == 504
    assert (await client.get(f"{admin}/faults")).json()["faults"][0]["route"] == "/people"
    assert (await client.get("/me")).status_code == 200
    assert (await client.get("/people")).status_code == 504
    await client.post(f"{admin}/faults", json={"kind": "status", "count": 5})
    assert (await client.delete(f"{admin}/faults")).status_code == 204
    assert (await client.get("/people")).status_code == 200
    bad = await client.post(f"{admin}/faults", json={"kind": "status", "status": 418})
    assert bad.status_code == 400
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app(sandbox))) as anonymous:
        assert (await anonymous.post(f"{admin}/reset")).status_code == 401


def sandbox_app(sandbox: Any) -> Any:
    from fub_mcp.sandbox.app import build_app

    return build_app(sandbox)


async def test_the_request_log_shows_exactly_what_went_over_the_wire(
    client: httpx.AsyncClient, sandbox: Any
) -> None:
    await client.post("/notes", params={"x": "1"}, json={"personId": 1, "body": "logged"})
    await client.get("/people", params={"email": "a@b.example"})
    log = (await client.get("http://sandbox/_sandbox/requests", params={"method": "POST"})).json()["requests"]
    assert [(r["method"], r["path"], r["query"], r["json"], r["status"]) for r in log] == [
        ("POST", "/v1/notes", {"x": "1"}, {"personId": 1, "body": "logged"}, 201)
    ]
    assert sandbox.requests[-1]["query"] == {"email": "a@b.example"}


async def test_the_control_routes_are_also_under_v1_and_are_not_logged_or_counted(
    client: httpx.AsyncClient, sandbox: Any
) -> None:
    before = int((await client.get("/me")).headers["X-RateLimit-Remaining"])
    for _ in range(3):
        assert (await client.get("/_sandbox/requests")).status_code == 200
    assert int((await client.get("/me")).headers["X-RateLimit-Remaining"]) == before - 1
    assert all("_sandbox" not in r["path"] for r in sandbox.requests)


def test_serving_logs_to_stderr_only() -> None:
    from fub_mcp.sandbox import _stderr_logging

    handlers = _stderr_logging()["handlers"]
    assert handlers and all(h["stream"] == "ext://sys.stderr" for h in handlers.values())  # type: ignore[union-attr]
