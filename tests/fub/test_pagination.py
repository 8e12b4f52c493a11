"""Pages, cursors and the async iterator over a whole collection."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from fub_mcp.fub import Page, decode_cursor, encode_cursor
from tests.fub.fakes import VirtualClock, make_client

anyio_mark = pytest.mark.anyio


def test_a_page_reads_the_collection_named_in_metadata() -> None:
    data = {
        "_metadata": {"collection": "people", "offset": 50, "limit": 25, "total": 1000, "next": "eyJzaW5jZUlkIjoxMDV9",
                      "nextLink": "https://api.followupboss.com/v1/people?limit=25&&next=eyJzaW5jZUlkIjoxMDV9"},
        "people": [{"id": 950}, {"id": 949}],
    }
    page = Page.from_data(data)
    assert page == Page(items=[{"id": 950}, {"id": 949}], collection="people", total=1000, offset=50, limit=25,
                        next="eyJzaW5jZUlkIjoxMDV9")
    assert page.next_page_params() == {"next": "eyJzaW5jZUlkIjoxMDV9"}
    assert page.has_next_page()


@pytest.mark.parametrize("key", ["textmessages", "customfields", "smartlists", "dealCustomfields"])
def test_a_page_finds_fubs_variously_cased_collection_keys(key: str) -> None:
    with_meta = Page.from_data({"_metadata": {"collection": key, "total": 1}, key: [{"id": 1}]})
    mismatched_case = Page.from_data({"_metadata": {"collection": key.upper()}, key: [{"id": 1}]})
    without_meta = Page.from_data({"count": 3, key: [{"id": 1}]})
    for page in (with_meta, mismatched_case, without_meta):
        assert page.items == [{"id": 1}]
        assert page.collection.lower() == key.lower()


def test_the_cursor_is_taken_from_next_link_when_next_is_missing() -> None:
    page = Page.from_data({"_metadata": {"nextLink": "https://x/v1/events?limit=2&next=abc123"}, "events": [{"id": 1}]})
    assert page.next == "abc123"


def test_without_a_cursor_the_next_page_is_an_offset_while_total_says_more_remain() -> None:
    first = Page.from_data({"_metadata": {"collection": "stages", "offset": 0, "limit": 2, "total": 3},
                            "stages": [{"id": 1}, {"id": 2}]})
    last = Page.from_data({"_metadata": {"collection": "stages", "offset": 2, "limit": 2, "total": 3},
                           "stages": [{"id": 3}]})
    unknown = Page.from_data({"stages": [{"id": 1}]}, limit=1)
    assert first.next_page_params() == {"offset": 2}
    assert last.next_page_params() is None
    assert not last.has_next_page()
    assert unknown.next_page_params() is None


def test_odd_bodies_give_empty_pages() -> None:
    assert Page.from_data(None).items == []
    assert Page.from_data({"_metadata": {}}).items == []
    assert Page.from_data([{"id": 1}, "x"]).items == [{"id": 1}]


def test_a_cursor_round_trips_and_garbage_is_refused() -> None:
    params = {"limit": 10, "next": "eyJzaW5jZUlkIjoxMDV9", "tags": "Buyer,Hot", "includeTrash": True}
    cursor = encode_cursor(params)
    assert cursor.replace("-", "").replace("_", "").isalnum()
    assert decode_cursor(cursor) == params
    for garbage in ["", "!!!", "bm90IGpzb24", encode_cursor([1, 2]), "x" * 10000]:  # type: ignore[list-item]
        with pytest.raises(ValueError) as caught:
            decode_cursor(garbage)
        assert str(caught.value).startswith("invalid cursor: pass next_cursor exactly")


def _people_pages(total: int) -> Any:
    """A FUB-like /people: newest first, a `next` cursor while more remain."""
    ids = list(range(total, 0, -1))

    def answer(request: httpx.Request) -> httpx.Response:
        query = parse_qs(request.url.query.decode())
        limit = int(query["limit"][0])
        start = int(query["next"][0]) if "next" in query else 0
        rows = ids[start : start + limit]
        meta: dict[str, Any] = {"collection": "people", "offset": start, "limit": limit, "total": total}
        if start + limit < total:
            meta["next"] = str(start + limit)
        return httpx.Response(200, json={"_metadata": meta, "people": [{"id": i} for i in rows]})

    return answer


@anyio_mark
async def test_paginate_follows_next_until_fub_gives_no_more(clock: VirtualClock, router: Any) -> None:
    route = router.get("/people").mock(side_effect=_people_pages(250))
    client = make_client(router, clock)
    async with clock.running(), client:
        items = [item async for item in client.paginate("/people", {"sort": "-id"}, max_items=1000)]

    assert [i["id"] for i in items] == list(range(250, 0, -1))
    queries = [dict(call.request.url.params) for call in route.calls]
    assert queries == [
        {"sort": "-id", "limit": "100"},
        {"sort": "-id", "limit": "100", "next": "100"},
        {"sort": "-id", "limit": "100", "next": "200"},
    ]


@anyio_mark
async def test_paginate_stops_at_max_items_and_asks_only_for_what_it_needs(clock: VirtualClock, router: Any) -> None:
    route = router.get("/people").mock(side_effect=_people_pages(500))
    client = make_client(router, clock)
    async with clock.running(), client:
        items = [item async for item in client.paginate("/people", max_items=130, page_size=50)]

    assert len(items) == 130
    assert [call.request.url.params["limit"] for call in route.calls] == ["50", "50", "30"]


@anyio_mark
async def test_paginate_pages_by_offset_when_fub_gives_no_cursor(clock: VirtualClock, router: Any) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("offset", "0"))
        rows = [{"id": i} for i in range(offset, min(offset + 2, 5))]
        return httpx.Response(200, json={"_metadata": {"collection": "customfields", "offset": offset, "limit": 2,
                                                       "total": 5}, "customfields": rows})

    route = router.get("/customFields").mock(side_effect=answer)
    client = make_client(router, clock)
    async with clock.running(), client:
        items = [item async for item in client.paginate("/customFields", max_items=100, page_size=2)]

    assert [i["id"] for i in items] == [0, 1, 2, 3, 4]
    assert [call.request.url.params.get("offset") for call in route.calls] == [None, "2", "4"]


@anyio_mark
async def test_paginate_stops_when_fub_repeats_a_cursor(clock: VirtualClock, router: Any) -> None:
    route = router.get("/events").respond(
        200, json={"_metadata": {"collection": "events", "next": "same"}, "events": [{"id": 1}]}
    )
    client = make_client(router, clock)
    async with clock.running(), client:
        items = [item async for item in client.paginate("/events", max_items=50)]

    assert len(items) == 2
    assert route.call_count == 2


@anyio_mark
async def test_get_page_drops_the_offset_when_a_cursor_is_given_and_caps_the_limit(
    clock: VirtualClock, router: Any
) -> None:
    route = router.get("/people").mock(side_effect=_people_pages(300))
    client = make_client(router, clock)
    async with clock.running(), client:
        page = await client.get_page("/people", {"offset": 40, "next": "100", "limit": 500})

    assert dict(route.calls.last.request.url.params) == {"next": "100", "limit": "100"}
    assert page.items[0] == {"id": 200}
    assert page.next_page_params() == {"next": "200"}
