"""The real FUB client against the sandbox on a real loopback port.

`sandbox(db)` serves a file-backed sandbox with uvicorn on a free 127.0.0.1 port; `connect(base)` builds
a `FUBClient` the way fub-mcp does (environment -> `load_settings()` -> `FUBClient.from_settings`), with
FUB_BASE_URL pointing at it. Every test here is watched by `leaks`: at the end, the audit log, every
log record, everything written to stdout/stderr and the error strings a test hands to `leaks.errors`
must not contain the API key, the system key or the Basic credentials made from the key.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest

from fub_mcp.config import load_settings
from fub_mcp.fub.client import FUBClient
from fub_mcp.sandbox import (
    SANDBOX_API_KEY,
    SANDBOX_SYSTEM,
    SANDBOX_SYSTEM_KEY,
    RateLimits,
    Sandbox,
    create_app,
)
from tests.sandbox.test_real_http import bound_socket, served

WRONG_KEY = "wrong-key-4f9c2d7e"  # a key the sandbox refuses; it must not leak either
SECRETS = (
    SANDBOX_API_KEY,
    SANDBOX_SYSTEM_KEY,
    WRONG_KEY,
    base64.b64encode(f"{SANDBOX_API_KEY}:".encode()).decode(),
    base64.b64encode(f"{WRONG_KEY}:".encode()).decode(),
)


@asynccontextmanager
async def sandbox(db: Path, limits: RateLimits | None = None) -> AsyncIterator[tuple[str, Sandbox]]:
    """The sandbox on a free 127.0.0.1 port with its data in `db`; yields (base URL with /v1, its state).
    Leaving the block stops the server and closes the database, as a process exit would."""
    sock = bound_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    app = create_app(str(db), rate_limits=limits, base_url=base)
    try:
        with anyio.fail_after(90):
            async with served(app, sock):
                yield base, app.state.sandbox
    finally:
        app.state.sandbox.close()


def answered(state: Sandbox, method: str, path: str, status: int | str | None = None) -> list[dict[str, Any]]:
    """The sandbox's log of `method path` requests (path relative to /v1), optionally with one status."""
    return [
        r
        for r in state.requests
        if r["method"] == method and r["path"] == f"/v1{path}" and (status is None or r["status"] == status)
    ]


@dataclass
class Leaks:
    """What a test run wrote where a secret must never appear; `errors` collects error strings."""

    audit: Path
    errors: list[str] = field(default_factory=list)

    def note(self, error: BaseException) -> str:
        """Keep an error's message and repr for the final check; returns the message."""
        self.errors.append(f"{error} {error!r}")
        return str(error)


@pytest.fixture(autouse=True)
def leaks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> Iterator[Leaks]:
    caplog.set_level(logging.DEBUG)  # the client logs every call at DEBUG: include those lines
    found = Leaks(tmp_path / "audit.log")
    yield found
    out, err = capfd.readouterr()
    audit = found.audit.read_text() if found.audit.exists() else ""
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    logged = [logging.Formatter("%(name)s %(message)s").format(record) for record in records]
    written = "\n".join([audit, out, err, *logged, *found.errors])
    leaked = [number for number, secret in enumerate(SECRETS) if secret in written]
    assert not leaked, f"SECRETS{leaked} leaked into the audit log, a log line, the output or an error"


@pytest.fixture
def connect(monkeypatch: pytest.MonkeyPatch, leaks: Leaks) -> Callable[..., FUBClient]:
    """`connect(base, **env)`: a client from the environment (FUB_* variables) aimed at `base`."""

    def make(base: str, **env: str) -> FUBClient:
        values = {
            "FUB_API_KEY": SANDBOX_API_KEY,
            "FUB_BASE_URL": base,
            "FUB_SYSTEM": SANDBOX_SYSTEM,
            "FUB_SYSTEM_KEY": SANDBOX_SYSTEM_KEY,
            "FUB_MCP_MAX_BACKOFF": "0.2",  # the backoff schedule is unit-tested; keep these runs fast
            "FUB_MCP_CALL_DEADLINE": "30",
            "FUB_MCP_AUDIT_LOG": str(leaks.audit),
            **env,
        }
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        return FUBClient.from_settings(load_settings(_env_file=None))

    return make
