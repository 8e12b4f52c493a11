"""The lead scoring model on crafted histories: pure, deterministic, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fub_mcp.insights.scoring import (
    MODEL_VERSION,
    WEIGHTS,
    ScoringContext,
    band_of,
    build_context,
    decay,
    score_lead,
)

NOW = datetime(2026, 5, 5, 15, 0, tzinfo=UTC)


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def ahead(days: float) -> str:
    return (NOW + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def person(pid: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "id": pid, "firstName": "Jane", "lastName": "Doe", "name": "Jane Doe", "stage": "Lead",
        "source": "Zillow", "price": 450000, "created": ago(120),
        "emails": [{"value": "jane@example.com", "isPrimary": 1}],
        "phones": [{"value": "(555) 010-2000", "isPrimary": 1}],
        **extra,
    }


def active_lead() -> dict[str, Any]:
    """Yesterday's property inquiry, a reply by text, a real call and a showing booked for Thursday."""
    return {
        "events": [{"type": "Property Inquiry", "created": ago(1), "message": "Is 12 Oak still available?"},
                   {"type": "Saved Property", "created": ago(2)}],
        "texts": [{"isIncoming": False, "created": ago(1.5)}, {"isIncoming": True, "created": ago(1.2)}],
        "calls": [{"isIncoming": False, "created": ago(1), "duration": 420, "outcome": "Interested"}],
        "appointments": [{"title": "Showing - 12 Oak St", "start": ahead(2), "end": ahead(2.05)}],
        "notes": [], "tasks": [],
    }


def silent_lead() -> dict[str, Any]:
    """Inquired once 90 days ago; three unanswered calls since."""
    return {
        "events": [{"type": "Property Inquiry", "created": ago(90)}],
        "calls": [{"isIncoming": False, "created": ago(d), "duration": 0, "outcome": "No Answer"} for d in (89, 85, 80)],
        "texts": [], "notes": [], "appointments": [], "tasks": [],
    }


def test_a_fresh_inquiry_with_a_booked_showing_outranks_a_lead_silent_for_90_days() -> None:
    hot = score_lead(person(1), now=NOW, **active_lead())
    cold = score_lead(person(2), now=NOW, **silent_lead())
    assert hot.overall > cold.overall + 40
    assert hot.band == "hot" and cold.band == "cold"
    for part in ("engagement", "intent", "recency", "velocity"):
        assert hot.parts[part].score > cold.parts[part].score, part
    # Same contact data: quality does not separate them.
    assert hot.parts["quality"].score == cold.parts["quality"].score


def test_the_signals_name_what_drove_each_score() -> None:
    hot = score_lead(person(1), now=NOW, **active_lead())
    intent = " | ".join(hot.parts["intent"].signals)
    assert "showing booked in 2 days" in intent and "1 inquiry, latest yesterday" in intent
    engagement = " | ".join(hot.parts["engagement"].signals)
    assert "1 contact from the lead (1 text), latest yesterday" in engagement
    assert "1 call conversation" in engagement
    assert hot.parts["recency"].signals[0].endswith("yesterday")
    assert hot.parts["velocity"].signals[0].startswith("rising")
    cold = score_lead(person(2), now=NOW, **silent_lead())
    assert cold.parts["engagement"].signals == ("no reply yet to 3 outreach attempts",)
    assert cold.parts["recency"].signals == ("last sent a Property Inquiry 3 months ago",)
    assert cold.parts["velocity"].signals == ("no lead activity in the last 8 weeks",)
    # A cold lead is explained by what is missing, a hot one by what it has.
    assert "no reply yet to 3 outreach attempts" in cold.top_signals()
    assert any("showing booked" in s or "yesterday" in s for s in hot.top_signals())


