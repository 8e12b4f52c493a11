"""The comms toolset (calls and text messages) against the sandbox, in both protocol eras."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from fub_mcp.server.build import build_server
from fub_mcp.tools import comms
from tests.tools.conftest import make_context, make_settings, requests_seen
from tests.tools.test_leads import hint_table
from tests.tools.test_people import call, error_text

pytestmark = pytest.mark.anyio

TEXT = {"person_id": 7, "to_number": "512-555-0101", "from_number": "512-555-0202"}
FLAGGED = "Great area, no kids and mostly Christian families."


async def connect(sandbox_app: Any, **overrides: Any) -> Any:
    settings = make_settings(**overrides)
    context = make_context(sandbox_app, settings)
    return context, Client(build_server(settings, context), mode="legacy", cache=None)


def test_comms_tools_declare_honest_hints() -> None:
    assert hint_table(comms.TOOLSET) == {  # logging only: nothing is dialled or sent
        "log_call": (False, False, False, False),
        "list_calls": (True, False, True, False),
        "log_text_message": (False, False, False, False),
        "list_text_messages": (True, False, True, False),
    }


async def test_log_call_sends_fub_field_names(client: Client, sandbox_app: Any) -> None:
    logged = await call(client, "log_call", {
        "person_id": 7, "phone": "512-555-0101", "is_incoming": False, "outcome": "Left Message",
        "note": "Left a voicemail about the open house.", "duration_seconds": 42,
    })
    assert logged["outcome"] == "Left Message" and logged["duration_seconds"] == 42
    assert requests_seen(sandbox_app, "POST", "/v1/calls")[-1]["json"] == {
        "personId": 7, "phone": "512-555-0101", "isIncoming": False, "outcome": "Left Message",
        "note": "Left a voicemail about the open house.", "duration": 42,
    }


async def test_log_call_without_a_phone_uses_the_primary_phone(client: Client, sandbox_app: Any) -> None:
    person = await call(client, "get_person", {"person_id": 7})
    logged = await call(client, "log_call", {"person_id": 7, "is_incoming": True})
    assert logged["phone"] == person["phone"]
    assert requests_seen(sandbox_app, "POST", "/v1/calls")[-1]["json"]["phone"] == person["phone"]


async def test_log_call_for_an_unknown_person_is_an_error(client: Client) -> None:
    text = await error_text(client, "log_call", {"person_id": 987654, "is_incoming": False})
    assert "person 987654 not found" in text


async def test_list_calls_filters_by_person_and_pages(client: Client, sandbox_app: Any) -> None:
    first = await call(client, "list_calls", {"limit": 3})
    assert len(first["items"]) == 3 and first["has_more"]
    second = await call(client, "list_calls", {"cursor": first["next_cursor"]})
    assert {c["id"] for c in first["items"]}.isdisjoint(c["id"] for c in second["items"])
    person_id = first["items"][0]["person_id"]
    mine = await call(client, "list_calls", {"person_id": person_id})
    assert mine["items"] and all(c["person_id"] == person_id for c in mine["items"])
    assert requests_seen(sandbox_app, "GET", "/v1/calls")[-1]["query"]["personId"] == str(person_id)


async def test_an_incoming_text_is_logged_and_read_back_untrusted(client: Client, sandbox_app: Any) -> None:
    args = {**TEXT, "message": "Call me\u200b now\u2066", "is_incoming": True}
    logged = await call(client, "log_text_message", args)
    assert logged["is_incoming"] is True and "text" not in logged
    assert requests_seen(sandbox_app, "POST", "/v1/textMessages")[-1]["json"] == {
        "personId": 7, "message": "Call me\u200b now\u2066", "toNumber": "512-555-0101",
        "fromNumber": "512-555-0202", "isIncoming": True,
    }
    page = await call(client, "list_text_messages", {"person_id": 7})
    assert page["items"][0]["lead_text"] == {"untrusted": "Call me now"}


async def test_list_text_messages_needs_a_person_or_a_number(client: Client, sandbox_app: Any) -> None:
    assert "person_id or phone" in await error_text(client, "list_text_messages", {})
    assert not requests_seen(sandbox_app, "GET", "/v1/textMessages")


async def test_logging_a_text_without_a_registered_system_says_what_to_set(sandbox_app: Any) -> None:
    context, mcp_client = await connect(sandbox_app, system=None, system_key=None)
    async with context.client, mcp_client:
        args = {**TEXT, "message": "Hi", "is_incoming": True}
        text = await error_text(mcp_client, "log_text_message", args)
    assert "FUB_SYSTEM" in text


async def test_a_clean_outgoing_text_is_logged_and_audited(sandbox_app: Any, tmp_path: Path) -> None:
    audit = tmp_path / "audit.log"
    context, mcp_client = await connect(sandbox_app, audit_log=str(audit))
    async with context.client, mcp_client:
        result = await mcp_client.call_tool("log_text_message", {**TEXT, "message": "Saturday at 10 works."})
    assert result.is_error is False and result.structured_content["text"] == "Saturday at 10 works."
    assert "not sent" in result.content[0].text
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert any(line.get("action") == "log_text_message" for line in lines)


async def test_a_text_with_fair_housing_findings_never_reaches_fub(client: Client, sandbox_app: Any) -> None:
    text = await error_text(client, "log_text_message", {**TEXT, "message": FLAGGED})
    assert "Fair Housing" in text or "fair housing" in text.lower()
    assert not requests_seen(sandbox_app, "POST", "/v1/textMessages")


async def test_an_acknowledged_finding_is_logged_with_a_note(client: Client, sandbox_app: Any) -> None:
    args = {**TEXT, "message": FLAGGED, "acknowledge_fair_housing": True}
    logged = await call(client, "log_text_message", args)
    assert "acknowledged" in logged["note"] and requests_seen(sandbox_app, "POST", "/v1/textMessages")


async def test_a_blocked_text_is_in_the_audit_log_without_its_content(sandbox_app: Any, tmp_path: Path) -> None:
    audit = tmp_path / "audit.log"
    context, mcp_client = await connect(sandbox_app, audit_log=str(audit))
    async with context.client, mcp_client:
        result = await mcp_client.call_tool("log_text_message", {**TEXT, "message": FLAGGED})
    assert result.is_error and not requests_seen(sandbox_app, "POST", "/v1/textMessages")
    [entry] = [json.loads(line) for line in audit.read_text().splitlines() if "fair_housing" in line]
    assert entry["action"] == "log_text_message" and entry["fair_housing"] == "blocked"
    assert {"category": "familial status", "phrase": "no kids"} in entry["findings"]
    assert FLAGGED not in audit.read_text()
