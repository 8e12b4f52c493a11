"""`python -m bench.http_server --port N`: fub-mcp over stateless streamable HTTP against an in-process
sandbox WITHOUT FUB's rate limit, so figure 5 measures fub-mcp's own throughput, not FUB's budget."""

from __future__ import annotations

import argparse

import httpx

from bench.figures import UNLIMITED
from fub_mcp.sandbox import create_app
from fub_mcp.server.run import SANDBOX_BASE_URL, build_runtime, configure_logging, run_settings, serve_http


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stateful", action="store_true",
                        help="keep Mcp-Session-Id sessions (default: stateless)")
    parser.add_argument("--json-response", action="store_true", help="plain JSON answers instead of SSE")
    args = parser.parse_args()
    configure_logging("error")
    sandbox = create_app(":memory:", rate_limits=UNLIMITED, base_url=SANDBOX_BASE_URL)
    settings = run_settings(sandbox=True, rate_limit_global=1_000_000, json_response=args.json_response)
    runtime = build_runtime(settings, transport=httpx.ASGITransport(app=sandbox))
    serve_http(runtime, host="127.0.0.1", port=args.port, stateless=not args.stateful, log_level="error")


if __name__ == "__main__":
    main()
