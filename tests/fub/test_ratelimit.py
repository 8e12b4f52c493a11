"""The shared rate limiter: full budget, never over it, fair, following FUB's headers."""

from __future__ import annotations

import math
from typing import Any

import anyio
import httpx
import pytest

from fub_mcp.fub import DeadlineExceededError, InMemoryRateStore, RateLimiter, RateStore
from fub_mcp.fub.ratelimit import ContextLimit, default_context, default_limits
from tests.fub.fakes import FakeFUB, VirtualClock, make_client

pytestmark = pytest.mark.anyio


def _max_in_any_window(times: list[float], window: float) -> int:
    """The most sends inside any closed window [t, t + window] that starts at a send."""
    ordered = sorted(times)
    return max(sum(1 for u in ordered if t <= u <= t + window) for t in ordered)


async def _burst(client: Any, count: int, path: str = "/people") -> list[Any]:
    results: list[Any] = [None] * count

    async def call(i: int) -> None:
        results[i] = await client.get(path, {"i": i})

    async with anyio.create_task_group() as tg:
        for i in range(count):
            tg.start_soon(call, i)
    return results


@pytest.mark.parametrize("max_concurrency", [16, 200])
async def test_200_concurrent_calls_stay_within_every_window_and_finish_near_the_ideal_time(
    clock: VirtualClock, max_concurrency: int
) -> None:
    budget, window, latency = 25, 1.0, 0.01
    fub = FakeFUB(clock, limit=budget, window=window, latency=latency)
    client = make_client(
        fub, clock, rate_limits={"global": budget}, rate_window=window, max_concurrency=max_concurrency
    )
    async with clock.running(), client:
        results = await _burst(client, 200)

    assert results == [{"ok": True}] * 200
    assert fub.rejected == []
    assert client.stats.rate_limited_responses == 0
    assert _max_in_any_window(fub.received, window) <= budget
    ideal = math.ceil(200 / budget - 1) * window + latency
    assert ideal <= clock.now <= 1.05 * ideal


async def test_the_burst_uses_the_whole_budget_at_once(clock: VirtualClock) -> None:
    fub = FakeFUB(clock, limit=25, window=10.0)
    client = make_client(fub, clock, rate_limits={"global": 25})
    async with clock.running(), client:
        await _burst(client, 30)

    assert fub.received.count(0.0) == 25  # the first 25 go together, not a cautious fraction
    assert sorted(set(fub.received)) == [0.0, 10.0]


async def test_waiting_callers_are_served_first_come_first_served(clock: VirtualClock) -> None:
    fub = FakeFUB(clock, limit=5, window=1.0, latency=0.01)
    client = make_client(fub, clock, rate_limits={"global": 5}, rate_window=1.0, max_concurrency=64)
    async with clock.running(), client:
        await _burst(client, 40)

    assert fub.order == [str(i) for i in range(40)]


async def test_a_queued_call_whose_turn_would_pass_its_deadline_fails_at_once(clock: VirtualClock) -> None:
    fub = FakeFUB(clock, limit=2, window=10.0)
    client = make_client(fub, clock, rate_limits={"global": 2}, call_deadline=15.0)
    failures: list[tuple[int, float, DeadlineExceededError]] = []

    async def call(i: int) -> None:
        try:
            await client.get("/people", {"i": i})
        except DeadlineExceededError as exc:
            failures.append((i, clock.now, exc))

    async with clock.running(), client:
        async with anyio.create_task_group() as tg:
            for i in range(5):
                tg.start_soon(call, i)

    assert fub.order == ["0", "1", "2", "3"]  # two at 0 s, two at 10 s
    assert [(i, at) for i, at, _ in failures] == [(4, 0.0)]  # its turn (20 s) is past its 15 s deadline
    assert failures[0][2].retry_after == 20
    assert str(failures[0][2]).startswith("FUB is busy; retry after 20 s")


async def test_a_remaining_0_header_makes_the_next_call_wait_for_the_window(
    clock: VirtualClock, router: Any
) -> None:
    sent: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(clock.now)
        headers = {"X-RateLimit-Limit": "125", "X-RateLimit-Remaining": "0", "X-RateLimit-Window": "10",
                   "X-RateLimit-Context": "global"}
        return httpx.Response(200, headers=headers, json={})

    router.get("/people").mock(side_effect=answer)
    client = make_client(router, clock)
    async with clock.running(), client:
        await client.get("/people")
        assert client.stats.phantom_entries == 124  # FUB counted 125, this client knew of 1
        await client.get("/people")

    assert sent == [0.0, 10.0]  # another process used the budget: this client waited instead of a 429
    assert client.stats.rate_limit_waits == 1


async def test_a_larger_limit_header_grows_the_budget(clock: VirtualClock) -> None:
    fub = FakeFUB(clock, limit=10, window=10.0)
    client = make_client(fub, clock, rate_limits={"global": 5})
    async with clock.running(), client:
        await client.get("/people")  # FUB: Limit 10
        await _burst(client, 10)

    assert fub.received.count(0.0) == 10  # 10 in the first window, not 5
    assert fub.rejected == []
    assert (await client.limiter.limit_for("global")).limit == 10


async def test_a_smaller_limit_header_shrinks_the_budget(clock: VirtualClock) -> None:
    fub = FakeFUB(clock, limit=3, window=10.0)
    client = make_client(fub, clock, rate_limits={"global": 50})
    async with clock.running(), client:
        await client.get("/people")  # FUB: Limit 3
        await _burst(client, 4)

    assert fub.received == [0.0, 0.0, 0.0, 10.0, 10.0]
    assert fub.rejected == []


