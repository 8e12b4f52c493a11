"""Run every figure and write bench/results.md:
`python -m bench [--quick | --smoke] [--out PATH] [--only N,...]`."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import anyio

from bench import figures
from bench.figures import Figure
from fub_mcp.server.run import configure_logging

HERE = Path(__file__).parent


def machine() -> list[str]:
    return [
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- machine: {platform.platform()}, {os.cpu_count()} CPU(s), "
        f"{platform.processor() or platform.machine()}",
        f"- Python {platform.python_version()}; fub-mcp {version('fub-mcp')}, mcp {version('mcp')}, "
        f"httpx {version('httpx')}, pydantic {version('pydantic')}, uvicorn {version('uvicorn')}",
    ]


def render(results: list[Figure], mode: str, seconds: float) -> str:
    lines = ["# fub-mcp benchmark results", "", *machine(),
             f"- mode: {mode}; total run {seconds:.0f} s", "",
             "Reproduce: `.venv/bin/python -m bench` (full) or `.venv/bin/python -m bench --quick`.", "",
             "| figure | ratio | goal | met |", "|---|---|---|---|"]
    for fig in results:
        ratio = "" if fig.ratio is None else f"{fig.ratio:.3f}"
        met = {True: "yes", False: "**no**", None: "n/a"}[fig.met]
        lines.append(f"| {fig.title} | {ratio} | {fig.goal} | {met} |")
    for fig in results:
        lines += ["", f"## {fig.title}", "", "| | |", "|---|---|"]
        lines += [f"| {what} | {value} |" for what, value in fig.rows]
        if fig.note:
            lines += ["", fig.note]
    return "\n".join(lines) + "\n"


async def run(mode: str, only: set[int]) -> list[Figure]:
    quick, smoke = mode != "full", mode == "smoke"
    steps = {
        1: lambda: figures.rate_budget(people=25 if smoke else 100 if quick else 600, per_second=25),
        2: lambda: figures.call_overhead(count=20 if smoke else 100 if quick else 1000,
                                         seconds=1 if smoke else 5 if quick else 20),
        3: lambda: figures.cold_start(repeats=1 if quick else 5, workdir=Path(tempfile.mkdtemp())),
        4: lambda: figures.context_cost(),
        5: lambda: figures.http_throughput((1,) if smoke else (1, 8) if quick else (1, 8, 32),
                                           1 if smoke else 2 if quick else 10,
                                           max_calls=50 if smoke else 500 if quick else 100_000),
        6: lambda: figures.paging_depth(people=300 if smoke else 1000 if quick else 10_000),
    }
    results = []
    for number, step in steps.items():
        if only and number not in only:
            continue
        started = time.perf_counter()
        print(f"figure {number} ...", file=sys.stderr, flush=True)
        results.append(await step())
        print(f"figure {number} done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small counts and short runs (~1 minute)")
    parser.add_argument("--smoke", action="store_true", help="tiny counts, only proves every figure runs")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    parser.add_argument("--only", default="", help="comma-separated figure numbers, e.g. 1,4")
    args = parser.parse_args()
    configure_logging("error")  # as `fub-mcp serve` does: no per-request log lines in the measurements
    only = {int(n) for n in args.only.split(",") if n.strip()}
    started = time.perf_counter()
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    results = anyio.run(run, mode, only)
    args.out.write_text(render(results, mode, time.perf_counter() - started), encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
