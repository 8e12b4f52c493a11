"""An independent client: the official TypeScript SDK (tests/server/ts) drives fub-mcp over stdio,
legacy SSE and streamable HTTP. Skipped unless `npm ci --prefix tests/server/ts` has run (.ci/run does)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.conftest import AUTH_TOKENS, ServerProcess, clean_env

TS_DIR = Path(__file__).parent / "ts"
SDK = TS_DIR / "node_modules" / "@modelcontextprotocol" / "sdk"
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.skipif(
        NODE is None, reason="node is not installed (the TypeScript SDK interop test needs Node >= 18)"
    ),
    pytest.mark.skipif(
        not SDK.is_dir(),
        reason="the TypeScript SDK is not installed: run `npm ci --prefix tests/server/ts` (.ci/run does)",
    ),
]


def run_ts_client(*args: str, cwd: Path) -> dict:
    assert NODE is not None
    result = subprocess.run(
        [NODE, str(TS_DIR / "client.mjs"), *args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=45,
        stdin=subprocess.DEVNULL,
    )
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and lines, (
        f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    )
    output = json.loads(lines[-1])
    assert "error" not in output, output["error"]
    return output


def assert_interop(output: dict, transport: str) -> None:
    assert output["transport"] == transport
    assert output["server"] == "fub-mcp"
    assert "search_people" in output["tools"]
    assert output["isError"] is False
    assert output["structured"]["items"] and output["structured"]["total"] >= 1
    assert output["unknownToolIsError"] is True


def test_typescript_sdk_over_stdio(tmp_path: Path) -> None:
    output = run_ts_client(
        "stdio", sys.executable, "-m", "fub_mcp", "--sandbox", "--sandbox-db", ":memory:", cwd=tmp_path
    )
    assert_interop(output, "stdio")


@pytest.mark.parametrize("transport", ["sse", "http"])
def test_typescript_sdk_over_http(
    http_servers: dict[str, ServerProcess], transport: str, tmp_path: Path
) -> None:
    output = run_ts_client(transport, http_servers["stateful"].url, cwd=tmp_path)
    assert_interop(output, transport)
    if transport == "http":
        assert output["protocolVersion"] == "2025-11-25"


@pytest.mark.parametrize("transport", ["sse", "http"])
def test_typescript_sdk_with_a_bearer_token(
    http_servers: dict[str, ServerProcess], transport: str, tmp_path: Path
) -> None:
    assert_interop(
        run_ts_client(transport, http_servers["auth"].url, AUTH_TOKENS[0], cwd=tmp_path), transport
    )


def test_typescript_sdk_against_the_stateless_server(
    http_servers: dict[str, ServerProcess], tmp_path: Path
) -> None:
    assert_interop(run_ts_client("http", http_servers["stateless"].url, cwd=tmp_path), "http")
