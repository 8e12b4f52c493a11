"""Insights tools and prompts against the sandbox, in both protocol eras."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from mcp import Client

from fub_mcp.sandbox import SANDBOX_API_KEY, SANDBOX_SYSTEM, SANDBOX_SYSTEM_KEY
from fub_mcp.server.build import build_server
from fub_mcp.tools import ALL_TOOLSETS
from tests.tools.conftest import call, error_text, make_context, make_settings, requests_seen

pytestmark = pytest.mark.anyio

TOOLS = {t.name: t for ts in ALL_TOOLSETS if ts.id == "insights" for t in ts.tools}


# --- the sandbox's own HTTP API (to craft histories and to check results independently) ------------

def sandbox_http(sandbox_app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox_app),
        base_url="http://sandbox/v1",
        auth=(SANDBOX_API_KEY, ""),
        headers={"X-System": SANDBOX_SYSTEM, "X-System-Key": SANDBOX_SYSTEM_KEY},
    )


async def api(sandbox_app: Any, method: str, path: str, **kwargs: Any) -> Any:
    async with sandbox_http(sandbox_app) as http:
        response = await http.request(method, path, **kwargs)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


async def api_all(sandbox_app: Any, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every item of a collection, following FUB's `next` cursor / offset, straight from the sandbox."""
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {**(params or {}), "limit": 100}
    async with sandbox_http(sandbox_app) as http:
        while True:
            body = (await http.get(path, params=query)).json()
            meta = body["_metadata"]
            page = body[meta["collection"]]
            items.extend(page)
            if meta.get("next"):
                query = {**(params or {}), "limit": 100, "next": meta["next"]}
            elif page and meta.get("total") is not None and meta["offset"] + len(page) < meta["total"]:
                query = {**(params or {}), "limit": 100, "offset": meta["offset"] + len(page)}
            else:
                return items


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- a client whose server runs on an injected clock ------------------------------------------------

@pytest.fixture
def clock() -> dict[str, datetime]:
    return {"now": datetime.now(UTC)}


@pytest.fixture
async def clocked(sandbox_app: Any, mode: str, clock: dict[str, datetime]) -> AsyncIterator[Client]:
    settings = make_settings()
    context = make_context(sandbox_app, settings)
    context.extras["clock"] = lambda: clock["now"]
    async with context.client:
        async with Client(build_server(settings, context), mode=mode, cache=None) as mcp_client:
            yield mcp_client


# --- annotations ------------------------------------------------------------------------------------

def test_every_insights_tool_is_read_only_except_the_score_writer() -> None:
    assert set(TOOLS) == {
        "score_leads", "write_lead_scores", "check_fair_housing", "lead_timeline", "stale_leads",
        "pipeline_summary", "my_day",
    }
    for name, tool in TOOLS.items():
        hints = tool.annotations
        if name == "write_lead_scores":
            assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint) == (False, True, True)
        else:
            assert hints.read_only_hint and not hints.destructive_hint, name
        assert hints.open_world_hint is False


def test_read_only_mode_keeps_every_insights_tool_but_the_writer() -> None:
    from fub_mcp.server.build import select_tools

    names = {t.name for t in select_tools(make_settings(read_only=True, toolsets=["insights"]))}
    assert names == set(TOOLS) - {"write_lead_scores"}


# --- score_leads -------------------------------------------------------------------------------------

