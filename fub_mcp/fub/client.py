"""`FUBClient`: the one client every tool, session and webhook handler uses to talk to FUB.

One pooled `httpx.AsyncClient` per API key. Every call goes through one `request()` loop:

    reserve a rate slot (RateLimiter: FIFO, deadline-aware)
      -> take a concurrency slot (at most `max_concurrency` in flight)
      -> confirm the rate slot still fits (FUB's headers may have shrunk the budget; else queue again)
      -> send (FUBAuth adds Basic auth and the X-System headers)
      -> stamp the slot, follow the X-RateLimit-* headers, write the audit line
      -> success, or an error from `errors.py`, or a retry decided by `retry.py`

Retries (details and reasons in `retry.py`): 429 for every method after `Retry-After` (the limiter
blocks the whole context meanwhile); 5xx, 408, malformed 2xx and broken/timed-out connections for
GET, PUT and DELETE, and for `POST /events`; connection failures where nothing reached FUB for every
method. Any other POST that FUB may have processed is not re-sent: the error says to check first.
Backoff: the n-th retry waits min(2**n + random_ms/1000, max_backoff). A call never waits past its
deadline: when the next wait would cross it, it fails at once with "retry after N s".

Nothing here logs or repeats the API key or the system key; they live only in `FUBAuth`.
"""

from __future__ import annotations

import hashlib
import json as _json
import logging
import random as _random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import anyio
import httpx

from fub_mcp import __version__
from fub_mcp.fub.audit import AuditLog, redact_query
from fub_mcp.fub.auth import FUBAuth
from fub_mcp.fub.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    ConfigError,
    DeadlineExceededError,
    NotFoundError,
    ServerError,
    describe_resource,
    make_status_error,
)
from fub_mcp.fub.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from fub_mcp.fub.ratelimit import DEFAULT_RATE_WINDOW, RateLimiter, RateStore, busy_error
from fub_mcp.fub.retry import (
    DEFAULT_CALL_DEADLINE,
    DEFAULT_MAX_BACKOFF,
    DEFAULT_MAX_RETRIES,
    Delivery,
    backoff_delay,
    classify_transport_error,
    draw_jitter_ms,
    may_resend,
    parse_retry_after,
)

if TYPE_CHECKING:
    from fub_mcp.config import Settings

__all__ = ["DEFAULT_BASE_URL", "USER_AGENT", "ClientStats", "FUBClient", "FUBResponse"]

DEFAULT_BASE_URL = "https://api.followupboss.com/v1"
USER_AGENT = f"fub-mcp/{__version__} (+https://github.com/fub-mcp/fub-mcp)"
DEFAULT_TIMEOUT = 30.0  # seconds per attempt (read/write)
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_MAX_CONCURRENCY = 16  # requests in flight per client
_MAX_ERROR_MESSAGE = 500  # characters of FUB's errorMessage kept

_log = logging.getLogger("fub_mcp.fub.client")


@dataclass(frozen=True)
class FUBResponse:
    """A successful FUB answer: `data` is the parsed JSON, or None for 204 / an empty body."""

    status_code: int
    data: Any
    headers: Mapping[str, str]


@dataclass
class ClientStats:
    """Counters since the client was built (`FUBClient.stats` returns a snapshot)."""

    calls: int = 0  # request() calls
    requests_sent: int = 0  # attempts that went on the wire (retries included)
    retries: int = 0
    rate_limited_responses: int = 0  # 429s seen
    rate_limit_waits: int = 0  # attempts that waited for rate budget or a Retry-After block
    rate_limit_wait_seconds: float = 0.0
    phantom_entries: int = 0  # usage FUB reported that this client did not cause
    server_errors: int = 0  # 5xx answers seen
    transport_errors: int = 0
    deadline_exceeded: int = 0
    posts_not_resent: int = 0  # POSTs FUB may have processed, left for the caller to check
    in_flight: int = 0
    max_in_flight: int = 0


