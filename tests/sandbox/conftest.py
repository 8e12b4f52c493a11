"""Fixtures for the sandbox's contract tests: an app per test, a client, a fake clock, a receiver."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from fub_mcp.sandbox import SANDBOX_API_KEY, SANDBOX_SYSTEM, SANDBOX_SYSTEM_KEY, create_app

BASE = "http://sandbox/v1"
SYSTEM_HEADERS = {"X-System": SANDBOX_SYSTEM, "X-System-Key": SANDBOX_SYSTEM_KEY}


class FakeClock:
    """A settable clock for `create_app(now=...)`: timestamps, due dates and the rate-limit window."""

    def __init__(self, start: datetime = datetime(2026, 3, 10, 17, 30, tzinfo=UTC)) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@dataclass
class Receiver:
    """A raw ASGI app that records what it receives and answers the queued statuses (then 200)."""

    statuses: list[int] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.calls.append(
            {"path": scope["path"], "headers": headers, "body": body, "json": json.loads(body or b"null")}
        )
        status = self.statuses.pop(0) if self.statuses else 200
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": b"ok"})


def client_for(app: Any, key: str = SANDBOX_API_KEY, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, auth=(key, ""), **kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def app(clock: FakeClock, receiver: Receiver) -> Any:
    return create_app(
        ":memory:",
        now=clock,
        outbound_transport=httpx.ASGITransport(app=receiver),
        webhook_retry_delays=(0.01, 0.01, 0.01),
        base_url=BASE,
    )


@pytest.fixture
def sandbox(app: Any) -> Any:
    return app.state.sandbox


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c


@pytest.fixture
async def system_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The owner's key with the registered system's headers."""
    async with client_for(app, headers=SYSTEM_HEADERS) as c:
        yield c
