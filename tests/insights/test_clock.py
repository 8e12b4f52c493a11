"""Local days and FUB timestamps: the agent's day, not the server's."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fub_mcp.insights.clock import local_day, parse_when, resolve_zone, to_utc_iso

CHICAGO = resolve_zone("America/Chicago")


def test_a_moment_after_utc_midnight_is_still_the_previous_day_in_chicago() -> None:
    assert CHICAGO is not None
    now = datetime(2026, 5, 6, 4, 45, tzinfo=UTC)  # 23:45 CDT on May 5
    day = local_day(now, CHICAGO)
    assert day.day == date(2026, 5, 5)
    assert day.start == datetime(2026, 5, 5, 5, 0, tzinfo=UTC)
    assert day.end == datetime(2026, 5, 6, 5, 0, tzinfo=UTC)
    due = parse_when("2026-05-06T04:30:00Z")  # 23:30 CDT on May 5
    assert day.contains(due)
    assert not day.contains(parse_when("2026-05-06T05:00:00Z"))


def test_local_days_follow_daylight_saving() -> None:
    assert CHICAGO is not None
    spring = local_day(datetime(2026, 3, 8, 12, tzinfo=UTC), CHICAGO)
    assert (spring.end - spring.start).total_seconds() == 23 * 3600
    assert spring.shift(-1).end == spring.start


def test_parse_when_reads_fub_formats() -> None:
    expected = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert parse_when("2024-05-01T12:00:00Z") == expected
    assert parse_when("2024-05-01T07:00:00-05:00") == expected
    assert parse_when("2024-05-01 12:00:00") == expected
    assert parse_when("2024-05-01", zone=CHICAGO) == datetime(2024, 5, 1, 5, 0, tzinfo=UTC)
    assert parse_when("not a date") is None and parse_when(None) is None and parse_when(True) is None
    assert to_utc_iso(expected) == "2024-05-01T12:00:00Z"


def test_zone_names_resolve_or_return_none() -> None:
    assert resolve_zone("Central Time (US & Canada)") == CHICAGO
    assert resolve_zone("Mars/Olympus") is None and resolve_zone("") is None and resolve_zone(None) is None