async def test_a_cold_burst_reserved_under_a_larger_budget_never_runs_into_a_429(clock: VirtualClock) -> None:
    fub = FakeFUB(clock, limit=5, window=10.0, latency=0.01)
    client = make_client(fub, clock, rate_limits={"global": 50}, max_concurrency=4)
    async with clock.running(), client:
        await _burst(client, 12)  # all 12 reserve under 50 before FUB's first answer says 5

    assert fub.rejected == [] and client.stats.rate_limited_responses == 0
    assert fub.received == pytest.approx([0.0] * 4 + [0.01] + [10.01] * 4 + [10.02] + [20.02] * 2, abs=1e-3)
    assert client.limiter.stats.requeued > 0


async def test_a_reservation_waiting_for_a_connection_honours_a_429_that_came_meanwhile(
    clock: VirtualClock, router: Any
) -> None:
    sent: list[tuple[str, float]] = []
    first = iter([httpx.Response(429, headers={"Retry-After": "3"})])

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.params["i"], clock.now))
        return next(first, httpx.Response(200, json={}))

    router.get("/people").mock(side_effect=answer)
    client = make_client(router, clock, max_concurrency=1)
    async with clock.running(), client:
        await _burst(client, 2)  # both reserve at once; the second waits for the one connection

    assert sorted(sent, key=lambda s: (s[1], s[0])) == [("0", 0.0), ("0", 3.0), ("1", 3.0)]


async def test_a_window_header_replaces_the_configured_window(clock: VirtualClock) -> None:
    fub = FakeFUB(clock, limit=2, window=3.0)
    client = make_client(fub, clock, rate_limits={"global": 2}, rate_window=10.0)
    async with clock.running(), client:
        await _burst(client, 4)

    assert fub.received == [0.0, 0.0, 3.0, 3.0]


async def test_get_events_has_its_own_smaller_budget_and_post_events_is_unlimited(clock: VirtualClock) -> None:
    sent: list[tuple[str, str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append((request.method, request.url.path.removeprefix("/v1"), clock.now))
        return httpx.Response(200, json={})

    client = make_client(answer, clock, rate_limits={"global": 3, "events": 2})
    async with clock.running(), client:
        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(client.get, "/events")
            for _ in range(3):
                tg.start_soon(client.get, "/people")
            for _ in range(50):
                tg.start_soon(client.post, "/events", {"source": "x"})

    at_zero = [(m, p) for m, p, t in sent if t == 0.0]
    assert at_zero.count(("GET", "/events")) == 2
    assert at_zero.count(("GET", "/people")) == 3  # GET /events did not use the global budget
    assert at_zero.count(("POST", "/events")) == 50
    assert [(m, p, t) for m, p, t in sent if t > 0] == [("GET", "/events", 10.0)]


def test_the_default_limits_follow_fub_with_and_without_a_registered_system() -> None:
    assert default_limits(False) == {"global": 125, "events": 10, "POST.events": None}
    assert default_limits(True) == {"global": 250, "events": 20, "POST.events": None}
    assert default_context("GET", "/events") == "events"
    assert default_context("GET", "/events/12") == "events"
    assert default_context("POST", "/events") == "POST.events"
    assert default_context("POST", "/notes") == "global"


async def test_a_context_fub_names_in_its_headers_is_learned_for_that_route(clock: VirtualClock) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"X-RateLimit-Context": "notes", "X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "9",
                   "X-RateLimit-Window": "10"}
        return httpx.Response(201, headers=headers, json={"id": 1})

    client = make_client(answer, clock)
    async with clock.running(), client:
        await client.post("/notes", {"personId": 1, "body": "hi"})

    assert client.limiter.context_for("POST", "/notes") == "notes"
    assert client.limiter.context_for("GET", "/people") == "global"
    assert await client.limiter.limit_for("notes") == ContextLimit(10, 10.0)


def test_the_in_memory_store_implements_the_rate_store_protocol() -> None:
    assert isinstance(InMemoryRateStore(), RateStore)


async def test_clients_of_different_keys_sharing_one_store_keep_separate_budgets(clock: VirtualClock) -> None:
    store = InMemoryRateStore()
    sent: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(clock.now)
        return httpx.Response(200, json={})

    first = make_client(answer, clock, rate_limits={"global": 2}, rate_store=store)
    second = make_client(answer, clock, rate_limits={"global": 2}, rate_store=store, api_key="another-key")
    third = make_client(answer, clock, rate_limits={"global": 2}, rate_store=store)  # a replica: same key
    async with clock.running(), first, second, third:
        await _burst(first, 2)
        await _burst(second, 2)
        await third.get("/people")

    assert sent == [0.0, 0.0, 0.0, 0.0, 10.0]


async def test_the_limiter_waits_for_an_in_flight_request_when_every_slot_is_taken(clock: VirtualClock) -> None:
    limiter = RateLimiter(limits={"global": 1}, window=1.0, clock=clock, sleep=clock.sleep)
    got: list[float] = []

    async def second() -> None:
        slot = await limiter.acquire("global", deadline_at=60.0)
        got.append(clock.now)
        await limiter.complete(slot)

    async with clock.running():
        slot = await limiter.acquire("global", deadline_at=60.0)
        async with anyio.create_task_group() as tg:
            tg.start_soon(second)
            await clock.sleep(0.25)  # the first request is in flight for 0.25 s
            await limiter.complete(slot)

    assert got == [1.25]  # one window after the first one *completed*


async def test_a_request_that_was_never_sent_gives_its_slot_back(clock: VirtualClock) -> None:
    limiter = RateLimiter(limits={"global": 1}, window=10.0, clock=clock, sleep=clock.sleep)
    async with clock.running():
        slot = await limiter.acquire("global", deadline_at=60.0)
        await limiter.release(slot)
        again = await limiter.acquire("global", deadline_at=60.0)
        await limiter.complete(again)

    assert clock.now == 0.0
