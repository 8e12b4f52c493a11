"""Merging a person's six activity lists newest first."""

from __future__ import annotations

from fub_mcp.insights.timeline import merge_timeline


def test_items_of_every_kind_merge_newest_first_and_are_cut_to_the_limit() -> None:
    merged = merge_timeline(
        {
            "event": [{"id": 1, "created": "2026-05-01T10:00:00Z"}],
            "call": [{"id": 2, "created": "2026-05-03T10:00:00Z"}],
            "text": [{"id": 3, "created": "2026-04-01T10:00:00Z", "sent": "2026-05-02T10:00:00Z"}],
            "note": [{"id": 4}],
            "task": [{"id": 5, "isCompleted": True, "completed": "2026-05-04T10:00:00Z", "dueDate": "2026-04-01"}],
            "appointment": [{"id": 6, "start": "2026-05-10T15:00:00Z"}],
        },
        limit=5,
    )
    assert [(kind, record["id"]) for kind, _, record in merged] == [
        ("appointment", 6), ("task", 5), ("call", 2), ("text", 3), ("event", 1)
    ]
