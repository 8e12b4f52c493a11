"""The six figures of the benchmark. Each returns a `Figure`: rows of (what, value) and one headline ratio
taken in the same run against a floor or a baseline, so the numbers hold on a noisy machine.

Every loop is bounded in count and in time; servers bind 127.0.0.1 on free ports; subprocesses are
always killed.
"""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
from mcp import Client, StdioServerParameters

from fub_mcp.config import Settings
from fub_mcp.fub.client import FUBClient
from fub_mcp.sandbox import SANDBOX_API_KEY, SANDBOX_SYSTEM, SANDBOX_SYSTEM_KEY, RateLimits, create_app
from fub_mcp.server.build import build_context, build_server

UNLIMITED = RateLimits(global_limit=10**9, global_limit_registered=10**9, events_get=10**9,
                       events_get_registered=10**9)
FUB_MCP = str(Path(sys.executable).with_name("fub-mcp"))


@dataclass
class Figure:
    title: str
    goal: str
    ratio: float | None
    met: bool | None
    rows: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""


@dataclass
class World:
    """A sandbox in-process, a shared context and a server over it."""

    app: Any
    context: Any
    server: Any

    @property
    def sandbox(self) -> Any:
        return self.app.state.sandbox


def make_world(limits: RateLimits = UNLIMITED, **overrides: Any) -> World:
    app = create_app(":memory:", rate_limits=limits, base_url="http://sandbox/v1")
    settings = Settings(api_key=SANDBOX_API_KEY, base_url="http://sandbox/v1", system=SANDBOX_SYSTEM,
                        system_key=SANDBOX_SYSTEM_KEY, toolsets=["all"], **overrides)
    client = FUBClient.from_settings(settings, transport=httpx.ASGITransport(app=app))
    context = build_context(settings, client=client)
    return World(app, context, build_server(settings, context))


async def add_people(world: World, count: int) -> None:
    """More people through `POST /events` (FUB's unlimited context), 16 at a time."""
    limiter = anyio.CapacityLimiter(16)

    async def one(n: int) -> None:
        async with limiter:
            await world.context.client.post("/events", {
                "source": "Bench", "type": "Registration",
                "person": {"firstName": f"Bench{n}", "lastName": "Lead",
                           "emails": [{"value": f"b{n}@bench.test"}]},
            })

    async with anyio.create_task_group() as tg:
        for n in range(count):
            tg.start_soon(one, n)


def median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- 1. rate budget ---------------------------------------------------------------------------------


async def rate_budget(people: int, per_second: int) -> Figure:
    world = make_world(RateLimits(global_limit_registered=per_second, window_seconds=1.0))
    async with world.context.client:
        await add_people(world, max(0, people - 250))
        pages = world.context.client.paginate("/people", {"fields": "id"}, max_items=people)
        ids = [p["id"] async for p in pages]
        await anyio.sleep(1.1)  # let the reads leave the window: the figure measures the updates alone
        before = world.context.client.stats.rate_limited_responses
        async with Client(world.server, mode="legacy", cache=None) as client:
            started = time.perf_counter()
            result = await client.call_tool("bulk_update_people", {"person_ids": ids, "add_tags": ["bench"],
                                                                    "max_people": len(ids)})
            elapsed = time.perf_counter() - started
            data = result.structured_content or {}
            answered_429 = world.context.client.stats.rate_limited_responses - before

            leads = [{"type": "Registration", "source": "Bench import", "first_name": f"Imp{n}",
                      "last_name": "Lead", "emails": [f"imp{n}@bench.test"]} for n in range(min(people, 500))]
            started = time.perf_counter()
            imported = await client.call_tool("import_leads", {"leads": leads, "concurrency": 8})
            import_elapsed = time.perf_counter() - started
    ideal = len(ids) / per_second
    counts = data.get("counts") or {}
    errors, updated = int(counts.get("error", 0)), int(counts.get("updated", 0))
    reached = errors + (len(ids) - updated - errors)
    ratio = elapsed / ideal
    imported_ok = (imported.structured_content or {}).get("counts", {})
    return Figure(
        "1. Rate budget: bulk_update_people and import_leads",
        "elapsed / ideal <= 1.05, no 429 reaching the caller",
        ratio, ratio <= 1.05 and reached == 0 and not result.is_error,
        [("people updated", f"{counts.get('updated', 0)} of {len(ids)}"),
         ("sandbox limit", f"{per_second} requests / 1 s window"),
         ("elapsed / ideal", f"{elapsed:.2f} s / {ideal:.2f} s = {ratio:.3f}"),
         ("429s the sandbox answered", str(answered_429)),
         ("failures reaching the caller", str(reached)),
         ("import_leads (POST /events, unlimited, concurrency 8)",
          f"{len(leads)} leads in {import_elapsed:.2f} s = {len(leads) / import_elapsed:.0f} leads/s "
          f"({json.dumps(imported_ok, separators=(',', ':'))})")],
    )


