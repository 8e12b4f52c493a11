"""The queue's guarantees (durable, deduplicated, exactly once under a lease) and FUB's signature."""

from __future__ import annotations

from pathlib import Path

import pytest

from fub_mcp.webhooks import Change, Inbound, SQLiteChangeQueue, sign, verify

pytestmark = pytest.mark.anyio

KEY = "system-key"


def delivery(n: int) -> Inbound:
    payload = {"eventId": f"e-{n}", "event": "peopleCreated", "resourceIds": [n], "uri": ""}
    return Inbound(f"e-{n}", "peopleCreated", payload, "2026-11-23T10:00:00Z")


def change(n: int) -> Change:
    return Change("peopleCreated", "people", n, n, f"person {n}", "2026-11-23T10:00:00Z")


def test_the_signature_is_hex_hmac_sha256_of_the_base64_body() -> None:
    body = b'{"eventId":"x"}'
    signature = sign(KEY, body)
    assert len(signature) == 64 and verify(KEY, body, signature) and verify(KEY, body, "sha256=" + signature)
    assert not verify(KEY, body + b" ", signature)
    assert not verify("other-key", body, signature)
    assert not verify(KEY, body, None) and not verify(KEY, body, "") and not verify("", body, signature)


async def test_a_repeated_event_id_is_stored_once(tmp_path: Path) -> None:
    queue = SQLiteChangeQueue(tmp_path / "q.sqlite3")
    assert await queue.enqueue(delivery(1)) is True
    assert await queue.enqueue(delivery(1)) is False
    assert (await queue.counts())["pending"] == 1


async def test_what_was_enqueued_survives_a_restart(tmp_path: Path) -> None:
    first = SQLiteChangeQueue(tmp_path / "q.sqlite3")
    await first.enqueue(delivery(1))
    first.close()
    again = SQLiteChangeQueue(tmp_path / "q.sqlite3")
    claimed = await again.claim(now=0.0, lease_seconds=60)
    assert claimed is not None and claimed.inbound.event_id == "e-1" and claimed.attempts == 1


async def test_a_lost_lease_is_taken_over_and_the_late_worker_cannot_complete(tmp_path: Path) -> None:
    queue = SQLiteChangeQueue(tmp_path / "q.sqlite3")
    await queue.enqueue(delivery(7))
    crashed = await queue.claim(now=100.0, lease_seconds=60)
    assert crashed is not None
    assert await queue.claim(now=120.0, lease_seconds=60) is None  # leased: nobody else gets it
    taken_over = await queue.claim(now=161.0, lease_seconds=60)  # the lease ran out
    assert taken_over is not None and taken_over.attempts == 2
    assert await queue.complete(taken_over, [change(7)]) is True
    assert await queue.complete(crashed, [change(7)]) is False
    assert [c.resource_id for c in await queue.changes()] == [7]
    assert await queue.counts() == {"pending": 0, "done": 1, "failed": 0, "changes": 1}


async def test_a_failure_is_kept_and_comes_back_when_due(tmp_path: Path) -> None:
    queue = SQLiteChangeQueue(tmp_path / "q.sqlite3")
    await queue.enqueue(delivery(3))
    claimed = await queue.claim(now=0.0, lease_seconds=60)
    assert claimed is not None
    await queue.retry_later(claimed, "FUB unavailable", at=30.0)
    assert await queue.claim(now=10.0, lease_seconds=60) is None
    assert await queue.next_due() == 30.0
    again = await queue.claim(now=30.0, lease_seconds=60)
    assert again is not None and again.attempts == 2


async def test_changes_filter_and_page_newest_first(tmp_path: Path) -> None:
    queue = SQLiteChangeQueue(tmp_path / "q.sqlite3")
    for n in range(1, 6):
        await queue.enqueue(delivery(n))
        claimed = await queue.claim(now=0.0, lease_seconds=60)
        assert claimed is not None
        await queue.complete(claimed, [change(n)])
    newest = await queue.changes(limit=2)
    assert [c.resource_id for c in newest] == [5, 4]
    assert [c.resource_id for c in await queue.changes(before_id=newest[-1].id, limit=10)] == [3, 2, 1]
    assert [c.resource_id for c in await queue.changes(person_id=2)] == [2]


async def test_a_delivery_given_up_on_is_kept_as_failed_and_never_claimed_again(tmp_path: Path) -> None:
    queue = SQLiteChangeQueue(tmp_path / "q.sqlite3")
    await queue.enqueue(delivery(4))
    claimed = await queue.claim(now=0.0, lease_seconds=60)
    assert claimed is not None
    await queue.fail(claimed, "PermissionDeniedError: no access")
    assert await queue.claim(now=1e12, lease_seconds=60) is None
    assert await queue.next_due() is None
    assert await queue.counts() == {"pending": 0, "done": 0, "failed": 1, "changes": 0}
