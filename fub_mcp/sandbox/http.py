"""The request object handlers see, JSON responses, and FUB's list envelope with keyset cursors."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from fub_mcp.sandbox._util import FUBError, as_int, bad_request, dumps
from fub_mcp.sandbox.db import SortSpec

if TYPE_CHECKING:
    from fub_mcp.sandbox.app import Sandbox

__all__ = ["MAX_LIMIT", "MAX_OFFSET", "Req", "endpoint", "json_response", "no_content", "paginate"]

_log = logging.getLogger("fub_mcp.sandbox")

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MAX_OFFSET = 2000  # deeper offsets are refused: FUB enforces `next` for deep pagination (⚠️ ~1000-2000)
_UNSET = object()


@dataclass
class Req:
    """One authenticated API request."""

    sandbox: Sandbox
    scope: Mapping[str, Any]
    method: str
    path: str  # relative to /v1, e.g. "/people/12"
    path_params: dict[str, Any]
    query: dict[str, str]
    raw_body: bytes
    user: dict[str, Any]
    api_key: str
    registered: bool
    system: str | None
    _body: Any = field(default=_UNSET, repr=False)

    @property
    def owner(self) -> bool:
        return bool(self.user.get("isOwner"))

    @property
    def user_id(self) -> int:
        return int(self.user["id"])

    def q(self, name: str) -> str | None:
        """A query parameter, None when absent or blank."""
        value = self.query.get(name)
        return value if value not in (None, "") else None

    def body(self) -> dict[str, Any]:
        """The JSON object sent; 400 for anything else."""
        if self._body is _UNSET:
            if not self.raw_body.strip():
                self._body = {}
            else:
                try:
                    self._body = json.loads(self.raw_body)
                except ValueError:
                    raise bad_request("The request body is not valid JSON") from None
        if not isinstance(self._body, dict):
            raise bad_request("The request body must be a JSON object")
        return self._body

    def require_registered(self) -> None:
        if not self.registered:
            raise FUBError(
                403,
                "Only registered systems can call this endpoint: send valid X-System and "
                "X-System-Key headers",
            )


def json_response(data: Any, status: int = 200) -> Response:
    return Response(dumps(data), status_code=status, media_type="application/json")


def no_content() -> Response:
    return Response(status_code=204)


def error_response(error: FUBError) -> Response:
    response = json_response({"errorMessage": error.message}, error.status)
    response.headers.update(error.headers)
    return response


Handler = Callable[[Req], Awaitable[Response]]


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint around a sandbox handler: builds the `Req`, turns errors into FUB's shape."""

    async def run(request: Request) -> Response:
        ctx = request.scope["fub.ctx"]
        req = Req(path_params=dict(request.path_params), scope=request.scope, **ctx)
        try:
            return await handler(req)
        except FUBError as error:
            return error_response(error)
        except Exception:
            _log.exception("sandbox handler failed: %s %s", req.method, req.path)
            return json_response({"errorMessage": "Internal server error"}, 500)

    run.__name__ = getattr(handler, "__name__", "endpoint")
    return run


# --- list envelope and cursors ----------------------------------------------------------------------


def encode_cursor(payload: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(dumps(payload).encode()).decode().rstrip("=")


def decode_cursor(text: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error):
        raise bad_request("Invalid value for the next parameter") from None
    if not isinstance(data, dict) or not isinstance(data.get("sinceId"), int):
        raise bad_request("Invalid value for the next parameter")
    return data


def parse_sort(req: Req, sorts: Mapping[str, str], default: str) -> SortSpec:
    text = req.q("sort") or default
    desc = text.startswith("-")
    name = text.lstrip("-+ ").strip()
    if name not in sorts:
        raise bad_request(f"Invalid sort field '{name}'. Valid: {', '.join(sorts)}")
    return SortSpec(name, sorts[name], desc)


def api_root(req: Req) -> str:
    """The absolute /v1 URL the client used (Host header), else the sandbox's configured base URL."""
    headers = dict(req.scope.get("headers") or [])
    host = headers.get(b"host", b"").decode("latin-1")
    if not host:
        return req.sandbox.base_url
    return f"{req.scope.get('scheme', 'http')}://{host}/v1"


BASIC_SORTS = {
    "id": "id",
    "created": "COALESCE(json_extract(data, '$.created'), '')",
    "updated": "COALESCE(json_extract(data, '$.updated'), '')",
}


def paginate(
    req: Req,
    table: str,
    key: str,
    *,
    where: Sequence[str] = (),
    params: Sequence[Any] = (),
    sorts: Mapping[str, str] = BASIC_SORTS,
    default_sort: str = "-id",
    serialize: Callable[[dict[str, Any]], dict[str, Any]] = lambda doc: doc,
    cursors: bool = True,
) -> Response:
    """FUB's list answer: `{"_metadata": {collection, offset, limit, total[, next, nextLink]}, key: [...]}`.

    Newest first by default (id descending), `limit` 10 by default and at most 100 (larger values are
    clamped), `offset` up to 2000 (deeper -> 400: use `next`), and a `next` cursor -- base64 of a JSON
    keyset position like FUB's `{"sinceId": 105}` -- with `nextLink` only while more rows remain.
    """
    limit = DEFAULT_LIMIT if req.q("limit") is None else as_int(req.q("limit"), "limit", minimum=1)
    limit = min(limit, MAX_LIMIT)
    token = req.q("next") if cursors else None
    cursor = decode_cursor(token) if token else None
    if cursor is not None and req.q("sort") is None:  # the cursor remembers its sort
        default_sort = ("-" if cursor.get("desc", True) else "") + str(cursor.get("sort", "id"))
    sort = parse_sort(req, sorts, default_sort)
    after: tuple[Any, int] | None = None
    offset = 0
    if cursor is not None:
        if (cursor.get("sort", "id"), cursor.get("desc", True)) != (sort.name, sort.desc):
            raise bad_request("The next parameter does not match this request's sort; start again without it")
        after = (cursor.get("sinceValue"), cursor["sinceId"])
        skipped = as_int(cursor.get("offset", 0), "next")
    else:
        offset = 0 if req.q("offset") is None else as_int(req.q("offset"), "offset", minimum=0)
        if offset > MAX_OFFSET:
            raise bad_request(
                f"Offset {offset} is too deep (maximum {MAX_OFFSET}): page with the next parameter from "
                "_metadata instead of offset"
            )
        skipped = offset
    rows, total, more = req.sandbox.db.page(
        table, where, params, sort, limit=limit, offset=offset, after=after
    )
    meta: dict[str, Any] = {"collection": key, "offset": skipped, "limit": limit, "total": total}
    if cursors and more and rows:
        value, last = rows[-1][0], rows[-1][1]
        payload: dict[str, Any] = {"sinceId": last["id"]}
        if (sort.name, sort.desc) != ("id", True):
            payload.update(sort=sort.name, desc=sort.desc, sinceValue=value)
        payload["offset"] = skipped + len(rows)
        token = encode_cursor(payload)
        kept = [(k, v) for k, v in req.query.items() if k not in ("next", "offset", "limit")]
        link_query = urlencode([("limit", str(limit)), *kept, ("next", token)])
        meta["next"] = token
        meta["nextLink"] = f"{api_root(req)}{req.path}?{link_query}"
    return json_response({"_metadata": meta, key: [serialize(doc) for _, doc in rows]})
