"""Time for the insights tools: FUB timestamps, the account's timezone, local days.

FUB stores every date in UTC (`2024-05-01T12:00:00Z`), but "today", "overdue" and "since
yesterday" belong to the agent's own day: a task due at 23:30 in Chicago is due *today* at 23:45
Chicago time even though UTC already says tomorrow. Everything here is pure: `now` is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["LocalDay", "local_day", "parse_when", "resolve_zone", "to_utc_iso", "zone_name"]

# Older Rails/Windows-style names some integrations store, mapped to IANA names.
_ALIASES = {
    "eastern time (us & canada)": "America/New_York",
    "central time (us & canada)": "America/Chicago",
    "mountain time (us & canada)": "America/Denver",
    "arizona": "America/Phoenix",
    "pacific time (us & canada)": "America/Los_Angeles",
    "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu",
    "eastern": "America/New_York",
    "central": "America/Chicago",
    "mountain": "America/Denver",
    "pacific": "America/Los_Angeles",
    "utc": "UTC",
    "gmt": "UTC",
}


def resolve_zone(name: str | None) -> tzinfo | None:
    """The zone for a FUB timezone name (IANA, or a few legacy US names); None when unknown."""
    if not name or not str(name).strip():
        return None
    text = str(name).strip()
    for candidate in (text, _ALIASES.get(text.lower())):
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return None


def zone_name(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or str(zone)


def parse_when(value: Any, *, zone: tzinfo = UTC) -> datetime | None:
    """A FUB timestamp as an aware UTC datetime. Accepts `...Z`, offsets, `YYYY-MM-DD HH:MM:SS`
    (read as UTC, like FUB) and bare dates (midnight in `zone`). None for anything else."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=zone).astimezone(UTC)
    elif isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            try:
                return datetime.combine(date.fromisoformat(text), time.min, tzinfo=zone).astimezone(UTC)
            except ValueError:
                return None
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_utc_iso(moment: datetime) -> str:
    """FUB's own format: `2024-05-01T12:00:00Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class LocalDay:
    """One calendar day in a timezone, with its bounds in UTC."""

    day: date
    zone: tzinfo
    start: datetime  # aware UTC: local midnight
    end: datetime  # aware UTC: next local midnight (exclusive)

    def contains(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end

    def shift(self, days: int) -> LocalDay:
        return _day(self.day + timedelta(days=days), self.zone)


def _day(day: date, zone: tzinfo) -> LocalDay:
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return LocalDay(day=day, zone=zone, start=start, end=end)


def local_day(now: datetime, zone: tzinfo) -> LocalDay:
    """The local calendar day that contains `now` (DST days are 23 or 25 hours long)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return _day(now.astimezone(zone).date(), zone)
