"""Running fub-mcp: logging, settings, the shared context (real FUB or the embedded sandbox), stdio, HTTP.

    settings = run_settings(sandbox=True, read_only=True)      # flags win over the environment
    runtime = build_runtime(settings, sandbox=True, sandbox_db=":memory:")
    anyio.run(serve_stdio, runtime)                            # or serve_http(runtime, host=..., port=...)

One `AppContext` per process, shared by every MCP session. In sandbox mode the client talks to the
sandbox in-process through `httpx.ASGITransport` (no port); the sandbox's webhook worker runs in
`Sandbox.running()`, entered by the runtime's lifespans, which also close the client on shutdown.

Shutdown: on SIGTERM/SIGINT the HTTP server stops accepting connections, waits up to
`DRAIN_SECONDS` for in-flight MCP requests (counted by a server middleware, on every transport) to
finish, then ends the open SSE streams and exits. A second Ctrl-C forces the exit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import uvicorn
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from fub_mcp import __version__
from fub_mcp.config import Settings, load_settings
from fub_mcp.fub.errors import ConfigError
from fub_mcp.server.build import build_context, build_server, select_tools
from fub_mcp.tools import AppContext

__all__ = [
    "DRAIN_SECONDS",
    "SANDBOX_BASE_URL",
    "InFlight",
    "Runtime",
    "build_runtime",
    "configure_logging",
    "run_settings",
    "serve_http",
    "serve_stdio",
]

_log = logging.getLogger("fub_mcp.server")

SANDBOX_BASE_URL = "http://sandbox/v1"  # the in-process sandbox; no socket behind it
DRAIN_SECONDS = 30.0  # how long shutdown waits for in-flight MCP requests
STREAM_CLOSE_SECONDS = 5.0  # then how long uvicorn waits for connections to close
KEEP_ALIVE_SECONDS = 15  # idle HTTP keep-alive
MAX_CONNECTIONS = 1000  # open connections + tasks before uvicorn answers 503
STDIO_FLUSH_SECONDS = 0.2  # after the drain, time for the last stdio responses to be written
LONG_LIVED_METHODS = frozenset({"subscriptions/listen"})  # requests that never "finish"; not drained

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str = "info") -> None:
    """Send every log record (and Python warnings) to stderr: in stdio mode stdout carries only MCP."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # One line per FUB request is the audit log's job (FUB_MCP_AUDIT_LOG); keep httpx quiet unless debugging.
    logging.getLogger("httpx").setLevel(logging.DEBUG if level.lower() == "debug" else logging.WARNING)
    logging.captureWarnings(True)


# --- settings and the shared context ------------------------------------------------------------


def run_settings(*, sandbox: bool = False, **overrides: Any) -> Settings:
    """`Settings` from the environment with `overrides` (CLI flags) on top; sandbox mode swaps in the
    sandbox's credentials. A bad value raises `ConfigError` with one line."""
    if sandbox:
        from fub_mcp.sandbox import SANDBOX_API_KEY, SANDBOX_SYSTEM, SANDBOX_SYSTEM_KEY

        overrides.update(
            api_key=SANDBOX_API_KEY,
            system=SANDBOX_SYSTEM,
            system_key=SANDBOX_SYSTEM_KEY,
            base_url=SANDBOX_BASE_URL,
        )
    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


def sandbox_db_path(settings: Settings, sandbox_db: str | Path | None = None) -> str:
    """`--sandbox-db`, else `FUB_MCP_DATA_DIR/sandbox.sqlite3`, else the sandbox's default file."""
    if sandbox_db is not None:
        return str(sandbox_db)
    if settings.data_dir is not None:
        return str(Path(settings.data_dir) / "sandbox.sqlite3")
    from fub_mcp.sandbox import default_db_path

    return str(default_db_path())


Lifespan = Callable[[], AbstractAsyncContextManager[Any]]


@dataclass
class Runtime:
    """What one process serves: the settings, the shared context, and what to start and stop."""

    settings: Settings
    context: AppContext
    lifespans: list[Lifespan] = field(default_factory=list)
    inflight: InFlight = field(default_factory=lambda: InFlight())
    description: str = "FUB"

    def server(self) -> Any:
        """A new MCPServer over the shared context, with the in-flight counter installed."""
        server = build_server(self.settings, self.context)
        self.inflight.install(server)
        return server

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Runtime]:
        """Enter every lifespan (sandbox worker, client), exit them in reverse order."""
        async with contextlib.AsyncExitStack() as stack:
            for factory in self.lifespans:
                await stack.enter_async_context(factory())
            yield self