async def craft_two_leads(sandbox_app: Any, now: datetime) -> tuple[int, int]:
    """A lead who inquired yesterday, texted back and has a showing booked; one silent for 90 days."""
    hot = await api(sandbox_app, "POST", "/events", json={
        "source": "Website", "type": "Property Inquiry", "occurredAt": iso(now - timedelta(days=1)),
        "message": "Is 12 Oak St still available? Can I see it Thursday?",
        "person": {"firstName": "Hattie", "lastName": "Hotlead", "emails": [{"value": "hattie@example.org"}],
                   "phones": [{"value": "512-555-0199"}]},
        "property": {"street": "12 Oak St", "city": "Austin", "state": "TX", "code": "78701", "price": 450000},
    })
    cold = await api(sandbox_app, "POST", "/people", json={
        "firstName": "Cole", "lastName": "Silent", "source": "Website", "createdAt": iso(now - timedelta(days=90)),
        "emails": [{"value": "cole@example.org"}], "phones": [{"value": "512-555-0198"}],
    })
    await api(sandbox_app, "POST", "/events", json={
        "source": "Website", "type": "Property Inquiry", "occurredAt": iso(now - timedelta(days=90)),
        "message": "Send me info on 9 Elm St.", "person": {"id": cold["id"]},
        "property": {"street": "9 Elm St", "city": "Austin", "state": "TX", "code": "78704", "price": 450000},
    })
    await api(sandbox_app, "POST", "/textMessages", json={
        "personId": hot["id"], "message": "Yes please, Thursday works!", "toNumber": "512-555-0111",
        "fromNumber": "512-555-0199", "isIncoming": True,
    })
    start = now + timedelta(days=2)
    await api(sandbox_app, "POST", "/appointments", json={
        "title": "Showing - 12 Oak St", "start": iso(start), "end": iso(start + timedelta(hours=1)),
        "invitees": [{"personId": hot["id"], "name": "Hattie Hotlead"}, {"userId": 1, "name": "Olivia Owner"}],
    })
    return hot["id"], cold["id"]


async def test_a_fresh_inquiry_with_a_booked_showing_outranks_a_lead_silent_for_90_days(
    client: Client, sandbox_app: Any
) -> None:
    hot_id, cold_id = await craft_two_leads(sandbox_app, datetime.now(UTC))
    scores = await call(client, "score_leads", {"person_ids": [cold_id, hot_id], "mode": "deep"})
    assert scores["mode"] == "deep" and scores["scored"] == 2
    hot, cold = scores["items"]
    assert (hot["id"], cold["id"]) == (hot_id, cold_id)
    assert hot["overall"] > cold["overall"] + 30
    assert hot["recency"]["score"] > 80 and cold["recency"]["score"] < 5
    assert any("showing booked" in s for s in hot["intent"]["signals"])
    assert any("inquiry, latest yesterday" in s for s in hot["intent"]["signals"])
    assert any("from the lead (1 text)" in s for s in hot["engagement"]["signals"])
    assert any("3 months ago" in s for s in cold["recency"]["signals"])
    assert cold["band"] in ("cold", "cool") and hot["band"] in ("hot", "warm")


async def test_score_leads_fast_mode_scores_the_account_from_list_calls_only(client: Client, sandbox_app: Any) -> None:
    scores = await call(client, "score_leads", {"limit": 5})
    assert scores["mode"] == "fast" and scores["scored"] > 200 and len(scores["items"]) == 5
    overall = [i["overall"] for i in scores["items"]]
    assert overall == sorted(overall, reverse=True)
    assert sum(scores["bands"].values()) == scores["scored"]
    for item in scores["items"]:
        for part in ("engagement", "intent", "recency", "velocity", "quality"):
            assert 0 <= item[part]["score"] <= 100 and item[part]["signals"], part
    paths = {r["path"] for r in requests_seen(sandbox_app, "GET")}
    assert not any(p.startswith(("/v1/events", "/v1/calls", "/v1/textMessages")) for p in paths)
    people_reads = requests_seen(sandbox_app, "GET", "/v1/people")
    assert len(people_reads) <= 4 and all(r["query"]["limit"] == "100" for r in people_reads)


async def test_scoring_5000_people_costs_about_50_list_requests(client: Client, sandbox_app: Any) -> None:
    db = sandbox_app.state.sandbox.db
    template = {k: v for k, v in db.get("people", 1).items() if k != "id"}
    db.insert_many("people", [
        {**template, "id": 10_000 + i, "name": f"Bulk Lead{i}", "firstName": "Bulk", "lastName": f"Lead{i}"}
        for i in range(5000)
    ])
    scores = await call(client, "score_leads", {"max_people": 5000, "limit": 3})
    assert scores["scored"] == 5000 and "capped at the newest 5000" in scores["note"]
    people_reads = requests_seen(sandbox_app, "GET", "/v1/people")
    assert len(people_reads) <= 51  # 50 pages of 100, plus one 1-item read to tell whether more exist
    per_person = [r for r in requests_seen(sandbox_app, "GET") if "personId" in r["query"]]
    assert not per_person
    assert len(requests_seen(sandbox_app, "GET", "/v1/deals")) <= 10


