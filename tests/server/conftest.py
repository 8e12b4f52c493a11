"""Real fub-mcp processes on 127.0.0.1 for the transport tests.

`ServerProcess` starts `python -m fub_mcp ...` with stderr in a file (never a pipe that could fill
up), learns the port from the startup log line (`--port 0`: the OS picks a free port, no race), waits
for /healthz, and is always killed at the end. Each process gets a scrubbed environment (no FUB_*
variables from the developer's shell) and a temporary working directory (no stray .env).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx2
import pytest

READY_TIMEOUT = 20.0
LISTENING = re.compile(r"listening on (\S+):(\d+) ")

SEARCH_ARGS = {"query": "smith", "limit": 2}


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without FUB_* settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUB_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def fub_mcp_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "fub_mcp", *args]


class ServerProcess:
    """One `fub-mcp serve --transport http` process."""

    def __init__(self, args: Sequence[str], workdir: Path, env: Mapping[str, str] | None = None) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.stderr_path = workdir / "stderr.log"
        self._stderr = self.stderr_path.open("wb")
        self.process = subprocess.Popen(
            fub_mcp_command(*args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            cwd=workdir,
            env=clean_env(env),
        )
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> ServerProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"fub-mcp exited with {self.process.returncode}:\n{self.log()}")
            if self.port is None:
                match = LISTENING.search(self.log())
                if match:
                    self.port = int(match.group(2))
            if self.port is not None:
                try:
                    if httpx2.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                        return self
                except httpx2.HTTPError:
                    pass
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"fub-mcp did not become ready in {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        self._stderr.close()


def start_http_server(workdir: Path, *extra_args: str, env: Mapping[str, str] | None = None) -> ServerProcess:
    """Start (without waiting) a sandbox-backed HTTP server on a free loopback port."""
    args = [
        "serve",
        "--sandbox",
        "--sandbox-db",
        ":memory:",
        "--transport",
        "http",
        "--port",
        "0",
        *extra_args,
    ]
    return ServerProcess(args, workdir, env)


AUTH_TOKENS = ("t1-first-token", "t2-second-token")
PUBLIC_HOST = "mcp.example.com"


@pytest.fixture(scope="session")
def http_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServerProcess]]:
    """Three servers started together: stateful; stateless and read-only; bearer auth plus a public Host,
    answering /mcp with plain JSON (--json-response)."""
    root = tmp_path_factory.mktemp("http-servers")
    servers = {
        "stateful": start_http_server(root / "stateful"),
        "stateless": start_http_server(root / "stateless", "--stateless", "--read-only"),
        "auth": start_http_server(
            root / "auth",
            "--allowed-hosts",
            PUBLIC_HOST,
            "--json-response",
            env={"FUB_MCP_AUTH_TOKENS": ",".join(AUTH_TOKENS)},
        ),
    }
    try:
        for server in servers.values():
            server.wait_ready()
        yield servers
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture
def stateful(http_servers: dict[str, ServerProcess]) -> ServerProcess:
    return http_servers["stateful"]


@pytest.fixture
def auth_server(http_servers: dict[str, ServerProcess]) -> ServerProcess:
    return http_servers["auth"]


@pytest.fixture(params=["stateful", "stateless"])
def any_server(request: pytest.FixtureRequest, http_servers: dict[str, ServerProcess]) -> ServerProcess:
    return http_servers[request.param]