def test_scores_are_deterministic_and_bounded() -> None:
    first = score_lead(person(1), now=NOW, **active_lead())
    second = score_lead(person(1), now=NOW, **active_lead())
    assert first == second
    flood = {
        "events": [{"type": t, "created": ago(i / 10)} for i in range(200) for t in ("Property Inquiry", "Saved Property")],
        "calls": [{"isIncoming": True, "created": ago(i / 10), "duration": 900} for i in range(200)],
        "texts": [{"isIncoming": i % 2 == 0, "created": ago(i / 10)} for i in range(200)],
        "notes": [{"created": ago(i)} for i in range(50)],
        "appointments": [{"title": "Showing", "start": ago(i)} for i in range(1, 20)],
        "tasks": [],
    }
    maxed = score_lead(person(1, stage="Hot Prospect"), now=NOW, **flood)
    assert all(0 <= p.score <= 100 for p in maxed.parts.values())
    assert maxed.parts["engagement"].score == 100 and maxed.parts["intent"].score == 100
    assert 0 <= maxed.overall <= 100
    empty = score_lead({"id": 3}, now=NOW, events=[])
    assert empty.overall == 0 + round(WEIGHTS["quality"] * 10)  # only the neutral source points
    assert empty.band == "cold"


def test_the_weights_add_up_to_one_and_the_bands_are_ordered() -> None:
    assert abs(sum(WEIGHTS.values()) - 1.0) < 1e-9
    assert [band_of(x) for x in (100, 60, 59, 35, 34, 15, 14, 0)] == [
        "hot", "hot", "warm", "warm", "cool", "cool", "cold", "cold"
    ]
    assert MODEL_VERSION


def test_recency_halves_every_14_days() -> None:
    scores = [
        score_lead(person(1, created=ago(d)), now=NOW, events=[]).parts["recency"].score for d in (0, 14, 28, 90)
    ]
    assert scores == [100, 50, 25, 1]
    assert decay(NOW - timedelta(days=30), NOW) == 0.5
    assert decay(NOW - timedelta(days=181), NOW) == 0.0
    assert decay(None, NOW) == 0.0


def test_unanswered_outreach_does_not_make_a_lead_look_fresh() -> None:
    chased = score_lead(person(1, created=ago(100)), now=NOW, calls=[
        {"isIncoming": False, "created": ago(1), "duration": 0}, {"isIncoming": False, "created": ago(2), "duration": 0}
    ])
    assert chased.parts["recency"].score < 2
    assert chased.parts["engagement"].score == 0


def test_trash_and_closed_stages_scale_the_overall_score() -> None:
    base = score_lead(person(1), now=NOW, **active_lead())
    trashed = score_lead(person(1, stage="Trash"), now=NOW, **active_lead())
    closed = score_lead(person(1, stage="Closed"), now=NOW, **active_lead())
    assert trashed.overall == 0 and trashed.top_signals()[0].startswith("in Trash")
    assert closed.overall == round(base.overall * 0.5) or abs(closed.overall - base.overall * 0.5) <= 1


def test_hot_stage_adds_intent() -> None:
    plain = score_lead(person(1), now=NOW, **silent_lead())
    hot = score_lead(person(1, stage="Hot Prospect"), now=NOW, **silent_lead())
    assert hot.parts["intent"].score == plain.parts["intent"].score + 15
    assert "stage is Hot Prospect" in hot.parts["intent"].signals


def test_quality_reads_reachable_contacts_price_band_and_source_history() -> None:
    bad = person(1, phones=[{"value": "555", "status": "Invalid"}], emails=[], price=None, lastName=None)
    low = score_lead(bad, now=NOW, events=[])
    assert low.parts["quality"].score == 10  # the neutral source points only
    assert low.parts["quality"].signals[:2] == ("phone marked bad", "no email")
    people = [person(i, source="Zillow" if i <= 20 else "Open House", price=300000 + i * 1000) for i in range(1, 41)]
    converted = {21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 1}  # 10/20 open house, 1/20 Zillow
    context = build_context(people, converted)
    assert context.account_rate == 11 / 40
    open_house = score_lead(people[30], now=NOW, context=context, events=[])
    zillow = score_lead(people[0], now=NOW, context=context, events=[])
    assert open_house.parts["quality"].score > zillow.parts["quality"].score
    assert any("source Open House: 50% of 20 leads reached a deal" in s for s in open_house.parts["quality"].signals)
    # upper half of the price band earns more than the lower half
    assert score_lead(people[39], now=NOW, context=context, events=[]).parts["quality"].signals