def encode_params(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """FUB query params: None dropped, bools as "true"/"false", lists joined with ","."""

    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    query: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set, frozenset)):
            value = ",".join(text(v) for v in value if v is not None)
        query.append((str(key), text(value)))
    return query


def _as_int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _split_path(path: str, params: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    if "://" in path or path.startswith("//"):
        raise ValueError("path must be relative to the base URL, e.g. /people/12")  # never send the key elsewhere
    bare, _, query = path.partition("?")
    merged: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    merged.update(params or {})
    return "/" + bare.lstrip("/"), merged


def _error_message(response: httpx.Response) -> str | None:
    """FUB's `errorMessage` from an error body; None when the body is not FUB's JSON."""
    try:
        body = _json.loads(response.content) if response.content else None
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    message = body.get("errorMessage") or body.get("message")
    if message is None:
        return None
    return str(message)[:_MAX_ERROR_MESSAGE]


class _Malformed(Exception):
    pass


def _parse_body(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content.strip():
        return None
    try:
        return _json.loads(response.content)
    except ValueError:
        raise _Malformed from None


def _check_first(path: str) -> str:
    what = describe_resource(path)
    how = "search people by email or phone" if what == "people" else f"list the person's {what}"
    return f"Check whether it exists ({how}) before trying again."


class FUBClient:
    """Async FUB API client: auth, retries, rate limiting, pagination and the audit trail."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        system: str | None = None,
        system_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_backoff: float = DEFAULT_MAX_BACKOFF,
        call_deadline: float = DEFAULT_CALL_DEADLINE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        rate_limits: Mapping[str, int | None] | None = None,
        rate_window: float = DEFAULT_RATE_WINDOW,
        audit: AuditLog | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        random: Callable[[], float] = _random.random,
        rate_store: RateStore | None = None,
    ) -> None:
        if not api_key:
            raise ConfigError("FUB_API_KEY is not set: give the FUB API key (Admin → API in FUB)")
        if max_retries < 0 or max_backoff <= 0 or call_deadline <= 0 or max_concurrency < 1:
            raise ValueError("max_retries >= 0, max_backoff > 0, call_deadline > 0 and max_concurrency >= 1")
        self._auth = FUBAuth(api_key, system=system, system_key=system_key)
        self._key_id = hashlib.sha256(api_key.encode()).hexdigest()[:16]  # names this key in shared stores
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._max_retries = max_retries
        self._max_backoff = max_backoff
        self._call_deadline = call_deadline
        self._audit = audit
        self._clock = clock
        self._sleep = sleep
        self._random = random
        self._semaphore = anyio.Semaphore(max_concurrency)
        self._limiter = RateLimiter(
            limits=rate_limits,
            window=rate_window,
            registered=self._auth.registered,
            store=rate_store,
            scope=self._key_id,
            clock=clock,
            sleep=sleep,
        )
        self._stats = ClientStats()
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            auth=self._auth,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency),
            transport=transport,
            follow_redirects=False,
        )

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> FUBClient:
        """A client configured from `Settings`; keyword overrides win (`transport=`, `audit=`, ...)."""
        if "api_key" not in overrides:
            key = settings.api_key.get_secret_value() if settings.api_key is not None else ""
            if not key:
                raise ConfigError("FUB_API_KEY is not set: export your FUB API key (Admin → API in FUB)")
            overrides["api_key"] = key
        rate_limits: dict[str, int | None] = {}
        if settings.rate_limit_global is not None:
            rate_limits["global"] = settings.rate_limit_global
        if settings.rate_limit_events is not None:
            rate_limits["events"] = settings.rate_limit_events
        options: dict[str, Any] = {
            "base_url": settings.base_url,
            "system": settings.system,
            "system_key": settings.system_key.get_secret_value() if settings.system_key is not None else None,
            "timeout": settings.timeout,
            "connect_timeout": settings.connect_timeout,
            "max_retries": settings.max_retries,
            "max_backoff": settings.max_backoff,
            "call_deadline": settings.call_deadline,
            "max_concurrency": settings.max_concurrency,
            "rate_limits": rate_limits or None,
            "rate_window": settings.rate_window,
        }
        if "audit" not in overrides:
            options["audit"] = AuditLog.from_setting(settings.audit_log)
        options.update(overrides)
        return cls(**options)

    # --- properties -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def key_id(self) -> str:
        """A short hash naming this client's API key (safe to log; not the key)."""
        return self._key_id

    @property
    def registered(self) -> bool:
        """True when X-System and X-System-Key are both sent."""
        return self._auth.registered

    @property
    def limiter(self) -> RateLimiter:
        return self._limiter

    @property
    def audit(self) -> AuditLog | None:
        return self._audit

    @property
    def stats(self) -> ClientStats:
        """A snapshot of the counters."""
        limiter = self._limiter.stats
        return replace(
            self._stats,
            rate_limit_waits=limiter.waits,
            rate_limit_wait_seconds=limiter.wait_seconds,
            phantom_entries=limiter.phantom_entries,
        )

    def __repr__(self) -> str:
        return f"FUBClient(base_url={self._base_url!r}, system={self._auth.system!r}, key_id={self._key_id!r})"

    # --- lifecycle --------------------------------------------------------------------------------

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> FUBClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --- shortcuts --------------------------------------------------------------------------------

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return (await self.request("GET", path, params=params)).data

    async def post(self, path: str, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        return (await self.request("POST", path, params=params, json=json)).data

    async def put(self, path: str, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        return (await self.request("PUT", path, params=params, json=json)).data

    async def delete(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return (await self.request("DELETE", path, params=params)).data

    # --- pagination -------------------------------------------------------------------------------

    async def get_page(self, path: str, params: Mapping[str, Any] | None = None) -> Page:
        """One page of a collection. With a `next` cursor in `params`, `offset` is dropped."""
        query = dict(params or {})
        if query.get("next"):
            query.pop("offset", None)
        limit = _as_int(query.get("limit"))
        if limit is not None:
            query["limit"] = limit = max(1, min(limit, MAX_PAGE_SIZE))
        response = await self.request("GET", path, params=query)
        return Page.from_data(response.data, offset=_as_int(query.get("offset")) or 0, limit=limit or DEFAULT_PAGE_SIZE)

    async def paginate(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        max_items: int,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of a collection, page after page (the `next` cursor when FUB gives one), up to
        `max_items` -- a hard cap every multi-page read must set."""
        if max_items < 0:
            raise ValueError("max_items must be >= 0")
        page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        query = dict(params or {})
        yielded = 0
        seen_cursors: set[str] = set()
        while yielded < max_items:
            query["limit"] = min(page_size, max_items - yielded)
            page = await self.get_page(path, query)
            for item in page.items:
                yield item
                yielded += 1
                if yielded >= max_items:
                    return
            following = page.next_page_params()
            if following is None or not page.items:
                return
            cursor = following.get("next")
            if cursor is not None:
                if cursor in seen_cursors:  # FUB handed back a cursor it already gave: stop, don't loop
                    return
                seen_cursors.add(cursor)
                query.pop("offset", None)
            query.update(following)

    # --- the request loop -------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        deadline: float | None = None,
    ) -> FUBResponse:
        """Send one API call (retrying as `retry.py` allows) and return FUB's answer or raise."""
        method = method.upper()
        path, merged = _split_path(path, params)
        query = encode_params(merged)
        deadline_at = self._clock() + (self._call_deadline if deadline is None else deadline)
        call_id = uuid.uuid4().hex[:12]
        what = describe_resource(path)
        self._stats.calls += 1
        retry = 0
        maybe_processed = False  # an earlier attempt may have reached FUB and been processed
        while True:
            response, error, context = await self._attempt(
                method, path, query, json, deadline_at=deadline_at, attempt=retry + 1, call_id=call_id
            )
            final: APIError
            if error is not None:
                self._stats.transport_errors += 1
                kind = APITimeoutError if isinstance(error, httpx.TimeoutException) else APIConnectionError
                name = type(error).__name__
                delivery = classify_transport_error(error) if isinstance(error, httpx.TransportError) else None
                if delivery is Delivery.FATAL:
                    raise kind(
                        f"could not send {method} {what} to FUB ({name}); check FUB_BASE_URL.",
                        method=method,
                        path=path,
                    )
                if delivery is not Delivery.NOT_SENT:
                    maybe_processed = True
                    if not may_resend(method, path):
                        self._stats.posts_not_resent += 1
                        raise kind(
                            f"FUB did not answer {method} {what} ({name}). FUB may have stored it anyway, so it "
                            f"was not sent again. {_check_first(path)}",
                            method=method,
                            path=path,
                        )
                problem = f"{name} on {method} {what}"
                final = kind(
                    f"could not reach FUB for {method} {what} after {retry + 1} attempts ({name}); "
                    "try again in a minute.",
                    method=method,
                    path=path,
                )
            else:
                assert response is not None
                status = response.status_code
                if 200 <= status < 300:
                    try:
                        return FUBResponse(status, _parse_body(response), response.headers)
                    except _Malformed:
                        maybe_processed = True
                        problem = f"a malformed {status} answer to {method} {what}"
                        final = APIError(
                            f"FUB sent a malformed response to {method} {what}.", method=method, path=path
                        )
                        if method == "POST" or not may_resend(method, path):
                            raise APIError(
                                f"FUB sent a malformed response to {method} {what}, but it answered {status}, "
                                f"so it probably stored it. {_check_first(path)}",
                                method=method,
                                path=path,
                            ) from None
                elif status == 429:
                    self._stats.rate_limited_responses += 1
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    wait = retry_after if retry_after is not None else self._backoff(retry)
                    # FUB: wait before retrying "or sending any other request": block the whole context,
                    # whether or not this call waits too (the others then fail fast instead of sending).
                    await self._limiter.block(context, wait)
                    if retry >= self._max_retries or self._clock() + wait > deadline_at:
                        raise make_status_error(
                            429, method=method, path=path, error_message=_error_message(response), retry_after=wait
                        )
                    retry += 1
                    self._stats.retries += 1
                    continue
                elif status == 408 or status >= 500:
                    maybe_processed = True
                    if status >= 500:
                        self._stats.server_errors += 1
                    error_message = _error_message(response)
                    if not may_resend(method, path):
                        self._stats.posts_not_resent += 1
                        kind_status = ServerError if status >= 500 else APIStatusError
                        raise kind_status(
                            f"FUB answered {status} to {method} {what}. FUB may have stored it anyway, so it was "
                            f"not sent again. {_check_first(path)}",
                            status_code=status,
                            method=method,
                            path=path,
                            error_message=error_message,
                        )
                    problem = f"FUB answered {status} to {method} {what}"
                    final = make_status_error(status, method=method, path=path, error_message=error_message)
                else:
                    raise self._status_error(response, method, path, maybe_processed)
            # A retryable failure (not 429): back off, unless out of retries or of time.
            if retry >= self._max_retries:
                raise final
            wait = self._backoff(retry)
            if self._clock() + wait > deadline_at:
                self._stats.deadline_exceeded += 1
                raise busy_error(
                    wait,
                    method=method,
                    path=path,
                    reason=f"{problem}; waiting {wait:.1f} s more would pass this call's deadline",
                )
            retry += 1
            self._stats.retries += 1
            await self._sleep(wait)

    def _backoff(self, retry: int) -> float:
        return backoff_delay(retry, draw_jitter_ms(self._random), self._max_backoff)

    @staticmethod
    def _status_error(response: httpx.Response, method: str, path: str, maybe_processed: bool) -> APIStatusError:
        error = make_status_error(
            response.status_code, method=method, path=path, error_message=_error_message(response)
        )
        if isinstance(error, NotFoundError) and method == "DELETE" and maybe_processed:
            return NotFoundError(
                f"{error.message} An earlier attempt of this DELETE may already have deleted it.",
                status_code=error.status_code,
                method=method,
                path=path,
                error_message=error.error_message,
            )
        return error

    async def _attempt(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        body: Any,
        *,
        deadline_at: float,
        attempt: int,
        call_id: str,
    ) -> tuple[httpx.Response | None, httpx.TransportError | httpx.DecodingError | None, str]:
        """One attempt: rate slot, concurrency slot, confirm the rate slot (else queue again), send, settle
        the slot, audit. Returns (response or None, transport error or None, the rate context FUB named)."""
        context = self._limiter.context_for(method, path)
        audit = {"call": call_id, "method": method, "path": path, "query": query, "attempt": attempt}
        response: httpx.Response | None = None
        error: httpx.TransportError | httpx.DecodingError | None = None
        started = ended = self._clock()
        sent = False
        while not sent:
            try:
                slot = await self._limiter.acquire(context, deadline_at=deadline_at, method=method, path=path)
            except DeadlineExceededError as exc:
                self._stats.deadline_exceeded += 1
                self._record(audit, status=type(exc).__name__, latency=0.0, context=context, remaining=None)
                raise
            try:
                async with self._semaphore:
                    if not await self._limiter.confirm(slot):
                        continue  # the budget shrank while this waited for a concurrency slot: queue again
                    remaining_time = deadline_at - self._clock()
                    if remaining_time <= 0:
                        self._stats.deadline_exceeded += 1
                        reason = "this call's deadline passed before it could be sent"
                        late = busy_error(1.0, method=method, path=path, reason=reason)
                        self._record(
                            audit, status=type(late).__name__, latency=0.0, context=context, remaining=None
                        )
                        raise late
                    timeout = httpx.Timeout(
                        min(self._timeout, remaining_time), connect=min(self._connect_timeout, remaining_time)
                    )
                    sent = True
                    self._stats.requests_sent += 1
                    self._stats.in_flight += 1
                    self._stats.max_in_flight = max(self._stats.max_in_flight, self._stats.in_flight)
                    started = self._clock()
                    try:
                        response = await self._http.request(
                            method, path, params=query, json=body, timeout=timeout
                        )
                    except (httpx.TransportError, httpx.DecodingError) as exc:
                        error = exc
                    finally:
                        self._stats.in_flight -= 1
                        ended = self._clock()
            finally:
                with anyio.CancelScope(shield=True):
                    if sent:
                        await self._limiter.complete(slot, at=self._clock())
                    else:
                        await self._limiter.release(slot)
        named, remaining = context, None
        if response is not None:
            # A 429's Retry-After is FUB's exact word on when to go on; its Remaining (0) is not needed.
            named, remaining = await self._limiter.observe(
                context,
                response.headers,
                method=method,
                path=path,
                at=ended,
                sync_usage=response.status_code != 429,
            )
        if isinstance(error, httpx.DecodingError):
            # Content-Encoding garbage: treat like a malformed body of whatever status FUB sent.
            error = httpx.ReadError(f"undecodable response ({type(error).__name__})")
        status: int | str = response.status_code if response is not None else type(error).__name__
        self._record(audit, status=status, latency=ended - started, context=named, remaining=remaining)
        return response, error, named

    def _record(
        self, audit: dict[str, Any], *, status: int | str, latency: float, context: str, remaining: int | None
    ) -> None:
        if self._audit is None and not _log.isEnabledFor(logging.DEBUG):
            return
        fields = {
            "kind": "http",
            **audit,
            "query": redact_query(dict(audit["query"])),
            "status": status,
            "latency_ms": round(latency * 1000),
            "rate_context": context,
            "rate_remaining": remaining,
        }
        if self._audit is not None:
            self._audit.record(**fields)
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug("fub %s", _json.dumps(fields, separators=(",", ":"), default=str))