# --- 2. call overhead -------------------------------------------------------------------------------


async def _timed(count: int, seconds: float, call: Any) -> list[float]:
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    for _ in range(count):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
        if time.perf_counter() > deadline:
            break
    return samples


async def call_overhead(count: int, seconds: float) -> Figure:
    world = make_world()
    async with world.context.client:
        transport = httpx.ASGITransport(app=world.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/v1",
                                     auth=(SANDBOX_API_KEY, "")) as raw:
            direct = await _timed(count, seconds, lambda: raw.get("/people/7"))
        ours = await _timed(count, seconds, lambda: world.context.client.get("/people/7"))
        async with Client(world.server, mode="legacy", cache=None) as client:
            await client.call_tool("get_person", {"person_id": 7})  # warm: account cache, imports
            via_mcp = await _timed(count, seconds, lambda: client.call_tool("get_person", {"person_id": 7}))
            ping = await _timed(count, seconds, client.send_ping)
    stdio = await _stdio_calls(min(count, 200), seconds)
    http = await _http_calls(min(count, 200), seconds)
    ratio = statistics.median(via_mcp) / statistics.median(direct)
    rows = [("direct httpx GET /people/7 (in-process sandbox), median", f"{median_us(direct):.0f} µs"),
            ("the same GET through fub-mcp's client (limiter, retries, audit), median",
             f"{median_us(ours):.0f} µs"),
            ("an MCP ping round trip (in-process, legacy), median", f"{median_us(ping):.0f} µs"),
            ("get_person via MCP (legacy, in-process), median", f"{median_us(via_mcp):.0f} µs"),
            ("added by fub-mcp + MCP",
             f"{median_us(via_mcp) - median_us(direct):.0f} µs (ratio {ratio:.2f})"),
            ("get_person over stdio (subprocess), median", f"{median_us(stdio):.0f} µs"),
            ("get_person over streamable HTTP (stateless, loopback), median", f"{median_us(http):.0f} µs")]
    return Figure("2. Call overhead: get_person vs the HTTP call it wraps", "reported (median ratio)",
                  ratio, None, rows)


async def _stdio_calls(count: int, seconds: float) -> list[float]:
    params = StdioServerParameters(command=FUB_MCP, args=["--sandbox", "--sandbox-db", ":memory:",
                                                          "--log-level", "error"])
    async with Client(params, mode="legacy", cache=None) as client:
        await client.call_tool("get_person", {"person_id": 7})
        return await _timed(count, seconds, lambda: client.call_tool("get_person", {"person_id": 7}))