def test_small_samples_leave_source_history_neutral() -> None:
    context = build_context([person(i) for i in range(1, 5)], {1})
    assert context.source_rate("Zillow") is None
    assert ScoringContext().source_rate("Zillow") is None


def test_fast_mode_scores_from_fub_rollup_fields_alone() -> None:
    active = person(
        1, created=ago(10), callsIncoming=2, lastIncomingCall=ago(1), callsOutgoing=3, lastOutgoingCall=ago(2),
        textsReceived=4, lastReceivedText=ago(0.5), textsSent=5, lastSentText=ago(0.6), callsDuration=900,
        propertiesSaved=3, propertiesViewed=12, lastIdxVisit=ago(1), lastLeadActivity=ago(1),
    )
    quiet = person(2, created=ago(200), callsOutgoing=6, lastOutgoingCall=ago(95), lastLeadActivity=ago(90))
    hot, cold = score_lead(active, now=NOW), score_lead(quiet, now=NOW)
    assert hot.mode == cold.mode == "fast"
    assert hot.overall > cold.overall + 40
    assert "6 contacts from the lead (2 calls, 4 texts), latest today" in hot.parts["engagement"].signals[0]
    assert "3 saved properties, latest yesterday" in hot.parts["intent"].signals
    assert cold.parts["engagement"].signals == ("no reply yet to 6 outreach attempts",)
    assert "channels" in hot.parts["velocity"].signals[0]


def test_deep_mode_reads_appointment_outcomes_and_showing_tasks() -> None:
    cancelled = score_lead(person(1), now=NOW, appointments=[{"title": "Showing", "start": ahead(1), "outcome": "Canceled"}])
    assert cancelled.parts["intent"].score == 0
    task = score_lead(person(1), now=NOW, tasks=[{"type": "Showing", "isCompleted": False, "dueDateTime": ahead(1)}])
    assert task.parts["intent"].signals[0] == "showing booked tomorrow"
    unsubscribed = score_lead(person(1), now=NOW, events=[{"type": "Unsubscribed", "created": ago(3)}])
    assert "unsubscribed from email" in unsubscribed.parts["quality"].signals


def test_reason_is_one_short_line() -> None:
    hot = score_lead(person(1), now=NOW, **active_lead())
    reason = hot.reason(limit=120)
    assert reason.startswith(f"{hot.overall} hot: ") and len(reason) <= 120 and "\n" not in reason


def test_fast_mode_without_fub_rollup_fields_falls_back_on_last_activity() -> None:
    recent = score_lead(person(1, created=ago(100), lastActivity=ago(2)), now=NOW)
    old = score_lead(person(2, created=ago(100), lastActivity=ago(100)), now=NOW)
    assert recent.parts["recency"].signals == ("last had activity 2 days ago",)
    assert recent.overall > old.overall
    assert "of 1 channel (FUB's lastActivity)" in recent.parts["velocity"].signals[0]
    # With rollups present (even empty), lastActivity is not used: agent activity is not lead activity.
    rolled = score_lead(person(3, created=ago(100), lastActivity=ago(2), lastIncomingCall=None), now=NOW)
    assert rolled.parts["recency"].signals == ("last arrived as a new lead 3 months ago",)


def test_fast_mode_without_rollups_says_engagement_needs_deep_mode() -> None:
    score = score_lead(person(1, lastActivity=ago(2)), now=NOW)
    assert score.parts["engagement"].signals == (
        "FUB sent no call/text/email counts for this person: use mode=deep to read them",
    )