async def test_score_leads_reports_progress_for_many_people(client: Client) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    await call(client, "score_leads", {"limit": 1}, progress_callback=progress)
    assert seen and seen[-1][0] == seen[-1][1]


async def test_score_leads_deep_mode_refuses_more_than_50_people(client: Client) -> None:
    text = await error_text(client, "score_leads", {"mode": "deep", "max_people": 200})
    assert "limited to 50 people" in text


async def test_score_leads_with_an_unknown_smart_list_lists_the_choices(client: Client) -> None:
    text = await error_text(client, "score_leads", {"smart_list": "No Such List"})
    assert "no smart list matches" in text and "Hot Leads" in text


async def test_score_leads_names_ids_it_could_not_find(client: Client) -> None:
    scores = await call(client, "score_leads", {"person_ids": [1, 987654]})
    assert scores["scored"] == 1 and "987654" in scores["note"]


# --- write_lead_scores ---------------------------------------------------------------------------------

async def test_write_lead_scores_sends_the_custom_field_names_and_skips_current_scores(
    client: Client, sandbox_app: Any
) -> None:
    ids = [p["id"] for p in (await call(client, "search_people", {"limit": 5}))["items"]]
    result = await call(client, "write_lead_scores", {"person_ids": ids})
    assert result["status"] == "written" and result["written"] == 5 and result["failed"] == 0
    assert (result["score_field"], result["reason_field"]) == ("customLeadScore", "customLeadScoreReason")
    puts = requests_seen(sandbox_app, "PUT", "/v1/people/")
    assert len(puts) == 5
    for put in puts:
        assert set(put["json"]) == {"customLeadScore", "customLeadScoreReason"}
        assert isinstance(put["json"]["customLeadScore"], int)
        assert put["json"]["customLeadScoreReason"].startswith(f"{put['json']['customLeadScore']} ")
    stored = await api(sandbox_app, "GET", f"/people/{ids[0]}", params={"fields": "allFields"})
    sent = next(p["json"] for p in puts if p["path"] == f"/v1/people/{ids[0]}")
    assert stored["customLeadScore"] == sent["customLeadScore"]
    again = await call(client, "write_lead_scores", {"person_ids": ids})
    assert again["written"] == 0 and again["unchanged"] == 5
    assert len(requests_seen(sandbox_app, "PUT", "/v1/people/")) == 5


async def test_write_lead_scores_explains_which_fields_to_create_and_writes_nothing(
    client: Client, sandbox_app: Any
) -> None:
    # An account without the fields (the sandbox has no DELETE /customFields/{id}: remove them from its store).
    for field in await api_all(sandbox_app, "/customFields"):
        if field["name"] in ("customLeadScore", "customLeadScoreReason"):
            sandbox_app.state.sandbox.db.delete("customfields", field["id"])
    result = await call(client, "write_lead_scores", {"person_ids": [1, 2]})
    assert result["status"] == "missing_fields" and result["written"] == 0
    assert [(m["label"], m["type"], m["required"]) for m in result["missing_fields"]] == [
        ("Lead Score", "Number", True), ("Lead Score Reason", "Text", False)
    ]
    assert "Admin > Custom Fields" in result["instructions"]
    assert not requests_seen(sandbox_app, "PUT", "/v1/people/")


async def test_write_lead_scores_reports_progress(client: Client) -> None:
    seen: list[tuple[float, float | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total))

    result = await call(client, "write_lead_scores", {"stage": "Under Contract"}, progress_callback=progress)
    assert result["written"] > 0
    assert (result["written"], result["written"]) in seen


# --- check_fair_housing -------------------------------------------------------------------------------

async def test_check_fair_housing_passes_neutral_text_and_flags_a_protected_class(client: Client) -> None:
    fine = await call(client, "check_fair_housing", {"text": "Three bedrooms, a big yard, close to the park."})
    assert fine["ok"] is True and fine["findings"] == [] and fine["disclaimer"]
    flagged = await call(client, "check_fair_housing", {"text": "Perfect for a young couple, no kids please."})
    assert flagged["ok"] is False and flagged["findings"]