def build_runtime(
    settings: Settings,
    *,
    sandbox: bool = False,
    sandbox_db: str | Path | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Runtime:
    """The shared context against FUB, or against the embedded sandbox (in-process, no port).

    Raises `ConfigError` (e.g. FUB_API_KEY missing, unknown toolset) before anything is served."""
    select_tools(settings)  # unknown toolsets / tool names fail here, before any MCP traffic
    lifespans: list[Lifespan] = []
    description = f"FUB at {settings.base_url}"
    if sandbox:
        from fub_mcp.sandbox import create_app

        path = sandbox_db_path(settings, sandbox_db)
        sandbox_app = create_app(path, base_url=SANDBOX_BASE_URL)
        sandbox_state = sandbox_app.state.sandbox
        transport = httpx.ASGITransport(app=sandbox_app)
        description = f"the embedded sandbox (data: {path})"

        @contextlib.asynccontextmanager
        async def run_sandbox() -> AsyncIterator[None]:
            try:
                async with sandbox_state.running():
                    yield
            finally:
                sandbox_state.close()

        lifespans.append(run_sandbox)
    context = build_context(settings, transport=transport)

    @contextlib.asynccontextmanager
    async def close_client() -> AsyncIterator[None]:
        try:
            yield
        finally:
            await context.client.aclose()

    lifespans.append(close_client)
    return Runtime(settings=settings, context=context, lifespans=lifespans, description=description)


# --- in-flight requests -------------------------------------------------------------------------


class InFlight:
    """Counts MCP requests being handled (any transport), so shutdown can let them finish."""

    def __init__(self) -> None:
        self.count = 0

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.request_id is None or ctx.method in LONG_LIVED_METHODS:
            return await call_next(ctx)
        self.count += 1
        try:
            return await call_next(ctx)
        finally:
            self.count -= 1

    def install(self, server: Any) -> None:
        """Add the counter to an MCPServer's middleware chain (outermost)."""
        if self not in server.middleware:
            server.middleware.insert(0, self)

    async def drain(self, timeout: float, *, stop: Callable[[], bool] = lambda: False) -> bool:
        """Wait until nothing is in flight, `timeout` passes, or `stop()`; True when drained."""
        deadline = time.monotonic() + timeout
        if self.count:
            _log.info("Waiting up to %.0f s for %d in-flight MCP request(s) to finish", timeout, self.count)
        while self.count and time.monotonic() < deadline and not stop():
            await anyio.sleep(0.05)
        if self.count:
            _log.warning("Shutting down with %d MCP request(s) still in flight", self.count)
        return self.count == 0


# --- stdio --------------------------------------------------------------------------------------


async def serve_stdio(runtime: Runtime) -> None:
    """Serve MCP on stdin/stdout until the client closes stdin, or SIGINT/SIGTERM arrives."""
    server = runtime.server()
    tools = len(select_tools(runtime.settings))
    async with runtime.running():
        _log.info("fub-mcp %s on stdio: %d tools, %s", __version__, tools, runtime.description)
        async with anyio.create_task_group() as tg:
            tg.start_soon(_stop_stdio_on_signal, runtime)
            await server.run_stdio_async()
            tg.cancel_scope.cancel()
    _log.info("stdin closed; fub-mcp stopped")


async def _stop_stdio_on_signal(runtime: Runtime) -> None:
    """On SIGINT/SIGTERM: let in-flight calls finish, close the client, exit.

    The SDK reads stdin in a worker thread that cannot be interrupted, so cancelling would hang until
    the client sends another line; once the calls are answered the process exits directly instead.
    """
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            _log.info("%s received: finishing in-flight requests, then exiting", signal.Signals(signum).name)
            await runtime.inflight.drain(DRAIN_SECONDS)
            await anyio.sleep(STDIO_FLUSH_SECONDS)  # the stdout writer sends the last responses
            with anyio.move_on_after(2, shield=True):
                await runtime.context.client.aclose()
            _log.info("fub-mcp stopped")
            logging.shutdown()
            os._exit(0)


# --- HTTP ---------------------------------------------------------------------------------------


def _bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket for host:port (port 0 picks a free port)."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def check_http_exposure(settings: Settings, host: str) -> None:
    """Refuse to serve off loopback without bearer tokens (ConfigError: one line, exit 2)."""
    from fub_mcp.server.http import is_loopback

    tokens = [t for t in settings.auth_tokens if t.get_secret_value()]
    if not is_loopback(host) and not tokens:
        raise ConfigError(
            f"refusing to serve on {host} without FUB_MCP_AUTH_TOKENS: a non-loopback address needs bearer "
            "tokens (comma-separated); or bind to 127.0.0.1 behind a reverse proxy"
        )
    short = [t for t in tokens if len(t.get_secret_value()) < 16]
    if short and not is_loopback(host):
        _log.warning(
            "%d of the FUB_MCP_AUTH_TOKENS are shorter than 16 characters: use long random tokens "
            "(e.g. `openssl rand -base64 32`)",
            len(short),
        )


def serve_http(
    runtime: Runtime,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    stateless: bool = False,
    extra_routes: Sequence[Any] = (),
    lifespans: Sequence[Lifespan] = (),
    log_level: str = "info",
) -> None:
    """Serve the HTTP app with uvicorn until SIGTERM/SIGINT, then drain gracefully."""
    from sse_starlette.sse import AppStatus

    from fub_mcp.server.http import build_http_app

    check_http_exposure(runtime.settings, host)
    from fub_mcp.webhooks import http_integration  # receivers (503 without FUB_SYSTEM_KEY) and worker

    webhook_routes, webhook_lifespans = http_integration(runtime.context)
    extra_routes = [*extra_routes, *webhook_routes]
    lifespans = [*lifespans, *webhook_lifespans]
    app = build_http_app(
        runtime.settings,
        runtime.context,
        stateless=stateless,
        extra_routes=extra_routes,
        lifespans=[*runtime.lifespans, *lifespans],
        bind_host=host,
    )
    runtime.inflight.install(app.state.mcp_server)
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    shown = host if ":" not in host else f"[{host}]"
    if host in ("0.0.0.0", "::", ""):
        shown = "127.0.0.1"
    base = f"http://{shown}:{bound_port}"
    tools = len(select_tools(runtime.settings))
    _log.info(
        "fub-mcp %s listening on %s:%d with %d tools, %s: streamable HTTP %s/mcp%s, "
        "legacy SSE %s/sse, health %s/healthz",
        *(__version__, host, bound_port, tools, runtime.description),
        *(base, " (stateless)" if stateless else "", base, base),
    )
    if not runtime.settings.auth_tokens:
        _log.info(
            "No FUB_MCP_AUTH_TOKENS: requests are not authenticated. Fine on loopback; set tokens before "
            "a reverse proxy or tunnel makes this server reachable from elsewhere"
        )

    config = uvicorn.Config(
        app,
        log_config=None,  # our stderr logging
        log_level=log_level,
        access_log=log_level == "debug",
        lifespan="on",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=int(STREAM_CLOSE_SECONDS),
        limit_concurrency=MAX_CONNECTIONS,
        server_header=False,
        proxy_headers=True,
    )
    # sse-starlette would end every SSE stream on the first signal, cutting off the result of an
    # in-flight call on /sse and /mcp; we end them ourselves once the calls are done.
    AppStatus.disable_automatic_graceful_drain()
    server = _DrainingServer(config, runtime.inflight)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        AppStatus.should_exit = False
        AppStatus.enable_automatic_graceful_drain_mode()
    if not server.started:
        raise ConfigError(f"the HTTP server on {host}:{bound_port} failed to start (see the log above)")


class _DrainingServer(uvicorn.Server):
    """uvicorn, with a drain step: stop accepting, let in-flight MCP requests finish, end SSE streams."""

    def __init__(self, config: Any, inflight: InFlight) -> None:
        super().__init__(config)
        self._inflight = inflight

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        from sse_starlette.sse import AppStatus

        for listener in self.servers:
            listener.close()  # no new connections while draining
        await self._inflight.drain(DRAIN_SECONDS, stop=lambda: bool(self.force_exit))
        AppStatus.should_exit = True  # end the open SSE streams
        await super().shutdown(sockets)
