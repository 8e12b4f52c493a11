"""The client on the wire: headers, params, bodies, and every FUB error status mapped."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from fub_mcp import __version__
from fub_mcp.config import Settings
from fub_mcp.fub import (
    APIError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    FUBAuth,
    FUBClient,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from fub_mcp.fub.client import encode_params
from tests.fub.fakes import API_KEY, BASE_URL, SYSTEM, SYSTEM_KEY, VirtualClock, make_client

anyio_mark = pytest.mark.anyio

# base64("fubkey_live_9f8e7d6c5b4a:"), written out so the test does not reuse the code under test.
EXPECTED_AUTHORIZATION = "Basic ZnVia2V5X2xpdmVfOWY4ZTdkNmM1YjRhOg=="


@anyio_mark
async def test_every_request_carries_basic_auth_the_system_headers_and_the_user_agent(
    clock: VirtualClock, router: Any
) -> None:
    route = router.route().respond(200, json={})
    client = make_client(router, clock, system=SYSTEM, system_key=SYSTEM_KEY)
    async with clock.running(), client:
        await client.get("/people/12")
        await client.post("/notes", {"personId": 12, "body": "hi"})

    for call in route.calls:
        headers = call.request.headers
        assert headers["Authorization"] == EXPECTED_AUTHORIZATION
        assert headers["X-System"] == SYSTEM
        assert headers["X-System-Key"] == SYSTEM_KEY
        assert headers["User-Agent"] == f"fub-mcp/{__version__} (+https://github.com/fub-mcp/fub-mcp)"
        assert headers["Accept"] == "application/json"
    get, post = (call.request for call in route.calls)
    assert str(get.url) == f"{BASE_URL}/people/12"
    assert "Content-Type" not in get.headers
    assert post.headers["Content-Type"] == "application/json"
    assert json.loads(post.content) == {"personId": 12, "body": "hi"}


@anyio_mark
async def test_without_a_registered_system_no_system_headers_are_sent(clock: VirtualClock, router: Any) -> None:
    route = router.get("/me").respond(200, json={})
    client = make_client(router, clock)
    async with clock.running(), client:
        await client.get("/me")

    headers = route.calls.last.request.headers
    assert headers["Authorization"] == EXPECTED_AUTHORIZATION
    assert "X-System" not in headers
    assert "X-System-Key" not in headers
    assert client.registered is False


def test_query_params_drop_none_write_bools_as_words_and_join_lists() -> None:
    params = {"limit": 10, "includeTrash": True, "isCompleted": False, "tags": ["a", "b"], "stage": None}
    assert encode_params(params) == [
        ("limit", "10"),
        ("includeTrash", "true"),
        ("isCompleted", "false"),
        ("tags", "a,b"),
    ]


@anyio_mark
async def test_params_reach_fub_as_query_string(clock: VirtualClock, router: Any) -> None:
    route = router.get("/people").respond(200, json={"people": []})
    client = make_client(router, clock)
    async with clock.running(), client:
        await client.get("/people?sort=-created", {"limit": 5, "includeTrash": True, "id": [1, 2], "q": None})

    assert dict(route.calls.last.request.url.params) == {
        "sort": "-created",
        "limit": "5",
        "includeTrash": "true",
        "id": "1,2",
    }


@anyio_mark
async def test_a_204_or_empty_body_gives_none(clock: VirtualClock, router: Any) -> None:
    router.post("/events").respond(204)
    router.delete("/notes/1").respond(200, content=b"")
    client = make_client(router, clock)
    async with clock.running(), client:
        response = await client.request("POST", "/events", json={"source": "x"})
        assert await client.delete("/notes/1") is None

    assert response.status_code == 204
    assert response.data is None


@pytest.mark.parametrize(
    ("status", "body", "error_class", "says"),
    [
        (400, {"errorMessage": "Invalid fields in the request body: agentCommision"}, BadRequestError,
         "Invalid fields in the request body: agentCommision"),
        (401, {"errorMessage": "Unauthorized"}, AuthenticationError, "missing or invalid"),
        (403, {"errorMessage": "You do not have access to this resource"}, PermissionDeniedError, "expired"),
        (404, {"errorMessage": "This resource does not exist"}, NotFoundError, "person 12 not found"),
        (409, {"errorMessage": "Conflict"}, APIStatusError, "409"),
    ],
)
@anyio_mark
async def test_each_error_status_maps_to_its_error_class(
    clock: VirtualClock, router: Any, status: int, body: dict[str, str], error_class: type, says: str
) -> None:
    router.get("/people/12").respond(status, json=body)
    client = make_client(router, clock)
    async with clock.running(), client:
        with pytest.raises(error_class) as caught:
            await client.get("/people/12")

    error = caught.value
    assert type(error) is error_class
    assert error.status_code == status
    assert error.error_message == body["errorMessage"]
    assert (error.method, error.path) == ("GET", "/people/12")
    assert says in str(error)


@anyio_mark
async def test_a_403_on_a_registered_only_endpoint_says_a_registered_system_is_required(
    clock: VirtualClock, router: Any
) -> None:
    router.get("/webhooks").respond(403, json={"errorMessage": "Only registered systems can call this endpoint"})
    client = make_client(router, clock)
    async with clock.running(), client:
        with pytest.raises(PermissionDeniedError) as caught:
            await client.get("/webhooks")

    assert "registered system" in str(caught.value)
    assert "FUB_SYSTEM" in str(caught.value)


@anyio_mark
async def test_429_and_5xx_map_to_their_errors_when_no_retry_is_left(clock: VirtualClock, router: Any) -> None:
    router.get("/people").respond(429, headers={"Retry-After": "7"})
    router.get("/users").respond(503, text="<html>Service Unavailable</html>")
    client = make_client(router, clock, max_retries=0)
    async with clock.running(), client:
        with pytest.raises(RateLimitError) as limited:
            await client.get("/people")
        with pytest.raises(ServerError) as down:
            await client.get("/users")

    assert limited.value.retry_after == 7.0
    assert "retry after 7 s" in str(limited.value)
    assert down.value.status_code == 503
    assert down.value.error_message is None  # an HTML page is not FUB's errorMessage
    assert "FUB is unavailable" in str(down.value)


@anyio_mark
async def test_a_non_json_error_body_still_gives_the_status_error(clock: VirtualClock, router: Any) -> None:
    router.get("/people/3").respond(404, text="Not Found")
    client = make_client(router, clock)
    async with clock.running(), client:
        with pytest.raises(NotFoundError) as caught:
            await client.get("/people/3")

    assert caught.value.error_message is None


@anyio_mark
async def test_a_malformed_success_body_is_retried_for_get_then_reported(clock: VirtualClock, router: Any) -> None:
    route = router.get("/people").mock(
        side_effect=[httpx.Response(200, content=b"{not json"), httpx.Response(200, json={"people": []})]
    )
    router.get("/users").respond(200, content=b"<html>")
    client = make_client(router, clock, max_retries=1)
    async with clock.running(), client:
        assert await client.get("/people") == {"people": []}
        with pytest.raises(APIError) as caught:
            await client.get("/users")

    assert route.call_count == 2
    assert type(caught.value) is APIError
    assert "FUB sent a malformed response" in str(caught.value)


@anyio_mark
async def test_a_malformed_success_body_on_a_post_is_not_resent(clock: VirtualClock, router: Any) -> None:
    route = router.post("/events").respond(201, content=b"oops")
    client = make_client(router, clock)
    async with clock.running(), client:
        with pytest.raises(APIError) as caught:
            await client.post("/events", {"source": "x"})

    assert route.call_count == 1
    assert "malformed" in str(caught.value)


@anyio_mark
async def test_absolute_urls_are_refused_so_the_key_never_goes_elsewhere(clock: VirtualClock, router: Any) -> None:
    client = make_client(router, clock)
    async with clock.running(), client:
        with pytest.raises(ValueError):
            await client.get("https://evil.example/steal")
    assert not router.calls


def test_reprs_never_show_the_keys() -> None:
    auth = FUBAuth(API_KEY, system=SYSTEM, system_key=SYSTEM_KEY)
    client = FUBClient(api_key=API_KEY, system=SYSTEM, system_key=SYSTEM_KEY)
    for text in (repr(auth), str(auth), repr(client), str(client)):
        assert API_KEY not in text
        assert SYSTEM_KEY not in text
        assert EXPECTED_AUTHORIZATION.split()[1] not in text
    assert SYSTEM in repr(auth)


def test_from_settings_uses_the_settings_and_registered_limits() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        api_key=API_KEY,
        system=SYSTEM,
        system_key=SYSTEM_KEY,
        max_retries=2,
        rate_limit_events=7,
    )
    client = FUBClient.from_settings(settings, transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    assert client.registered is True
    assert client.base_url == BASE_URL
    assert client.audit is None
    assert client.limiter.context_for("GET", "/events") == "events"


@anyio_mark
async def test_from_settings_rate_limits_reach_the_limiter() -> None:
    settings = Settings(_env_file=None, api_key=API_KEY, system=SYSTEM, system_key=SYSTEM_KEY,  # type: ignore[call-arg]
                        rate_limit_events=7)
    client = FUBClient.from_settings(settings)
    async with client:
        assert (await client.limiter.limit_for("global")).limit == 250
        assert (await client.limiter.limit_for("events")).limit == 7
        assert (await client.limiter.limit_for("POST.events")).limit is None


def test_from_settings_without_an_api_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        FUBClient.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert "FUB_API_KEY" in str(caught.value)


@anyio_mark
async def test_stats_count_calls_sends_and_retries(clock: VirtualClock, router: Any) -> None:
    router.get("/people").mock(side_effect=[httpx.Response(500), httpx.Response(200, json={})])
    client = make_client(router, clock)
    async with clock.running(), client:
        await client.get("/people")

    stats = client.stats
    assert (stats.calls, stats.requests_sent, stats.retries, stats.server_errors) == (1, 2, 1, 1)
    assert stats.in_flight == 0
    assert stats.max_in_flight == 1


@anyio_mark
async def test_the_client_closes_its_connection_pool(clock: VirtualClock, router: Any) -> None:
    client = make_client(router, clock)
    async with client:
        pass
    assert client._http.is_closed
