"""The account context: who am I, users, stages, pipelines, custom fields and smart lists, cached.

Tools let a model speak in names ("move Jane to Under Contract", "assign to Ray"); this module turns
names into the ids and field names FUB wants, from one cached snapshot of the account's setup, and
answers an unknown name with the valid choices so the model can correct itself in one step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from fub_mcp.fub.errors import InvalidInputError

if TYPE_CHECKING:
    from fub_mcp.fub.client import FUBClient

__all__ = ["AccountContext", "AccountSnapshot", "DEFAULT_TTL", "choices_text", "match_records"]

DEFAULT_TTL = 300.0  # seconds: account setup changes rarely; writes that change it call invalidate()
_MAX_CHOICES_LISTED = 25


@dataclass
class AccountSnapshot:
    """The account's setup as FUB reported it, raw records trimmed to what resolution needs."""

    me: dict[str, Any]
    users: list[dict[str, Any]]
    stages: list[dict[str, Any]]
    pipelines: list[dict[str, Any]]
    custom_fields: list[dict[str, Any]]
    smart_lists: list[dict[str, Any]]
    fetched_at: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def timezone(self) -> str:
        """The calling user's timezone (FUB's `/me` `timeZone`), UTC when FUB gives none."""
        return str(self.me.get("timeZone") or self.me.get("timezone") or "UTC")

    def user_name(self, user_id: int | None) -> str | None:
        for user in self.users:
            if user.get("id") == user_id:
                return user.get("name")
        return None

    def custom_field_labels(self) -> dict[str, str]:
        """FUB field name (`customClosingDate`) -> label (`Closing Date`)."""
        return {f["name"]: f.get("label") or f["name"] for f in self.custom_fields if f.get("name")}


def _norm(text: str) -> str:
    return " ".join(str(text).lower().split())


def choices_text(names: Iterable[str]) -> str:
    names = sorted({n for n in names if n})
    shown = ", ".join(names[:_MAX_CHOICES_LISTED])
    more = f" (and {len(names) - _MAX_CHOICES_LISTED} more)" if len(names) > _MAX_CHOICES_LISTED else ""
    return shown + more


