"""fub-mcp over stdio as a real subprocess: the legacy handshake Claude Desktop sends, the 2026 era
through the SDK client, stdout purity at debug logging, and the exit-2 configuration failures."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream
from mcp import Client, StdioServerParameters

from tests.server.conftest import SEARCH_ARGS, clean_env, fub_mcp_command

SANDBOX = ["--sandbox", "--sandbox-db", ":memory:"]


async def _request(
    process: Process, stdout: BufferedByteReceiveStream, message: dict[str, Any]
) -> dict[str, Any]:
    assert process.stdin is not None
    await process.stdin.send(json.dumps(message).encode() + b"\n")
    while True:
        line = json.loads(await stdout.receive_until(b"\n", 10 * 1024 * 1024))
        if line.get("id") == message["id"]:
            return line


@pytest.mark.anyio
async def test_legacy_handshake_lists_tools_and_searches_with_only_json_rpc_on_stdout(tmp_path: Path) -> None:
    stderr_path = tmp_path / "stderr.log"
    with anyio.fail_after(30), stderr_path.open("wb") as stderr:
        process = await anyio.open_process(
            fub_mcp_command(*SANDBOX, "--log-level", "debug"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=tmp_path,
            env=clean_env(),
        )
        async with process:
            assert process.stdout is not None and process.stdin is not None
            stdout = BufferedByteReceiveStream(process.stdout)
            init = await _request(
                process,
                stdout,
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": "2025-11-25",
                        "capabilities": {},
                        "clientInfo": {"name": "claude-ai", "version": "0.1.0"},
                    },
                },
            )
            assert init["result"]["protocolVersion"] == "2025-11-25"
            assert init["result"]["serverInfo"]["name"] == "fub-mcp"
            assert "tools" in init["result"]["capabilities"]
            await process.stdin.send(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')

            listed = await _request(process, stdout, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
            tools = {tool["name"]: tool for tool in listed["result"]["tools"]}
            assert tools["search_people"]["annotations"]["readOnlyHint"] is True

            called = await _request(
                process,
                stdout,
                {
                    "jsonrpc": "2.0",
                    "id": 3,
                    "method": "tools/call",
                    "params": {"name": "search_people", "arguments": SEARCH_ARGS},
                },
            )
            assert called["result"]["isError"] is False
            assert called["result"]["structuredContent"]["items"]

            await process.stdin.aclose()  # the client goes away: the server exits by itself
            rest = b""
            while True:
                try:
                    rest += await stdout.receive()
                except (anyio.EndOfStream, anyio.ClosedResourceError):
                    break
            assert await process.wait() == 0

    assert stdout.buffer == b""
    for line in rest.decode().splitlines():  # nothing after the three responses but JSON-RPC
        assert json.loads(line)["jsonrpc"] == "2.0", line
    log = stderr_path.read_text()
    assert " DEBUG " in log  # logging really was at debug, and it all went to stderr


@pytest.mark.anyio
async def test_the_sdk_client_over_stdio_negotiates_2026_07_28(tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "fub_mcp", "serve", *SANDBOX, "--read-only"],
        env=clean_env(),
        cwd=str(tmp_path),
    )
    with anyio.fail_after(30):
        async with Client(params, cache=None) as client:
            assert client.protocol_version == "2026-07-28"
            tools = await client.list_tools()
            names = {tool.name for tool in tools.tools}
            assert "search_people" in names and "create_person" not in names  # --read-only applies
            result = await client.call_tool("search_people", SEARCH_ARGS)
            assert result.is_error is False and result.structured_content["items"]


def _run(
    args: list[str], tmp_path: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        fub_mcp_command(*args),
        cwd=tmp_path,
        env=clean_env(env),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=30,
    )


def test_without_fub_api_key_stdio_exits_2_with_one_line_and_no_mcp_traffic(tmp_path: Path) -> None:
    result = _run([], tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "FUB_API_KEY" in result.stderr and "--sandbox" in result.stderr


def test_serving_http_off_loopback_without_tokens_exits_2(tmp_path: Path) -> None:
    result = _run(["serve", *SANDBOX, "--transport", "http", "--host", "0.0.0.0", "--port", "0"], tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert "FUB_MCP_AUTH_TOKENS" in last and "0.0.0.0" in last
    assert "listening" not in result.stderr


def test_a_bad_setting_exits_2_naming_the_variable(tmp_path: Path) -> None:
    result = _run(["--sandbox"], tmp_path, env={"FUB_MCP_TIMEOUT": "soon"})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "FUB_MCP_TIMEOUT" in result.stderr


@pytest.mark.anyio
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_stops_the_stdio_server_promptly_while_stdin_stays_open(
    tmp_path: Path, signum: int
) -> None:
    with anyio.fail_after(30):
        process = await anyio.open_process(
            fub_mcp_command(*SANDBOX),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=tmp_path,
            env=clean_env(),
        )
        async with process:
            assert process.stdout is not None
            stdout = BufferedByteReceiveStream(process.stdout)
            init = await _request(
                process,
                stdout,
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": "2025-11-25",
                        "capabilities": {},
                        "clientInfo": {"name": "raw", "version": "0"},
                    },
                },
            )
            assert init["result"]["serverInfo"]["name"] == "fub-mcp"
            process.send_signal(signum)
            with anyio.fail_after(5):
                assert await process.wait() == 0
