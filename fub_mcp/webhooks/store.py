"""The durable webhook queue and the change log it feeds, behind a small interface.

`ChangeQueue` is what the receiver, the worker and the tools need; `SQLiteChangeQueue` implements it
for one process (a Redis or SQL-server store can implement it for many replicas later). Guarantees:

- **Nothing acknowledged is lost**: `enqueue` commits before it returns, so the 2xx FUB receives
  means the delivery is on disk.
- **Deduplicated by `eventId`**: FUB retries for up to 8 hours; a repeat is recognised and dropped.
- **Processed exactly once**: a worker *claims* a delivery under a lease (a random token and an
  expiry). `complete` stores the change records and marks the delivery done in one transaction, and
  only while the lease is still that worker's. A worker that dies mid-item leaves the lease to expire;
  the delivery is then claimed again, and the dead worker's late `complete` (if any) is refused.
- **Failures are kept**: `retry_later` records the error and when to try again; after the worker's
  last attempt `fail` parks the delivery as `failed`, with its error, still on disk. Nothing is dropped.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import anyio.to_thread

__all__ = ["Change", "ChangeQueue", "Claimed", "Inbound", "SQLiteChangeQueue"]

T = TypeVar("T")


@dataclass(frozen=True)
class Inbound:
    """A verified delivery as received: from a webhook (`source="webhook"`) or an Inbox App."""

    event_id: str
    event: str
    payload: dict[str, Any]
    received_at: str
    source: str = "webhook"


@dataclass(frozen=True)
class Claimed:
    """A delivery a worker holds under a lease."""

    id: int
    lease: str
    attempts: int
    inbound: Inbound


@dataclass(frozen=True)
class Change:
    """One compact record of what changed in FUB: what `recent_changes` and the resources show."""

    event: str
    resource: str  # people, notes, calls, deals, ..., or inboxApp
    resource_id: int | None
    person_id: int | None
    summary: str
    at: str  # when FUB said it happened (eventCreated), else when it arrived
    event_id: str = ""
    id: int | None = None


class ChangeQueue(Protocol):
    async def enqueue(self, inbound: Inbound) -> bool:
        """Store a delivery durably; False when this eventId was already stored."""
        ...

    async def claim(self, now: float, lease_seconds: float) -> Claimed | None:
        """The oldest delivery due at `now`, leased to the caller; None when nothing is due."""
        ...

    async def complete(self, claimed: Claimed, changes: list[Change]) -> bool:
        """Store the changes and mark the delivery done, if the lease is still held. False otherwise."""
        ...

    async def retry_later(self, claimed: Claimed, error: str, at: float) -> None:
        """Keep the delivery, note the error, make it due again at `at`."""
        ...

    async def fail(self, claimed: Claimed, error: str) -> None:
        """Give up on a delivery: keep it, with its error, as `failed` (never processed again)."""
        ...

    async def next_due(self) -> float | None:
        """When the next pending delivery is due (None: none pending)."""
        ...

    async def changes(
        self,
        *,
        event: str | None = None,
        person_id: int | None = None,
        since: str | None = None,
        before_id: int | None = None,
        limit: int = 20,
    ) -> list[Change]:
        """Stored changes, newest first, filtered."""
        ...

    async def counts(self) -> dict[str, int]:
        """Deliveries by state (pending, done, failed) and the number of changes."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',  -- pending, done, failed
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at REAL NOT NULL DEFAULT 0,
    lease TEXT,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, due_at);