async def test_check_fair_housing_returns_each_finding_with_a_rewrite(client: Client) -> None:
    flagged = await call(client, "check_fair_housing", {"text": "Quiet street, no kids please."})
    assert flagged["ok"] is False and "not legal advice" in flagged["disclaimer"]
    [finding] = flagged["findings"]
    assert finding["phrase"] == "no kids" and finding["category"] == "familial status"
    assert finding["suggestion"] and finding["explanation"]
    result = await client.call_tool("check_fair_housing", {"text": "Quiet street, no kids please."})
    assert "revise before sending" in result.content[0].text
    fine = await call(client, "check_fair_housing", {"text": "Quiet street, walk-in closet, family room."})
    assert fine["ok"] is True and fine["findings"] == []


async def test_check_fair_housing_docstring_carries_the_disclaimer() -> None:
    assert "not legal advice" in TOOLS["check_fair_housing"].description


# --- lead_timeline ------------------------------------------------------------------------------------

async def test_lead_timeline_merges_every_kind_newest_first_and_marks_lead_text(client: Client, sandbox_app: Any) -> None:
    person_id = next(
        t["personId"] for t in (await api(sandbox_app, "GET", "/calls", params={"limit": 100}))["calls"]
    )
    timeline = await call(client, "lead_timeline", {"person_id": person_id, "limit": 100})
    assert timeline["person_id"] == person_id and timeline["items"]
    moments = [i["at"] for i in timeline["items"] if "T" in i.get("at", "")]
    assert moments == sorted(moments, reverse=True)
    assert "call" in {i["kind"] for i in timeline["items"]}
    for item in timeline["items"]:
        if item["kind"] == "text" and item["direction"] == "in":
            assert set(item["lead_text"]) == {"untrusted"} and "text" not in item
        if item["kind"] == "event" and "lead_text" in item:
            assert set(item["lead_text"]) == {"untrusted"}


async def test_lead_timeline_can_keep_only_some_kinds(client: Client, sandbox_app: Any) -> None:
    person_id = (await api(sandbox_app, "GET", "/notes", params={"limit": 1}))["notes"][0]["personId"]
    timeline = await call(client, "lead_timeline", {"person_id": person_id, "kinds": ["note"]})
    assert timeline["items"] and {i["kind"] for i in timeline["items"]} == {"note"}
    assert not requests_seen(sandbox_app, "GET", "/v1/events")


async def test_lead_timeline_of_a_missing_person_says_not_found(client: Client) -> None:
    assert "not found" in await error_text(client, "lead_timeline", {"person_id": 987654})


# --- stale_leads --------------------------------------------------------------------------------------

async def test_stale_leads_have_no_two_way_contact_in_n_days_and_are_ranked_by_score(
    client: Client, sandbox_app: Any
) -> None:
    result = await call(client, "stale_leads", {"days": 30, "limit": 50})
    assert result["items"] and result["scanned"] > 200
    cutoff = datetime.now(UTC) - timedelta(days=30)
    for item in result["items"]:
        assert item["stage"] not in ("Trash", "Closed", "Past Client")
        if item.get("last_two_way"):
            assert datetime.fromisoformat(item["last_two_way"].replace("Z", "+00:00")) <= cutoff
    scores = [i["score"] for i in result["items"]]
    assert scores == sorted(scores, reverse=True)
    # Independently: nobody listed has an incoming call or text in the last 30 days.
    listed = {i["id"] for i in result["items"]}
    recent_in = set()
    for path, key in (("/calls", "created"), ("/textMessages", "created")):
        for pid in listed:
            for row in await api_all(sandbox_app, path, {"personId": pid}):
                if row.get("isIncoming") and datetime.fromisoformat(row[key].replace("Z", "+00:00")) > cutoff:
                    recent_in.add(pid)
    assert not recent_in


async def test_stale_leads_for_an_unknown_agent_lists_the_users(client: Client) -> None:
    text = await error_text(client, "stale_leads", {"assigned_to": "Nobody Atall"})
    assert "no user matches" in text and "Olivia Owner" in text


# --- pipeline_summary ---------------------------------------------------------------------------------

