"""One person's activity from six FUB lists, merged newest first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from fub_mcp.insights.clock import parse_when

__all__ = ["KINDS", "Kind", "merge_timeline", "moment_of"]

Kind = Literal["event", "call", "text", "note", "task", "appointment"]
KINDS: tuple[Kind, ...] = ("event", "call", "text", "note", "task", "appointment")


def moment_of(kind: Kind, record: Mapping[str, Any]) -> datetime | None:
    """When an item sits on the timeline: texts when sent, tasks when done (else due), appointments
    at their start, everything else when created."""
    if kind == "text":
        return parse_when(record.get("sent")) or parse_when(record.get("created"))
    if kind == "task":
        done = parse_when(record.get("completed")) if record.get("isCompleted") in (True, 1) else None
        return done or parse_when(record.get("dueDateTime")) or parse_when(record.get("dueDate")) or parse_when(
            record.get("created")
        )
    if kind == "appointment":
        return parse_when(record.get("start")) or parse_when(record.get("created"))
    if kind == "event":
        return parse_when(record.get("occurred")) or parse_when(record.get("created"))
    return parse_when(record.get("created"))


def merge_timeline(
    sources: Mapping[Kind, Sequence[Mapping[str, Any]]], limit: int
) -> list[tuple[Kind, datetime | None, Mapping[str, Any]]]:
    """The newest `limit` items across all kinds (undated items last, ties broken by kind then id)."""
    rows = [(kind, moment_of(kind, record), record) for kind, records in sources.items() for record in records]
    rows.sort(
        key=lambda row: (
            row[1] is not None,
            row[1].timestamp() if row[1] else 0.0,
            -KINDS.index(row[0]),
            int(row[2].get("id") or 0) if str(row[2].get("id") or "0").isdigit() else 0,
        ),
        reverse=True,
    )
    return rows[:limit]
