"""FUB list pages: `_metadata`, the collection key, the next page, and opaque cursors for tools.

A FUB list answer looks like

    {"_metadata": {"collection": "people", "offset": 0, "limit": 25, "total": 1000,
                   "next": "eyJzaW5jZUlkIjoxMDV9", "nextLink": "https://.../people?limit=25&next=..."},
     "people": [...]}

The array's key is `_metadata.collection` when that is present, else the first array-valued key
(FUB's casing varies: `textmessages`, `customfields`, `smartlists`, ...). The next page uses the
`next` cursor whenever FUB gives one (FUB refuses deep offsets, around 2000, with a 400); only
collections without a cursor (custom fields, stages, smart lists, ... -- small ones) page by offset.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fub_mcp.fub.errors import InvalidCursorError

__all__ = ["MAX_PAGE_SIZE", "Page", "decode_cursor", "encode_cursor"]

MAX_PAGE_SIZE = 100  # FUB's maximum `limit`
DEFAULT_PAGE_SIZE = 10  # FUB's default `limit`
_MAX_CURSOR_LENGTH = 8192


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _next_from_link(link: Any) -> str | None:
    if not isinstance(link, str) or not link:
        return None
    values = parse_qs(urlsplit(link).query).get("next")
    return values[0] if values and values[0] else None


@dataclass
class Page:
    """One page of a FUB collection."""

    items: list[dict[str, Any]]
    collection: str
    total: int | None
    offset: int
    limit: int
    next: str | None

    @classmethod
    def from_data(cls, data: Any, *, offset: int = 0, limit: int = DEFAULT_PAGE_SIZE) -> Page:
        """Read a FUB list body; `offset`/`limit` are what was asked, used when `_metadata` is silent."""
        if isinstance(data, list):
            return cls([i for i in data if isinstance(i, dict)], "", len(data), offset, limit, None)
        if not isinstance(data, dict):
            return cls([], "", None, offset, limit, None)
        meta = data.get("_metadata") if isinstance(data.get("_metadata"), dict) else {}
        collection = meta.get("collection") if isinstance(meta.get("collection"), str) else ""
        key = _collection_key(data, collection)
        raw = data.get(key) if key else None
        items = [i for i in raw if isinstance(i, dict)] if isinstance(raw, list) else []
        cursor = meta.get("next") if isinstance(meta.get("next"), str) and meta.get("next") else None
        meta_offset = _int_or_none(meta.get("offset"))
        meta_limit = _int_or_none(meta.get("limit"))
        return cls(
            items=items,
            collection=collection or key or "",
            total=_int_or_none(meta.get("total")),
            offset=meta_offset if meta_offset is not None else offset,
            limit=meta_limit if meta_limit else limit,
            next=cursor or _next_from_link(meta.get("nextLink")),
        )

    def has_next_page(self) -> bool:
        return self.next_page_params() is not None

    def next_page_params(self) -> dict[str, Any] | None:
        """`{"next": cursor}` when FUB gave one; else `{"offset": offset + limit}` when `total` says more
        remain; else None. Merge it over the params of this page's request."""
        if self.next:
            return {"next": self.next}
        if not self.items or self.total is None:
            return None
        following = self.offset + max(self.limit, len(self.items))
        return {"offset": following} if following < self.total else None


def _collection_key(data: dict[str, Any], collection: str) -> str | None:
    if collection:
        if isinstance(data.get(collection), list):
            return collection
        lowered = collection.lower()
        for key, value in data.items():
            if key.lower() == lowered and isinstance(value, list):
                return key
    for key, value in data.items():
        if key != "_metadata" and isinstance(value, list):
            return key
    return None


def encode_cursor(params: dict[str, Any]) -> str:
    """An opaque, URL-safe string for a page's request params (what a tool hands to a model)."""
    raw = json.dumps(params, separators=(",", ":"), sort_keys=True, default=str).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The params inside a cursor from `encode_cursor`; `InvalidCursorError` (a ValueError) on anything else."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > _MAX_CURSOR_LENGTH:
        raise InvalidCursorError
    try:
        raw = base64.urlsafe_b64decode(cursor.strip() + "=" * (-len(cursor.strip()) % 4))
        params = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursorError from None
    if not isinstance(params, dict):
        raise InvalidCursorError
    return params