async def test_pipeline_summary_matches_a_direct_computation_over_the_sandbox(client: Client, sandbox_app: Any) -> None:
    summary = await call(client, "pipeline_summary", {})
    deals = await api_all(sandbox_app, "/deals")
    pipelines = await api_all(sandbox_app, "/pipelines")
    assert summary["total_deals"] == len(deals) and not summary["capped"]
    expected_total = sum((Decimal(str(d["price"])) for d in deals if d.get("price") is not None), Decimal(0))
    assert Decimal(str(summary["total_price"])) == expected_total.quantize(Decimal("0.01"))
    by_name = {p["name"]: p for p in summary["pipelines"]}
    assert set(by_name) == {p["name"] for p in pipelines}
    for pipeline in pipelines:
        out = by_name[pipeline["name"]]
        assert [s["name"] for s in out["stages"]] == [s["name"] for s in pipeline["stages"]]
        for stage, stage_out in zip(pipeline["stages"], out["stages"], strict=True):
            mine = [d for d in deals if d["stageId"] == stage["id"]]
            assert stage_out["deal_count"] == len(mine)
            if mine:
                price = sum((Decimal(str(d["price"])) for d in mine), Decimal(0))
                commission = sum((Decimal(str(d["commissionValue"])) for d in mine), Decimal(0))
                assert Decimal(str(stage_out["price_total"])) == price.quantize(Decimal("0.01"))
                assert Decimal(str(stage_out["commission_total"])) == commission.quantize(Decimal("0.01"))
        assert out["deal_count"] == sum(1 for d in deals if d["pipelineId"] == pipeline["id"])


async def test_pipeline_summary_for_one_pipeline_and_an_unknown_one(client: Client, sandbox_app: Any) -> None:
    summary = await call(client, "pipeline_summary", {"pipeline": "Sellers"})
    assert [p["name"] for p in summary["pipelines"]] == ["Sellers"]
    assert requests_seen(sandbox_app, "GET", "/v1/deals")[-1]["query"]["pipelineId"] == "2"
    text = await error_text(client, "pipeline_summary", {"pipeline": "Renters"})
    assert "no pipeline matches" in text and "Buyers" in text


# --- my_day -------------------------------------------------------------------------------------------

async def craft_day(sandbox_app: Any) -> dict[str, int]:
    """Tasks and an appointment for Marcus Reed (user 2, America/Chicago) around midnight of 2030-01-15."""
    made = {}
    person = (await api(sandbox_app, "GET", "/people", params={"assignedUserId": 2, "limit": 1}))["people"][0]
    for key, due in (
        ("late_today", "2030-01-16T05:30:00Z"),  # 23:30 CST on Jan 15
        ("tomorrow", "2030-01-16T06:30:00Z"),  # 00:30 CST on Jan 16
        ("yesterday", "2030-01-15T05:30:00Z"),  # 23:30 CST on Jan 14
    ):
        task = await api(sandbox_app, "POST", "/tasks", json={
            "personId": person["id"], "assignedUserId": 2, "name": f"Midnight test {key}", "type": "Call",
            "dueDateTime": due,
        })
        made[key] = task["id"]
    appointment = await api(sandbox_app, "POST", "/appointments", json={
        "title": "Late showing", "start": "2030-01-16T04:00:00Z", "end": "2030-01-16T05:00:00Z",
        "invitees": [{"userId": 2, "name": "Marcus Reed"}, {"personId": person["id"], "name": person["name"]}],
    })
    made["appointment"] = appointment["id"]
    return made


async def test_my_day_counts_a_task_due_at_2330_chicago_as_today_after_utc_midnight(
    clocked: Client, sandbox_app: Any, clock: dict[str, datetime]
) -> None:
    made = await craft_day(sandbox_app)
    clock["now"] = datetime(2030, 1, 16, 5, 45, tzinfo=UTC)  # 23:45 CST on Jan 15; UTC is already Jan 16
    day = await call(clocked, "my_day", {"agent": "Marcus Reed"})
    assert (day["timezone"], day["date"], day["agent_id"]) == ("America/Chicago", "2030-01-15", 2)
    assert day["now"].startswith("2030-01-15T23:45") and day["now"].endswith("-06:00")
    today = {t["id"] for t in day["tasks_due_today"]}
    overdue = {t["id"] for t in day["tasks_overdue"]}
    assert made["late_today"] in today and made["tomorrow"] not in today | overdue
    assert made["yesterday"] in overdue
    assert next(t for t in day["tasks_due_today"] if t["id"] == made["late_today"])["due"] == "2030-01-15T23:30-06:00"
    assert made["appointment"] in {a["id"] for a in day["appointments"]}


