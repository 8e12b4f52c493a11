"""The appointments toolset against the sandbox, in both protocol eras."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from fub_mcp.tools import appointments
from tests.tools.conftest import requests_seen
from tests.tools.test_leads import hint_table
from tests.tools.test_people import call, error_text

pytestmark = pytest.mark.anyio

SHOWING = {
    "title": "Showing: 12 Oak St",
    "start": "2026-12-05T10:00:00-06:00",
    "end": "2026-12-05T11:00:00-06:00",
}
DEC_5 = {"start": "2026-12-05T00:00:00Z", "end": "2026-12-06T00:00:00Z"}


def test_appointments_tools_declare_honest_hints() -> None:
    assert hint_table(appointments.TOOLSET) == {
        "list_appointments": (True, False, True, False),
        "create_appointment": (False, False, False, False),
    }


async def test_create_appointment_invites_people_and_the_caller(client: Client, sandbox_app: Any) -> None:
    made = await call(client, "create_appointment", {**SHOWING, "person_ids": [9], "location": "12 Oak St"})
    assert made["start"] == "2026-12-05T16:00:00Z" and made["location"] == "12 Oak St"
    assert {(i.get("person_id"), i.get("user_id")) for i in made["invitees"]} == {(9, None), (None, 1)}
    assert requests_seen(sandbox_app, "POST", "/v1/appointments")[-1]["json"] == {
        "title": "Showing: 12 Oak St",
        "start": "2026-12-05T16:00:00Z",
        "end": "2026-12-05T17:00:00Z",
        "allDay": False,
        "invitees": [{"personId": 9}, {"userId": 1}],
        "location": "12 Oak St",
    }


async def test_create_appointment_resolves_agent_names(client: Client, sandbox_app: Any) -> None:
    await call(client, "create_appointment", {**SHOWING, "users": ["Marcus Reed"]})
    assert requests_seen(sandbox_app, "POST", "/v1/appointments")[-1]["json"]["invitees"] == [{"userId": 2}]
    text = await error_text(client, "create_appointment", {**SHOWING, "users": ["Nobody Known"]})
    assert "no user matches" in text and "Marcus Reed" in text


async def test_create_appointment_refuses_an_end_before_the_start(client: Client, sandbox_app: Any) -> None:
    text = await error_text(client, "create_appointment", {**SHOWING, "end": "2026-12-05T09:00:00-06:00"})
    assert "end is before start" in text
    assert not requests_seen(sandbox_app, "POST", "/v1/appointments")


async def test_list_appointments_by_person_agent_and_window(client: Client, sandbox_app: Any) -> None:
    made = await call(client, "create_appointment", {**SHOWING, "person_ids": [9]})
    page = await call(client, "list_appointments", {"person_id": 9, "user": "me", **DEC_5})
    assert made["id"] in [a["id"] for a in page["items"]]
    query = requests_seen(sandbox_app, "GET", "/v1/appointments")[-1]["query"]
    assert query == {"personId": "9", "userId": "1", **DEC_5, "limit": "25"}


async def test_list_appointments_pages_with_a_cursor(client: Client) -> None:
    first = await call(client, "list_appointments", {"limit": 2})
    second = await call(client, "list_appointments", {"cursor": first["next_cursor"]})
    assert first["has_more"]
    assert {a["id"] for a in first["items"]}.isdisjoint(a["id"] for a in second["items"])


async def test_list_appointments_needs_start_and_end_together(client: Client) -> None:
    text = await error_text(client, "list_appointments", {"start": "2026-12-05T00:00:00Z"})
    assert "together" in text
