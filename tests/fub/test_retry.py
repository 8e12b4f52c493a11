"""Retries: FUB's backoff formula, the deadline, Retry-After, and never duplicating a write."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from fub_mcp.fub import (
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    DeadlineExceededError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from fub_mcp.fub.retry import backoff_delay, draw_jitter_ms, may_resend, parse_retry_after, retryable_status
from tests.fub.fakes import VirtualClock, make_client

anyio_mark = pytest.mark.anyio


def test_the_backoff_is_two_to_the_n_plus_random_ms_capped_at_max_backoff() -> None:
    assert [backoff_delay(n, 250) for n in range(7)] == [1.25, 2.25, 4.25, 8.25, 16.25, 32.0, 32.0]
    assert backoff_delay(0, 0) == 1.0
    assert backoff_delay(0, 1000) == 2.0
    assert backoff_delay(3, 500, max_backoff=5.0) == 5.0
    assert backoff_delay(500, 0) == 32.0


def test_the_jitter_is_random_ms_between_0_and_1000() -> None:
    assert draw_jitter_ms(lambda: 0.0) == 0
    assert draw_jitter_ms(lambda: 0.4567) == 456
    assert draw_jitter_ms(lambda: 0.99999) == 999


def test_retry_after_is_read_as_seconds() -> None:
    assert parse_retry_after("8") == 8.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert parse_retry_after("-3") is None


@pytest.mark.parametrize(
    ("method", "path", "resend"),
    [
        ("GET", "/people", True),
        ("PUT", "/people/1", True),
        ("DELETE", "/notes/1", True),
        ("POST", "/events", True),
        ("POST", "/events/", True),
        ("POST", "/notes", False),
        ("POST", "/tasks", False),
        ("POST", "/calls", False),
        ("POST", "/deals", False),
        ("POST", "/people", False),
    ],
)
def test_only_requests_that_are_safe_to_repeat_are_resent_after_fub_may_have_processed_them(
    method: str, path: str, resend: bool
) -> None:
    assert may_resend(method, path) is resend
    assert retryable_status(503, method, path) is resend
    assert retryable_status(429, method, path) is True
    assert retryable_status(400, method, path) is False


@anyio_mark
async def test_the_retry_schedule_on_the_wire_follows_the_formula_with_fresh_jitter(
    clock: VirtualClock, router: Any
) -> None:
    sent: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(clock.now)
        return httpx.Response(503)

    router.get("/people").mock(side_effect=answer)
    client = make_client(router, clock, random_values=[0.1, 0.9, 0.25, 0.0, 0.5], call_deadline=100.0)
    async with clock.running(), client:
        with pytest.raises(ServerError) as caught:
            await client.get("/people")

    assert clock.sleeps == [1.1, 2.9, 4.25, 8.0, 16.5]
    assert sent == pytest.approx([0.0, 1.1, 4.0, 8.25, 16.25, 32.75])
    assert "FUB is unavailable" in str(caught.value)
    assert client.stats.retries == 5


@anyio_mark
async def test_retries_stop_before_a_wait_that_would_cross_the_deadline(clock: VirtualClock, router: Any) -> None:
    route = router.get("/people").respond(500)
    client = make_client(router, clock, random_values=[0.0], max_retries=10, call_deadline=50.0)
    async with clock.running(), client:
        with pytest.raises(DeadlineExceededError) as caught:
            await client.get("/people")

    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0]  # 31 s; the next 32 s would end at 63 s > 50 s
    assert clock.now == 31.0
    assert route.call_count == 6
    assert caught.value.retry_after == 32
    assert str(caught.value).startswith("FUB is busy; retry after 32 s")


@anyio_mark
async def test_a_per_call_deadline_overrides_the_default(clock: VirtualClock, router: Any) -> None:
    router.get("/people").respond(502)
    client = make_client(router, clock, random_values=[0.0])
    async with clock.running(), client:
        with pytest.raises(DeadlineExceededError):
            await client.request("GET", "/people", deadline=5.0)

    assert clock.sleeps == [1.0, 2.0]  # 3 s; another 4 s would end at 7 s > 5 s


@anyio_mark
async def test_retry_after_is_honoured_on_a_429(clock: VirtualClock, router: Any) -> None:
    sent: list[float] = []
    answers = iter([httpx.Response(429, headers={"Retry-After": "8"}), httpx.Response(200, json={"id": 1})])

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(clock.now)
        return next(answers)

    router.post("/notes").mock(side_effect=answer)
    client = make_client(router, clock)
    async with clock.running(), client:
        assert await client.post("/notes", {"personId": 1, "body": "x"}) == {"id": 1}

    assert sent == [0.0, 8.0]  # even a POST: FUB did not process a 429
    assert client.stats.rate_limited_responses == 1


@anyio_mark
async def test_a_429_without_retry_after_waits_the_backoff(clock: VirtualClock, router: Any) -> None:
    sent: list[float] = []
    answers = iter([httpx.Response(429), httpx.Response(200, json={})])

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(clock.now)
        return next(answers)

    router.get("/people").mock(side_effect=answer)
    client = make_client(router, clock, random_values=[0.3])
    async with clock.running(), client:
        await client.get("/people")

    assert sent == [0.0, 1.3]


@anyio_mark
async def test_a_429_makes_every_caller_of_that_context_wait(clock: VirtualClock, router: Any) -> None:
    sent: list[tuple[str, float]] = []
    first = iter([httpx.Response(429, headers={"Retry-After": "5"})])

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.path.removeprefix("/v1"), clock.now))
        if request.url.path.endswith("/people"):
            return next(first, httpx.Response(200, json={}))
        return httpx.Response(200, json={})

    router.route().mock(side_effect=answer)
    client = make_client(router, clock)
    async with clock.running(), client:
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.get, "/people")  # 429 at 0 s: FUB says wait 5 s
            await clock.sleep(1.0)
            tg.start_soon(client.get, "/users")  # arrives during the block

    assert sorted(sent, key=lambda s: (s[1], s[0])) == [("/people", 0.0), ("/people", 5.0), ("/users", 5.0)]


@anyio_mark
async def test_a_429_storm_stops_at_the_deadline_with_a_rate_limit_error(clock: VirtualClock, router: Any) -> None:
    route = router.get("/people").respond(429, headers={"Retry-After": "20"}, json={"errorMessage": "slow down"})
    client = make_client(router, clock, max_retries=10, call_deadline=50.0)
    async with clock.running(), client:
        with pytest.raises(RateLimitError) as caught:
            await client.get("/people")

    assert route.call_count == 3  # at 0, 20 and 40 s; waiting 20 s more would end past 50 s
    assert clock.now == 40.0
    assert caught.value.retry_after == 20.0
    assert caught.value.status_code == 429
    assert "retry after 20 s" in str(caught.value)


@anyio_mark
async def test_a_long_retry_after_fails_the_call_now_and_holds_back_the_other_callers(
    clock: VirtualClock, router: Any
) -> None:
    route = router.get("/people").respond(429, headers={"Retry-After": "120"})
    client = make_client(router, clock)
    async with clock.running(), client:
        with pytest.raises(RateLimitError) as limited:
            await client.get("/people")
        with pytest.raises(DeadlineExceededError) as held:
            await client.get("/people/1")

    assert limited.value.retry_after == 120.0
    assert clock.now == 0.0  # nobody slept
    assert route.call_count == 1  # the second call was not sent into a certain 429
    assert held.value.retry_after == 120


@anyio_mark
async def test_a_429_after_the_last_retry_is_a_rate_limit_error(clock: VirtualClock, router: Any) -> None:
    route = router.get("/people").respond(429, headers={"Retry-After": "1"})
    client = make_client(router, clock, max_retries=2)
    async with clock.running(), client:
        with pytest.raises(RateLimitError) as caught:
            await client.get("/people")

    assert route.call_count == 3
    assert caught.value.retry_after == 1.0


@anyio_mark
async def test_a_post_to_notes_is_not_resent_after_a_500(clock: VirtualClock, router: Any) -> None:
    route = router.post("/notes").respond(500, json={"errorMessage": "Internal error"})
    client = make_client(router, clock)
    async with clock.running(), client:
        with pytest.raises(ServerError) as caught:
            await client.post("/notes", {"personId": 1, "body": "Called, left a voicemail"})

    assert route.call_count == 1
    assert clock.sleeps == []
    message = str(caught.value)
    assert "may have stored it" in message
    assert "list the person's notes" in message
    assert client.stats.posts_not_resent == 1


@anyio_mark
async def test_a_post_to_notes_is_not_resent_after_a_read_timeout(clock: VirtualClock, router: Any) -> None:
    route = router.post("/notes").mock(side_effect=httpx.ReadTimeout("timed out"))
    client = make_client(router, clock)
    async with clock.running(), client:
        with pytest.raises(APITimeoutError) as caught:
            await client.post("/notes", {"personId": 1, "body": "x"})

    assert route.call_count == 1
    assert "may have stored it" in str(caught.value)


@anyio_mark
async def test_a_connect_error_on_post_notes_is_retried_because_nothing_was_sent(
    clock: VirtualClock, router: Any
) -> None:
    route = router.post("/notes").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.Response(201, json={"id": 9})]
    )
    client = make_client(router, clock, random_values=[0.0])
    async with clock.running(), client:
        assert await client.post("/notes", {"personId": 1, "body": "x"}) == {"id": 9}

    assert route.call_count == 3
    assert clock.sleeps == [1.0, 2.0]


@anyio_mark
async def test_a_502_on_post_notes_is_not_retried(clock: VirtualClock, router: Any) -> None:
    route = router.post("/notes").respond(502)
    client = make_client(router, clock)
    async with clock.running(), client:
        with pytest.raises(ServerError):
            await client.post("/notes", {"personId": 1, "body": "x"})

    assert route.call_count == 1


@anyio_mark
async def test_post_events_is_retried_after_a_503_because_fub_deduplicates_the_person(
    clock: VirtualClock, router: Any
) -> None:
    route = router.post("/events").mock(side_effect=[httpx.Response(503), httpx.Response(201, json={"id": 5})])
    client = make_client(router, clock, random_values=[0.0])
    async with clock.running(), client:
        assert await client.post("/events", {"source": "site", "type": "Registration"}) == {"id": 5}

    assert route.call_count == 2
    assert clock.sleeps == [1.0]


@anyio_mark
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_idempotent_methods_are_retried_after_5xx_408_and_broken_connections(
    clock: VirtualClock, router: Any, method: str
) -> None:
    route = router.route(method=method, path="/people/1").mock(
        side_effect=[
            httpx.Response(500),
            httpx.Response(408),
            httpx.ReadTimeout("slow"),
            httpx.RemoteProtocolError("closed"),
            httpx.Response(200, json={"id": 1}),
        ]
    )
    client = make_client(router, clock)
    async with clock.running(), client:
        response = await client.request(method, "/people/1", json={"x": 1} if method == "PUT" else None)

    assert response.data == {"id": 1}
    assert route.call_count == 5


@anyio_mark
async def test_a_delete_retry_that_finds_nothing_says_the_first_attempt_may_have_deleted_it(
    clock: VirtualClock, router: Any
) -> None:
    router.delete("/notes/7").mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(404)])
    client = make_client(router, clock)
    async with clock.running(), client:
        with pytest.raises(NotFoundError) as caught:
            await client.delete("/notes/7")

    assert "note 7 not found" in str(caught.value)
    assert "may already have deleted it" in str(caught.value)


@anyio_mark
async def test_client_errors_are_never_retried(clock: VirtualClock, router: Any) -> None:
    route = router.get("/people").respond(400, json={"errorMessage": "Invalid fields in the request body: x"})
    client = make_client(router, clock)
    async with clock.running(), client:
        with pytest.raises(BadRequestError):
            await client.get("/people")

    assert route.call_count == 1


@anyio_mark
async def test_connection_errors_after_the_last_retry_say_fub_could_not_be_reached(
    clock: VirtualClock, router: Any
) -> None:
    route = router.get("/people").mock(side_effect=httpx.ConnectError("refused"))
    client = make_client(router, clock, max_retries=2)
    async with clock.running(), client:
        with pytest.raises(APIConnectionError) as caught:
            await client.get("/people")

    assert route.call_count == 3
    assert "could not reach FUB" in str(caught.value)
    assert not isinstance(caught.value, APITimeoutError)


@anyio_mark
async def test_a_bad_base_url_is_not_retried(clock: VirtualClock) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise httpx.UnsupportedProtocol("no such scheme")

    client = make_client(answer, clock)
    async with clock.running(), client:
        with pytest.raises(APIConnectionError) as caught:
            await client.get("/people")

    assert "FUB_BASE_URL" in str(caught.value)
    assert clock.sleeps == []