CREATE TABLE IF NOT EXISTS changes (
    id INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
    event_id TEXT NOT NULL,
    event TEXT NOT NULL,
    resource TEXT NOT NULL,
    resource_id INTEGER,
    person_id INTEGER,
    summary TEXT NOT NULL,
    at TEXT NOT NULL,
    UNIQUE (delivery_id, resource, resource_id)
);
CREATE INDEX IF NOT EXISTS changes_person ON changes (person_id, id);
"""


class SQLiteChangeQueue:
    """`ChangeQueue` on one SQLite file (WAL, synchronous=FULL); calls run in a worker thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def locked() -> T:
            with self._lock:
                return fn(self._db)

        return await anyio.to_thread.run_sync(locked)

    async def enqueue(self, inbound: Inbound) -> bool:
        def insert(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "INSERT OR IGNORE INTO deliveries (event_id, source, event, payload, received_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (inbound.event_id, inbound.source, inbound.event, json.dumps(inbound.payload),
                 inbound.received_at),
            )
            return cursor.rowcount == 1

        return await self._run(insert)

    async def claim(self, now: float, lease_seconds: float) -> Claimed | None:
        lease = secrets.token_hex(8)

        def take(db: sqlite3.Connection) -> Claimed | None:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT * FROM deliveries WHERE state = 'pending' AND due_at <= ?"
                    " ORDER BY due_at, id LIMIT 1",
                    (now,),
                ).fetchone()
                if row is None:
                    db.execute("COMMIT")
                    return None
                db.execute(
                    "UPDATE deliveries SET lease = ?, attempts = attempts + 1, due_at = ? WHERE id = ?",
                    (lease, now + lease_seconds, row["id"]),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            inbound = Inbound(
                row["event_id"], row["event"], json.loads(row["payload"]), row["received_at"], row["source"]
            )
            return Claimed(row["id"], lease, row["attempts"] + 1, inbound)

        return await self._run(take)

    async def complete(self, claimed: Claimed, changes: list[Change]) -> bool:
        def finish(db: sqlite3.Connection) -> bool:
            db.execute("BEGIN IMMEDIATE")
            try:
                done = db.execute(
                    "UPDATE deliveries SET state = 'done', lease = NULL, last_error = NULL"
                    " WHERE id = ? AND lease = ? AND state = 'pending'",
                    (claimed.id, claimed.lease),
                ).rowcount
                if done:
                    db.executemany(
                        "INSERT OR IGNORE INTO changes (delivery_id, event_id, event, resource, resource_id,"
                        " person_id, summary, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            (claimed.id, claimed.inbound.event_id, c.event, c.resource, c.resource_id,
                             c.person_id, c.summary, c.at)
                            for c in changes
                        ],
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return bool(done)

        return await self._run(finish)

    async def retry_later(self, claimed: Claimed, error: str, at: float) -> None:
        def note(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE deliveries SET due_at = ?, lease = NULL, last_error = ? WHERE id = ? AND lease = ?",
                (at, error[:500], claimed.id, claimed.lease),
            )

        await self._run(note)

    async def fail(self, claimed: Claimed, error: str) -> None:
        def park(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE deliveries SET state = 'failed', lease = NULL, last_error = ?"
                " WHERE id = ? AND lease = ? AND state = 'pending'",
                (error[:500], claimed.id, claimed.lease),
            )

        await self._run(park)

    async def next_due(self) -> float | None:
        def first(db: sqlite3.Connection) -> float | None:
            row = db.execute("SELECT MIN(due_at) FROM deliveries WHERE state = 'pending'").fetchone()
            return row[0]

        return await self._run(first)

    async def changes(
        self,
        *,
        event: str | None = None,
        person_id: int | None = None,
        since: str | None = None,
        before_id: int | None = None,
        limit: int = 20,
    ) -> list[Change]:
        where, args = ["1 = 1"], []
        for clause, value in (("event = ?", event), ("person_id = ?", person_id), ("at >= ?", since),
                              ("id < ?", before_id)):
            if value is not None:
                where.append(clause)
                args.append(value)

        def select(db: sqlite3.Connection) -> list[Change]:
            rows = db.execute(
                f"SELECT * FROM changes WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
                (*args, limit),
            ).fetchall()
            return [
                Change(r["event"], r["resource"], r["resource_id"], r["person_id"], r["summary"], r["at"],
                       r["event_id"], r["id"])
                for r in rows
            ]

        return await self._run(select)

    async def counts(self) -> dict[str, int]:
        def count(db: sqlite3.Connection) -> dict[str, int]:
            found = {"pending": 0, "done": 0, "failed": 0}
            for row in db.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state"):
                found[row[0]] = row[1]
            found["changes"] = db.execute("SELECT COUNT(*) FROM changes").fetchone()[0]
            return found

        return await self._run(count)
