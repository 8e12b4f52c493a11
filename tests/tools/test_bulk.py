"""Bulk tools (import_leads, bulk_update_people) against the sandbox, in both protocol eras."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client

from fub_mcp.fub.pagination import decode_cursor
from fub_mcp.server.build import build_server
from fub_mcp.tools import bulk
from tests.tools.conftest import make_context, make_settings, requests_seen
from tests.tools.test_leads import hint_table
from tests.tools.test_people import call, error_text

pytestmark = pytest.mark.anyio


@pytest.fixture
async def no_time_client(sandbox_app: Any, mode: str) -> AsyncIterator[Client]:
    """A client whose bulk time budget is already spent: each call does exactly one item."""
    settings = make_settings()
    context = make_context(sandbox_app, settings)
    context.extras["bulk_time_budget"] = 0
    async with context.client:
        async with Client(build_server(settings, context), mode=mode, cache=None) as mcp_client:
            yield mcp_client


def lead(n: int, **extra: Any) -> dict[str, Any]:
    return {"type": "Registration", "source": "Open House", "first_name": f"Guest{n}", "last_name": "Visitor",
            "emails": [f"guest{n}@example.org"], **extra}


async def tags_of(client: Client, person_id: int) -> list[str]:
    return (await call(client, "get_person", {"person_id": person_id}))["tags"]


def test_bulk_tools_declare_honest_hints_and_are_off_by_default() -> None:
    assert hint_table(bulk.TOOLSET) == {
        "import_leads": (False, True, False, True),
        "bulk_update_people": (False, True, True, True),
    }
    assert bulk.TOOLSET.default is False


# --- import_leads -----------------------------------------------------------------------------------

async def test_import_leads_reports_each_row_and_sends_fub_events(client: Client, sandbox_app: Any) -> None:
    existing = (await call(client, "search_people", {"limit": 20}))["items"]
    known = next(p for p in existing if p.get("email"))
    rows = [
        lead(1, tags=["Open House"], property={"street": "12 Oak St", "code": "78701", "mls_number": "M1"}),
        {"type": "General Inquiry", "source": "Archived Lead Source", "emails": ["a@example.org"]},
        lead(3, custom_fields={"No Such Field": 1}),
        {"type": "General Inquiry", "source": "Web", "emails": [known["email"]], "message": "Still looking"},
    ]
    result = await call(client, "import_leads", {"leads": rows, "concurrency": 2})
    assert result["total"] == 4
    assert result["counts"] == {
        "created_person": 1, "source_archived": 1, "error": 1, "updated_existing_person": 1
    }
    by_row = {r["index"]: r for r in result["rows"]}
    assert by_row[0]["outcome"] == "created_person" and by_row[0]["person_id"]
    assert by_row[3] == {"index": 3, "outcome": "updated_existing_person", "person_id": known["id"]}
    assert "no custom field matches 'No Such Field'" in by_row[2]["error"]
    sent = [r["json"] for r in requests_seen(sandbox_app, "POST", "/v1/events")]
    assert len(sent) == 3  # the bad row never left
    first = next(body for body in sent if body["person"].get("firstName") == "Guest1")
    assert first["person"] == {
        "firstName": "Guest1", "lastName": "Visitor", "emails": [{"value": "guest1@example.org"}],
        "tags": ["Open House"],
    }
    assert first["property"] == {"street": "12 Oak St", "code": "78701", "mlsNumber": "M1"}
    assert (first["type"], first["source"]) == ("Registration", "Open House")


async def test_import_leads_reports_progress(client: Client) -> None:
    seen: list[tuple[float, float | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total))

    args = {"leads": [lead(n) for n in range(5)]}
    result = await client.call_tool("import_leads", args, progress_callback=progress)
    assert not result.is_error
    assert seen and seen[-1] == (5, 5)


async def test_import_leads_over_100_rows_lists_only_the_failures(client: Client) -> None:
    rows = [lead(n) for n in range(101)] + [lead(999, custom_fields={"Nope": 1})]
    result = await call(client, "import_leads", {"leads": rows, "concurrency": 16})
    assert result["counts"] == {"created_person": 101, "error": 1}
    assert [r["index"] for r in result["rows"]] == [101] and "only failures" in result["note"]


async def test_import_leads_out_of_time_says_which_rows_were_not_sent(no_time_client: Client) -> None:
    result = await call(no_time_client, "import_leads", {"leads": [lead(n) for n in range(3)]})
    assert result["counts"] == {"created_person": 1, "not_sent": 2} and result["next_index"] == 1


async def test_import_leads_refuses_more_than_500_rows(client: Client) -> None:
    assert "500" in await error_text(client, "import_leads", {"leads": [lead(n) for n in range(501)]})


# --- bulk_update_people -----------------------------------------------------------------------------

async def test_add_tags_merges_with_one_put_per_person(client: Client, sandbox_app: Any) -> None:
    before = await tags_of(client, 3)
    result = await call(client, "bulk_update_people", {"person_ids": [1, 2, 3, 99999], "add_tags": ["VIP"]})
    assert result["counts"] == {"updated": 3, "not_found": 1} and not result["has_more"]
    assert {"id": 99999, "outcome": "not_found"} in result["results"]
    puts = requests_seen(sandbox_app, "PUT", "/v1/people/")
    assert len(puts) == 4
    assert all(p["query"] == {"mergeTags": "true"} and p["json"] == {"tags": ["VIP"]} for p in puts)
    assert await tags_of(client, 3) == [*before, "VIP"]


async def test_remove_tags_reads_tags_in_one_request_and_writes_the_rest(
    client: Client, sandbox_app: Any
) -> None:
    await call(client, "bulk_update_people", {"person_ids": [1, 2], "add_tags": ["VIP", "Golf"]})
    before = await tags_of(client, 1)
    result = await call(client, "bulk_update_people", {
        "person_ids": [1, 2, 3, 99999], "remove_tags": ["vip"], "stage": "Prospect",
        "assigned_to": "Priya Shah",
    })
    assert result["counts"] == {"updated": 3, "not_found": 1}
    reads = requests_seen(sandbox_app, "GET", "/v1/people")
    assert reads[-1]["query"]["fields"] == "id,tags"
    assert set(reads[-1]["query"]["id"].split(",")) == {"1", "2", "3", "99999"}
    put = next(p for p in requests_seen(sandbox_app, "PUT", "/v1/people/1") if "stage" in p["json"])
    assert put["json"] == {
        "stage": "Prospect", "assignedUserId": 3, "tags": [t for t in before if t != "VIP"]
    }
    person = await call(client, "get_person", {"person_id": 1})
    assert (person["stage"], person["assigned_to"]) == ("Prospect", "Priya Shah") and "Golf" in person["tags"]


async def test_removing_a_tag_nobody_has_changes_nothing(client: Client, sandbox_app: Any) -> None:
    result = await call(client, "bulk_update_people", {"person_ids": [1, 2], "remove_tags": ["No Such Tag"]})
    assert result["counts"] == {"unchanged": 2}
    assert not requests_seen(sandbox_app, "PUT", "/v1/people/")


async def test_filters_select_the_people_highest_id_first_up_to_max_people(
    client: Client, sandbox_app: Any
) -> None:
    hot = (await call(client, "search_people", {"tags": ["Hot Lead"], "limit": 100}))["items"]
    args = {"match_tags": ["Hot Lead"], "add_tags": ["Call Today"], "max_people": 2}
    result = await call(client, "bulk_update_people", args)
    assert [r["id"] for r in result["results"]] == sorted((p["id"] for p in hot), reverse=True)[:2]
    assert "more people match than max_people" in result["note"]
    search = requests_seen(sandbox_app, "GET", "/v1/people")[-1]["query"]
    assert (search["tags"], search["sort"]) == ("Hot Lead", "-id")


async def test_an_out_of_time_job_resumes_by_cursor_until_done(no_time_client: Client) -> None:
    args = {"person_ids": [5, 6, 7], "add_tags": ["Resumed"]}
    seen: list[int] = []
    result = await call(no_time_client, "bulk_update_people", args)
    for _ in range(5):
        seen += [r["id"] for r in result["results"]]
        if not result["has_more"]:
            break
        assert "people left for the next call" in result["note"]
        result = await call(no_time_client, "bulk_update_people", {**args, "cursor": result["next_cursor"]})
    assert seen == [7, 6, 5] and not result["has_more"]
    assert result["counts_so_far"] == {"updated": 3}


async def test_a_search_job_resumes_below_the_people_already_done(
    no_time_client: Client, sandbox_app: Any
) -> None:
    args = {"match_stage": "Closed", "add_tags": ["Closed Club"], "max_people": 2}
    first = await call(no_time_client, "bulk_update_people", args)
    second = await call(no_time_client, "bulk_update_people", {**args, "cursor": first["next_cursor"]})
    assert second["results"][0]["id"] < first["results"][0]["id"] and not second["has_more"]
    search = requests_seen(sandbox_app, "GET", "/v1/people")[-1]["query"]
    assert search["idLessThan"] == str(first["results"][0]["id"])


async def test_a_cursor_only_works_with_the_same_arguments(no_time_client: Client) -> None:
    first = await call(no_time_client, "bulk_update_people", {"person_ids": [5, 6], "add_tags": ["A"]})
    text = await error_text(no_time_client, "bulk_update_people",
                            {"person_ids": [5, 6], "add_tags": ["B"], "cursor": first["next_cursor"]})
    assert "cursor belongs to other arguments" in text


async def test_bulk_update_reports_progress(client: Client) -> None:
    seen: list[tuple[float, float | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total))

    result = await client.call_tool("bulk_update_people", {"person_ids": [1, 2, 3], "add_tags": ["P"]},
                                    progress_callback=progress)
    assert not result.is_error and seen[-1] == (3, 3)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ({"add_tags": ["x"]}, "either person_ids or match_* filters"),
        ({"person_ids": [1], "match_stage": "Lead", "add_tags": ["x"]}, "either person_ids or match_*"),
        ({"person_ids": [1]}, "nothing to change"),
        ({"person_ids": [1], "add_tags": ["X"], "remove_tags": ["x"]}, "both added and removed"),
        ({"match_stage": "Nope", "add_tags": ["x"]}, "no person stage matches 'Nope'"),
        ({"person_ids": [1], "add_tags": ["x"], "cursor": "garbage"}, "invalid cursor"),
    ],
)
async def test_bulk_update_refuses_unclear_requests(client: Client, args: dict[str, Any], says: str) -> None:
    assert says in await error_text(client, "bulk_update_people", args)


async def test_a_person_held_up_by_the_rate_limit_is_redone_by_the_next_call(
    no_time_client: Client, sandbox_app: Any
) -> None:
    sandbox_app.state.sandbox.faults.inject("rate_limit", retry_after=60, route="PUT /people/7")
    args = {"person_ids": [5, 6, 7], "add_tags": ["Later"]}
    result = await call(no_time_client, "bulk_update_people", args)
    assert result["processed"] == 0 and result["has_more"]
    state = decode_cursor(result["next_cursor"])
    assert (state["redo"], state["below"]) == ([7], 7)
    sandbox_app.state.sandbox.faults.inject("rate_limit", retry_after=60, route="PUT /people/7")
    again = await call(no_time_client, "bulk_update_people", {**args, "cursor": result["next_cursor"]})
    assert again["results"] == [{"id": 7, "outcome": "error", "error": again["results"][0]["error"]}]
    assert "twice" in again["results"][0]["error"] and again["has_more"]