@asynccontextmanager
async def http_server(*extra: str) -> AsyncIterator[tuple[str, subprocess.Popen[bytes]]]:
    """fub-mcp over stateless streamable HTTP (bench/http_server.py: sandbox without a rate limit) on a
    free loopback port, in a subprocess that is always stopped."""
    port = free_port()
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    command = [sys.executable, "-m", "bench.http_server", "--port", str(port), *extra]
    proc = subprocess.Popen(command, cwd=root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as probe:
            with anyio.fail_after(30):
                while True:
                    try:
                        if (await probe.get(url + "/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await anyio.sleep(0.05)
        yield url + "/mcp", proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _http_client(url: str) -> Client:
    from mcp.client.streamable_http import streamable_http_client

    return Client(streamable_http_client(url), mode="legacy", cache=None)


async def _http_calls(count: int, seconds: float) -> list[float]:
    async with http_server() as (url, _proc), _http_client(url) as client:
        await client.call_tool("get_person", {"person_id": 7})
        return await _timed(count, seconds, lambda: client.call_tool("get_person", {"person_id": 7}))


# --- 3. cold start ----------------------------------------------------------------------------------

HELLO = textwrap.dedent("""
    from mcp.server.mcpserver import MCPServer
    server = MCPServer("hello")

    @server.tool()
    def hello(name: str) -> str:
        return "hi " + name

    server.run()
""")


async def _start_to_tools(params: StdioServerParameters) -> float:
    started = time.perf_counter()
    with anyio.fail_after(60):
        async with Client(params, mode="legacy", cache=None) as client:
            await client.list_tools()
    return time.perf_counter() - started


async def cold_start(repeats: int, workdir: Path) -> Figure:
    hello = workdir / "hello_server.py"
    hello.write_text(HELLO)
    # Claude Desktop's case: the sandbox file exists (seeded by the first start, not measured).
    db = str(workdir / "sandbox.sqlite3")
    ours = StdioServerParameters(command=FUB_MCP,
                                 args=["--sandbox", "--sandbox-db", db, "--log-level", "error"])
    base = StdioServerParameters(command=sys.executable, args=[str(hello)])
    first = await _start_to_tools(ours)
    fub_times = [await _start_to_tools(ours) for _ in range(repeats)]
    hello_times = [await _start_to_tools(base) for _ in range(repeats)]
    ratio = statistics.median(fub_times) / statistics.median(hello_times)
    rows = [("fub-mcp --sandbox: spawn → tools/list, median",
             f"{statistics.median(fub_times) * 1000:.0f} ms"),
            ("the very first start (creates and seeds the sandbox file)", f"{first * 1000:.0f} ms"),
            ("hello-world MCPServer (one tool), median", f"{statistics.median(hello_times) * 1000:.0f} ms"),
            ("slowest imports (python -X importtime, cumulative)", _import_breakdown())]
    return Figure("3. Cold start over stdio", "ratio reported; goal: close to the SDK's own start", ratio,
                  None, rows)


def _import_breakdown(top: int = 6) -> str:
    code = "import fub_mcp.cli, fub_mcp.server.build, fub_mcp.tools, fub_mcp.sandbox"
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                          capture_output=True, text=True, timeout=60)
    rows = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s+(\S.*)", line)
        if match and not match.group(2).startswith(" "):
            rows.append((int(match.group(1)), match.group(2).strip()))
    rows.sort(reverse=True)
    return "; ".join(f"{name} {us / 1000:.0f} ms" for us, name in rows[:top])


# --- 4. context cost --------------------------------------------------------------------------------


def _size(data: Any, *, pretty: bool = False) -> int:
    text = json.dumps(data, indent=2 if pretty else None, separators=None if pretty else (",", ":"),
                      ensure_ascii=False)
    return len(text.encode())


async def context_cost() -> Figure:
    world = make_world()
    async with world.context.client, Client(world.server, mode="legacy", cache=None) as client:
        raw = world.context.client
        ours = {
            "search_people(limit=25)":
                (await client.call_tool("search_people", {"limit": 25})).structured_content,
            "get_person": (await client.call_tool("get_person", {"person_id": 7})).structured_content,
            "list_tasks(limit=25)": (await client.call_tool("list_tasks", {"limit": 25})).structured_content,
        }
        theirs = {
            "search_people(limit=25)": await raw.get("/people", {"limit": 25, "sort": "-created"}),
            "get_person": await raw.get("/people/7"),
            "list_tasks(limit=25)": await raw.get("/tasks", {"limit": 25}),
        }
        settings = world.context.settings.model_copy(update={"toolsets": ["default"]})
        default = build_server(settings, world.context)
        async with Client(default, mode="legacy", cache=None) as listing:
            tools = (await listing.list_tools()).tools
    listed = _size([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools])
    rows, ratios = [], []
    for name in ours:
        a, b = _size(ours[name]), _size(theirs[name], pretty=True)
        ratios.append(a / b)
        rows.append((name, f"{a:,} B (~{a // 4:,} tokens) vs raw pretty FUB JSON "
                           f"{b:,} B (~{b // 4:,} tokens): {a / b:.2f}"))
    rows.append((f"default tools/list ({len(tools)} tools)", f"{listed:,} B (~{listed // 4:,} tokens)"))
    ratio = statistics.mean(ratios)
    return Figure("4. Context cost: lean results vs raw FUB JSON", "ratio < 1 (smaller is better)", ratio,
                  ratio < 1, rows)


# --- 5. HTTP throughput -----------------------------------------------------------------------------


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


async def _load(url: str, clients: int, seconds: float, max_calls: int) -> tuple[str, int]:
    """`clients` MCP sessions calling get_person in a loop until `seconds` pass or `max_calls` are made:
    (calls/s, p50, p99 as text; errors)."""
    async with _http_client(url) as warm:
        await warm.call_tool("get_person", {"person_id": 7})
    latencies: list[float] = []
    errors = 0
    began = time.perf_counter()
    stop_at = began + seconds

    async def worker() -> None:
        nonlocal errors
        async with _http_client(url) as client:
            while time.perf_counter() < stop_at and len(latencies) < max_calls:
                started = time.perf_counter()
                result = await client.call_tool("get_person", {"person_id": 7})
                latencies.append(time.perf_counter() - started)
                errors += bool(result.is_error)

    with anyio.fail_after(seconds + 60):
        async with anyio.create_task_group() as tg:
            for _ in range(clients):
                tg.start_soon(worker)
    elapsed = time.perf_counter() - began
    text = (f"{len(latencies) / elapsed:.0f} calls/s, p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, errors {errors}")
    return text, errors


async def http_throughput(levels: tuple[int, ...], seconds: float, max_calls: int) -> Figure:
    rows, errors_total = [], 0
    async with http_server() as (url, proc):
        rss_before = _rss_kib(proc.pid)
        for level in levels:
            text, errors = await _load(url, level, seconds, max_calls)
            rows.append((f"{level} concurrent client(s)", text))
            errors_total += errors
        rss_after = _rss_kib(proc.pid)
    rss = f"{rss_before / 1024:.0f} MiB → {rss_after / 1024:.0f} MiB"
    rows.append(("server RSS before → after", rss))
    async with http_server("--json-response") as (url, _proc):
        text, errors = await _load(url, 1, seconds, max_calls)
        rows.append(("1 client, server with --json-response (no SSE stream per call)", text))
        errors_total += errors
    return Figure("5. HTTP throughput: get_person over stateless streamable HTTP", "errors = 0",
                  None, errors_total == 0, rows)


# --- 6. scale ---------------------------------------------------------------------------------------


async def paging_depth(people: int, page_size: int = 100) -> Figure:
    world = make_world()
    async with world.context.client:
        await add_people(world, max(0, people - 250))
        async with Client(world.server, mode="legacy", cache=None) as client:
            times: list[float] = []
            cursor = None
            for _ in range(people // page_size + 1):
                args: dict[str, Any] = {"limit": page_size, **({"cursor": cursor} if cursor else {})}
                started = time.perf_counter()
                page = (await client.call_tool("search_people", args)).structured_content or {}
                times.append(time.perf_counter() - started)
                cursor = page.get("next_cursor")
                if not cursor:
                    break
    first = statistics.median(times[:5])
    last = statistics.median(times[-5:])
    ratio = last / first
    return Figure("6. Scale: search_people paging with next cursors", "last pages / first pages <= 1.5",
                  ratio, ratio <= 1.5,
                  [("pages read", f"{len(times)} × {page_size} people"),
                   ("first 5 pages, median", f"{first * 1000:.1f} ms"),
                   (f"last 5 pages (to page {len(times)}), median", f"{last * 1000:.1f} ms")])