async def test_my_day_after_local_midnight_moves_the_task_to_overdue(
    clocked: Client, sandbox_app: Any, clock: dict[str, datetime]
) -> None:
    made = await craft_day(sandbox_app)
    clock["now"] = datetime(2030, 1, 16, 6, 10, tzinfo=UTC)  # 00:10 CST on Jan 16
    day = await call(clocked, "my_day", {"agent": "2"})
    assert day["date"] == "2030-01-16"
    assert made["late_today"] in {t["id"] for t in day["tasks_overdue"]}
    assert made["tomorrow"] in {t["id"] for t in day["tasks_due_today"]}
    assert made["appointment"] not in {a["id"] for a in day["appointments"]}


async def test_my_day_lists_new_leads_since_local_yesterday_and_hot_leads(
    clocked: Client, sandbox_app: Any, clock: dict[str, datetime]
) -> None:
    person = await api(sandbox_app, "POST", "/people", json={"firstName": "Nina", "lastName": "Newlead", "assignedUserId": 1})
    clock["now"] = datetime.now(UTC) + timedelta(hours=1)
    day = await call(clocked, "my_day", {})
    assert day["agent"] == "Olivia Owner" and day["timezone"] == "America/Chicago"
    assert person["id"] in {lead["id"] for lead in day["new_leads"]}
    scores = [lead["score"] for lead in day["hot_leads"]]
    assert scores == sorted(scores, reverse=True) and all(s >= 35 for s in scores)


async def test_my_day_for_an_unknown_agent_lists_the_users(client: Client) -> None:
    text = await error_text(client, "my_day", {"agent": "Nobody Atall"})
    assert "no user matches" in text and "Marcus Reed" in text


# --- prompts ------------------------------------------------------------------------------------------

async def test_the_workflow_prompts_are_listed_with_descriptions_and_arguments(client: Client) -> None:
    prompts = {p.name: p for p in (await client.list_prompts()).prompts}
    assert {"daily_brief", "follow_up_draft", "pipeline_review", "new_lead_intake"} <= set(prompts)
    for name in ("daily_brief", "follow_up_draft", "pipeline_review", "new_lead_intake"):
        assert prompts[name].description
    args = {a.name: a for a in prompts["follow_up_draft"].arguments or []}
    assert args["person_id"].required and not args["channel"].required


async def test_follow_up_draft_runs_the_timeline_and_the_fair_housing_guard(client: Client) -> None:
    prompt = await client.get_prompt("follow_up_draft", {"person_id": "42", "channel": "email"})
    text = prompt.messages[0].content.text
    assert "lead_timeline" in text and "person_id=42" in text and "check_fair_housing" in text
    assert "Never send, log or save a draft that has not passed" in text


async def test_daily_brief_and_pipeline_review_name_their_tools(client: Client) -> None:
    brief = (await client.get_prompt("daily_brief", {"agent": "Marcus Reed"})).messages[0].content.text
    assert 'my_day with agent="Marcus Reed"' in brief
    review = (await client.get_prompt("pipeline_review", {})).messages[0].content.text
    assert "pipeline_summary" in review
    intake = (await client.get_prompt("new_lead_intake", {})).messages[0].content.text
    assert "log_event" in intake and "check_duplicate" in intake


async def test_stale_leads_reads_fubs_per_channel_contact_dates(client: Client, sandbox_app: Any) -> None:
    result = await call(client, "stale_leads", {"days": 14})
    assert "no per-channel contact dates" not in (result.get("note") or "")
    fields = requests_seen(sandbox_app, "GET", "/v1/people")[-1]["query"]["fields"]
    assert "lastIncomingCall" in fields and "textsReceived" in fields