def match_records(records: list[dict[str, Any]], wanted: str | int, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Records whose id equals `wanted`, else whose key equals it (case-insensitive), else unique prefix."""
    text = str(wanted).strip()
    if text.isdigit():
        by_id = [r for r in records if str(r.get("id")) == text]
        if by_id:
            return by_id
    needle = _norm(text)
    exact = [r for r in records if any(_norm(r.get(k) or "") == needle for k in keys)]
    if exact:
        return exact
    return [r for r in records if any(_norm(r.get(k) or "").startswith(needle) for k in keys)] if needle else []


class AccountContext:
    """Caches one `AccountSnapshot` per client for `ttl` seconds and resolves names against it."""

    def __init__(self, client: FUBClient, *, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.monotonic):
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._snapshot: AccountSnapshot | None = None
        self._lock = anyio.Lock()

    def invalidate(self) -> None:
        """Forget the snapshot (after a write that changes stages, fields, users...)."""
        self._snapshot = None

    async def snapshot(self) -> AccountSnapshot:
        """The cached snapshot, fetched (six reads, concurrently) when missing or older than the ttl."""
        current = self._snapshot
        if current is not None and self._clock() - current.fetched_at < self._ttl:
            return current
        async with self._lock:
            current = self._snapshot
            if current is not None and self._clock() - current.fetched_at < self._ttl:
                return current
            self._snapshot = await self._fetch()
            return self._snapshot

    async def _fetch(self) -> AccountSnapshot:
        results: dict[str, Any] = {}

        async def load(key: str, path: str, params: dict[str, Any] | None = None, many: bool = True) -> None:
            if many:
                results[key] = [item async for item in self._client.paginate(path, params, max_items=1000)]
            else:
                results[key] = await self._client.get(path, params)

        async with anyio.create_task_group() as tg:
            tg.start_soon(load, "me", "/me", None, False)
            tg.start_soon(load, "users", "/users", {"sort": "name"})
            tg.start_soon(load, "stages", "/stages", {"sort": "orderWeight"})
            tg.start_soon(load, "pipelines", "/pipelines")
            tg.start_soon(load, "custom_fields", "/customFields")
            tg.start_soon(load, "smart_lists", "/smartLists")
        return AccountSnapshot(
            me=results["me"] or {},
            users=[_pick(u, "id", "name", "firstName", "lastName", "email", "role", "isOwner", "timezone")
                   for u in results["users"]],
            stages=[_pick(s, "id", "name", "orderWeight") for s in results["stages"]],
            pipelines=[
                {**_pick(p, "id", "name"), "stages": [_pick(s, "id", "name", "closedStage") for s in p.get("stages") or []]}
                for p in results["pipelines"]
            ],
            custom_fields=[_pick(f, "id", "label", "name", "type", "choices") for f in results["custom_fields"]],
            smart_lists=[_pick(s, "id", "name") for s in results["smart_lists"]],
            fetched_at=self._clock(),
        )

    # --- resolution ---------------------------------------------------------------------------

    async def user_id(self, wanted: str | int) -> int:
        """A user id from an id, a full name, a first name or an email."""
        snap = await self.snapshot()
        found = match_records(snap.users, wanted, ("name", "email", "firstName"))
        if len(found) == 1:
            return int(found[0]["id"])
        names = [u.get("name") or "" for u in snap.users]
        if not found:
            raise InvalidInputError(f"no user matches {wanted!r}; users: {choices_text(names)}")
        raise InvalidInputError(
            f"{wanted!r} matches several users ({choices_text(u.get('name') or '' for u in found)}); use the full name or id"
        )

    async def person_stage(self, wanted: str | int) -> str:
        """A person stage name (FUB's people endpoints take the name) from a name or an id."""
        snap = await self.snapshot()
        found = match_records(snap.stages, wanted, ("name",))
        if len(found) == 1:
            return str(found[0]["name"])
        raise InvalidInputError(
            f"no person stage matches {wanted!r}; stages: {choices_text(s.get('name') or '' for s in snap.stages)}"
        )

    async def pipeline(self, wanted: str | int) -> dict[str, Any]:
        """A pipeline record (with its stages) from a name or an id."""
        snap = await self.snapshot()
        found = match_records(snap.pipelines, wanted, ("name",))
        if len(found) == 1:
            return found[0]
        raise InvalidInputError(
            f"no pipeline matches {wanted!r}; pipelines: {choices_text(p.get('name') or '' for p in snap.pipelines)}"
        )

    async def deal_stage(self, wanted: str | int, pipeline: str | int | None = None) -> tuple[int, int]:
        """(stage id, pipeline id) for a deal stage name or id, optionally within one pipeline."""
        snap = await self.snapshot()
        pipelines = [await self.pipeline(pipeline)] if pipeline is not None else snap.pipelines
        candidates = [{**s, "pipelineId": p["id"], "pipelineName": p.get("name")} for p in pipelines for s in p["stages"]]
        found = match_records(candidates, wanted, ("name",))
        if len(found) == 1:
            return int(found[0]["id"]), int(found[0]["pipelineId"])
        listing = choices_text(f"{c['pipelineName']} / {c.get('name')} (id {c['id']})" for c in (found or candidates))
        if not found:
            raise InvalidInputError(f"no deal stage matches {wanted!r}; stages: {listing}")
        raise InvalidInputError(f"{wanted!r} is a stage in several pipelines; name the pipeline or use an id: {listing}")

    async def custom_field(self, wanted: str) -> dict[str, Any]:
        """A person custom field record from its label (`Closing Date`) or name (`customClosingDate`)."""
        snap = await self.snapshot()
        text = str(wanted).strip()
        candidates = [text, f"custom{text}"]
        for field_ in snap.custom_fields:
            if field_.get("name") in candidates:
                return field_
        found = match_records(snap.custom_fields, text, ("label", "name"))
        if len(found) == 1:
            return found[0]
        raise InvalidInputError(
            f"no custom field matches {wanted!r}; fields: "
            + choices_text(f"{f.get('label')} ({f.get('name')})" for f in snap.custom_fields)
        )

    async def smart_list_id(self, wanted: str | int) -> int:
        """A smart list id from its name or id."""
        snap = await self.snapshot()
        found = match_records(snap.smart_lists, wanted, ("name",))
        if len(found) == 1:
            return int(found[0]["id"])
        raise InvalidInputError(
            f"no smart list matches {wanted!r}; smart lists: {choices_text(s.get('name') or '' for s in snap.smart_lists)}"
        )


def _pick(record: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: record[k] for k in keys if k in record}
