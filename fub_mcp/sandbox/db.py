"""SQLite storage: every resource is a JSON document plus a few generated, indexed columns.

One connection (`check_same_thread=False`) behind a re-entrant lock; every write runs in its own
`BEGIN IMMEDIATE ... COMMIT`, so an acknowledged write is on disk before the response is sent
(file databases use WAL with `synchronous=FULL`). Ids come from `AUTOINCREMENT`, so a deleted id is
never handed out again, and list pages are keyset queries on the primary key (or on `(sort, id)`),
so paging through 10,000 rows costs the same per page at the end as at the start.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fub_mcp.sandbox._util import dumps, norm_phone

__all__ = ["Database", "SortSpec", "TABLES"]


def _col(name: str, path: str, kind: str = "INTEGER") -> str:
    return f"{name} {kind} GENERATED ALWAYS AS (json_extract(data, '$.{path}')) STORED"


_PERSON = _col("person_id", "personId")

# table -> generated columns (each gets an index)
TABLES: dict[str, list[str]] = {
    "users": [],
    "stages": [],
    "pipelines": [],
    "customfields": [],
    "dealcustomfields": [],
    "smartlists": [],
    "actionplans": [],
    "appointmenttypes": [],
    "appointmentoutcomes": [],
    "people": [
        _col("stage_id", "stageId"),
        _col("assigned_user_id", "assignedUserId"),
        _col("created", "created", "TEXT"),
    ],
    "events": [_PERSON],
    "notes": [_PERSON],
    "calls": [_PERSON],
    "textmessages": [_PERSON],
    "tasks": [_PERSON],
    "appointments": [],
    "deals": [],
    "actionplanspeople": [_PERSON],
    "webhooks": [_col("event", "event", "TEXT")],
    "inboxapps": [],
    "inboxmessages": [],
    "inboxnotes": [],
    "inboxconversations": [],
}

_EXTRA_SCHEMA = [
    # emails (lower-cased), phones (normalised digits) and tags (lower-cased) of each person
    "CREATE TABLE IF NOT EXISTS person_keys "
    "(person_id INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS person_keys_value ON person_keys (kind, value)",
    "CREATE INDEX IF NOT EXISTS person_keys_person ON person_keys (person_id)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
]


@dataclass(frozen=True)
class SortSpec:
    """ORDER BY `expr` (never NULL), ties broken by id in the same direction."""

    name: str  # as given in `sort` (without the "-"), echoed in cursors
    expr: str
    desc: bool


class Database:
    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        # digits(phone): the normalised phone number, for phone filters in SQL
        self.conn.create_function(
            "digits", 1, lambda v: norm_phone(v) if v is not None else None, deterministic=True
        )
        if path != ":memory:" and not path.startswith("file::memory:"):
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
        self.create_schema()

    # --- schema and lifecycle ---------------------------------------------------------------------

    def create_schema(self) -> None:
        with self.write():
            for table, columns in TABLES.items():
                cols = "".join(f", {c}" for c in columns)
                self.conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} "
                    f"(id INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL{cols})"
                )
                for column in columns:
                    name = column.split()[0]
                    self.conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_{name} ON {table} ({name})")
            for statement in _EXTRA_SCHEMA:
                self.conn.execute(statement)

    def wipe(self) -> None:
        """Drop every row and restart every id sequence (used by reset)."""
        with self.write():
            for table in TABLES:
                self.conn.execute(f"DELETE FROM {table}")
            self.conn.execute("DELETE FROM person_keys")
            self.conn.execute("DELETE FROM meta")
            self.conn.execute("DELETE FROM sqlite_sequence")

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    # --- transactions -----------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One atomic, committed write (nested calls join the outer transaction)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
            except BaseException:
                self._depth = 0
                self.conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self.conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self.conn

    # --- documents --------------------------------------------------------------------------------

    @staticmethod
    def _doc(row_id: int, data: str) -> dict[str, Any]:
        return {"id": row_id, **json.loads(data)}

    def insert(self, table: str, doc: dict[str, Any]) -> dict[str, Any]:
        """Store `doc` (its "id" is assigned here, or kept when given) and return it with the id."""
        body = {k: v for k, v in doc.items() if k != "id"}
        with self.write() as conn:
            if doc.get("id") is not None:
                conn.execute(f"INSERT INTO {table} (id, data) VALUES (?, ?)", (doc["id"], dumps(body)))
                row_id = int(doc["id"])
            else:
                cur = conn.execute(f"INSERT INTO {table} (data) VALUES (?)", (dumps(body),))
                row_id = int(cur.lastrowid or 0)
        return {"id": row_id, **body}

    def insert_many(self, table: str, docs: Sequence[dict[str, Any]]) -> None:
        """Bulk insert of documents that carry their ids (seeding)."""
        with self.write() as conn:
            conn.executemany(
                f"INSERT INTO {table} (id, data) VALUES (?, ?)",
                [(d["id"], dumps({k: v for k, v in d.items() if k != "id"})) for d in docs],
            )

    def get(self, table: str, row_id: int) -> dict[str, Any] | None:
        with self.read() as conn:
            row = conn.execute(f"SELECT id, data FROM {table} WHERE id = ?", (row_id,)).fetchone()
        return self._doc(*row) if row else None

    def update(self, table: str, doc: dict[str, Any]) -> None:
        body = {k: v for k, v in doc.items() if k != "id"}
        with self.write() as conn:
            conn.execute(f"UPDATE {table} SET data = ? WHERE id = ?", (dumps(body), doc["id"]))

    def delete(self, table: str, row_id: int) -> None:
        with self.write() as conn:
            conn.execute(f"DELETE FROM {table} WHERE id = ?", (row_id,))

    def select(
        self, table: str, where: str = "1", params: Sequence[Any] = (), order: str = "id"
    ) -> list[dict[str, Any]]:
        with self.read() as conn:
            rows = conn.execute(
                f"SELECT id, data FROM {table} WHERE {where} ORDER BY {order}", tuple(params)
            ).fetchall()
        return [self._doc(*r) for r in rows]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self.read() as conn:
            row = conn.execute(sql, tuple(params)).fetchone()
        return row[0] if row else None

    def page(
        self,
        table: str,
        where: Sequence[str],
        params: Sequence[Any],
        sort: SortSpec,
        *,
        limit: int,
        offset: int = 0,
        after: tuple[Any, int] | None = None,
    ) -> tuple[list[tuple[Any, dict[str, Any]]], int, bool]:
        """One page: ([(sort value, doc)], total matching, more rows remain)."""
        condition = " AND ".join(f"({w})" for w in where) or "1"
        direction = "DESC" if sort.desc else "ASC"
        op = "<" if sort.desc else ">"
        with self.read() as conn:
            total = conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {condition}", tuple(params)).fetchone()[
                0
            ]
            keyset, keyset_params = "", []
            if after is not None:
                if sort.expr == "id":
                    keyset, keyset_params = f" AND id {op} ?", [after[1]]
                else:
                    keyset, keyset_params = f" AND ({sort.expr}, id) {op} (?, ?)", [after[0], after[1]]
            order = f"{sort.expr} {direction}" + ("" if sort.expr == "id" else f", id {direction}")
            rows = conn.execute(
                f"SELECT id, {sort.expr}, data FROM {table} WHERE {condition}{keyset} "
                f"ORDER BY {order} LIMIT ? OFFSET ?",
                (*params, *keyset_params, limit + 1, offset),
            ).fetchall()
        more = len(rows) > limit
        return [(value, self._doc(row_id, data)) for row_id, value, data in rows[:limit]], total, more

    # --- person keys ------------------------------------------------------------------------------

    def set_person_keys(self, person_id: int, keys: Sequence[tuple[str, str]]) -> None:
        with self.write() as conn:
            conn.execute("DELETE FROM person_keys WHERE person_id = ?", (person_id,))
            conn.executemany(
                "INSERT INTO person_keys (person_id, kind, value) VALUES (?, ?, ?)",
                [(person_id, kind, value) for kind, value in keys if value],
            )

    def people_with_key(self, kind: str, value: str) -> list[int]:
        with self.read() as conn:
            rows = conn.execute(
                "SELECT DISTINCT person_id FROM person_keys WHERE kind = ? AND value = ? ORDER BY person_id",
                (kind, value),
            ).fetchall()
        return [r[0] for r in rows]

    # --- meta -------------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        return self.scalar("SELECT value FROM meta WHERE key = ?", (key,))

    def set_meta(self, key: str, value: str) -> None:
        with self.write() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
