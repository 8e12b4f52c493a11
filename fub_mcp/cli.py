"""The `fub-mcp` command.

    fub-mcp [serve] [--sandbox] [--transport stdio|http] [--host H] [--port N] [--stateless] ...
    fub-mcp tools [--toolsets ...] [--read-only] ...       one line per enabled tool
    fub-mcp call TOOL '{"arg": ...}' [--sandbox]            run one tool, print its structuredContent
    fub-mcp sandbox serve [--host H] [--port 8765] [--sandbox-db PATH]
    fub-mcp sandbox reset [--sandbox-db PATH]

Flags win over environment settings. Configuration problems are one line on stderr and exit code 2,
before any MCP traffic. In stdio mode stdout carries nothing but MCP; logs always go to stderr.
Exit codes: 0 ok, 1 the called tool failed, 2 bad usage or configuration, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from fub_mcp import __version__

__all__ = ["build_parser", "main"]

EXIT_OK, EXIT_TOOL_ERROR, EXIT_CONFIG, EXIT_INTERRUPTED = 0, 1, 2, 130
COMMANDS = ("serve", "tools", "call", "sandbox")

_log = logging.getLogger("fub_mcp.cli")

# Settings flags: argparse dest -> Settings field. Defaults are SUPPRESSed so that a flag given
# before the subcommand is not overwritten by the subparser's default.
_SETTINGS_FLAGS = {
    "toolsets": "toolsets",
    "tools": "tools",
    "exclude_tools": "exclude_tools",
    "read_only": "read_only",
    "allow_delete": "allow_delete",
    "allowed_hosts": "allowed_hosts",
    "allowed_origins": "allowed_origins",
    "json_response": "json_response",
}
_HTTP_ONLY = ("host", "port", "stateless", "json_response", "allowed_hosts", "allowed_origins")
_DEFAULTS: dict[str, Any] = {
    "sandbox": False,
    "sandbox_db": None,
    "transport": "stdio",
    "host": "127.0.0.1",
    "port": 8000,
    "stateless": False,
    "log_level": "info",
}


def _common_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    S = argparse.SUPPRESS
    g = p.add_argument_group("account")
    g.add_argument(
        "--sandbox",
        action="store_true",
        default=S,
        help="use the embedded FUB sandbox (no account needed) instead of FUB_API_KEY",
    )
    g.add_argument(
        "--sandbox-db",
        metavar="PATH",
        default=S,
        help="sandbox SQLite file (default: the user data dir; ':memory:' for a throwaway one)",
    )
    g = p.add_argument_group("tools")
    g.add_argument(
        "--toolsets",
        metavar="LIST",
        default=S,
        help="toolsets to enable: ids, 'default' or 'all', comma-separated (FUB_MCP_TOOLSETS)",
    )
    g.add_argument("--tools", metavar="LIST", default=S, help="extra tools to enable by name (FUB_MCP_TOOLS)")
    g.add_argument(
        "--exclude-tools",
        metavar="LIST",
        default=S,
        help="tools to leave out by name (FUB_MCP_EXCLUDE_TOOLS)",
    )
    g.add_argument(
        "--read-only",
        action="store_true",
        default=S,
        help="only read-only tools; wins over everything (FUB_MCP_READ_ONLY)",
    )
    g.add_argument(
        "--allow-delete",
        action="store_true",
        default=S,
        help="register the delete tools (FUB_MCP_ALLOW_DELETE)",
    )
    p.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default=S,
        help="log level; logs always go to stderr (default: info; warning for tools/call)",
    )
    return p


def _serve_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    S = argparse.SUPPRESS
    g = p.add_argument_group("serving")
    g.add_argument(
        "--transport",
        choices=("stdio", "http"),
        default=S,
        help="stdio (default; Claude Desktop) or http (/mcp, /sse, /healthz)",
    )
    g.add_argument(
        "--host", default=S, help="HTTP bind address (default 127.0.0.1; others need FUB_MCP_AUTH_TOKENS)"
    )
    g.add_argument("--port", type=int, default=S, help="HTTP port (default 8000; 0 picks a free one)")
    g.add_argument(
        "--stateless",
        action="store_true",
        default=S,
        help="no Mcp-Session-Id on /mcp: for load balancers and clients that drop the session header",
    )
    g.add_argument(
        "--json-response",
        action="store_true",
        default=S,
        help="answer each /mcp POST with one JSON body, not an SSE stream: faster, but no progress "
        "notifications during a call (FUB_MCP_JSON_RESPONSE)",
    )
    g.add_argument(
        "--allowed-hosts",
        metavar="LIST",
        action="append",
        default=S,
        help="extra Host names accepted over HTTP, comma-separated or repeated (FUB_MCP_ALLOWED_HOSTS)",
    )
    g.add_argument(
        "--allowed-origins",
        metavar="LIST",
        action="append",
        default=S,
        help="extra Origins accepted over HTTP, e.g. https://app.example.com (FUB_MCP_ALLOWED_ORIGINS)",
    )
    return p


def build_parser() -> argparse.ArgumentParser:
    common, serve_opts = _common_options(), _serve_options()
    parser = argparse.ArgumentParser(
        prog="fub-mcp",
        description="MCP server for the Follow Up Boss CRM. Without a command: serve (stdio by default).",
        parents=[common, serve_opts],
    )
    parser.add_argument("--version", action="version", version=f"fub-mcp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser(
        "serve",
        parents=[common, serve_opts],
        help="serve MCP over stdio or HTTP (the default)",
        description="Serve MCP over stdio (default) or HTTP.",
    )
    sub.add_parser(
        "tools",
        parents=[common],
        help="list the enabled tools",
        description="One line per enabled tool: name, toolset, read/write.",
    )
    call = sub.add_parser(
        "call",
        parents=[common],
        help="run one tool and print its result as JSON",
        description="Run one tool in-process and print its structuredContent as compact JSON.",
    )
    call.add_argument("tool", help="tool name (see `fub-mcp tools`)")
    call.add_argument(
        "arguments",
        nargs="?",
        default="{}",
        help="the tool's arguments as a JSON object ('-' reads it from stdin; default {})",
    )
    sandbox = sub.add_parser(
        "sandbox",
        help="run or reset the standalone FUB sandbox",
        description="The embedded FUB emulator, served over HTTP or reset to its seed.",
    )
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command", metavar="ACTION", required=True)
    s_serve = sandbox_sub.add_parser(
        "serve", help="serve the FUB API emulator over HTTP (FUB_BASE_URL=http://HOST:PORT/v1)"
    )
    s_serve.add_argument("--host", default="127.0.0.1")
    s_serve.add_argument("--port", type=int, default=8765)
    s_reset = sandbox_sub.add_parser("reset", help="restore the seed data in the sandbox database")
    for p in (s_serve, s_reset):
        p.add_argument(
            "--sandbox-db",
            metavar="PATH",
            default=argparse.SUPPRESS,
            help="sandbox SQLite file (default: the user data dir)",
        )
        p.add_argument(
            "--log-level", choices=("debug", "info", "warning", "error"), default=argparse.SUPPRESS
        )
    return parser


def _option(args: argparse.Namespace, name: str) -> Any:
    return getattr(args, name, _DEFAULTS.get(name))


def _settings_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for dest, field in _SETTINGS_FLAGS.items():
        if hasattr(args, dest):
            value = getattr(args, dest)
            if isinstance(value, list):  # repeated --allowed-hosts a --allowed-hosts b,c
                value = ",".join(value)
            overrides[field] = value
    return overrides


def _fail(message: str) -> int:
    sys.stderr.write(f"fub-mcp: {message}\n")
    sys.stderr.flush()
    return EXIT_CONFIG


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `fub-mcp` script; returns the exit code."""
    args = build_parser().parse_args(argv)
    command = args.command or "serve"

    # Logging first, to stderr, before the server modules (and their dependencies) are imported.
    from fub_mcp.server.run import configure_logging

    # `tools` and `call` print results for scripts: keep their stderr to warnings unless asked.
    quiet = command in ("tools", "call")
    configure_logging(getattr(args, "log_level", "warning" if quiet else _DEFAULTS["log_level"]))

    from fub_mcp.fub.errors import ConfigError

    try:
        if command == "sandbox":
            return _sandbox_command(args)
        if command == "tools":
            return _tools_command(args)
        if command == "call":
            return _call_command(args)
        return _serve_command(args)
    except ConfigError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _settings(args: argparse.Namespace) -> Any:
    from fub_mcp.server.run import run_settings

    return run_settings(sandbox=_option(args, "sandbox"), **_settings_overrides(args))


def _runtime(args: argparse.Namespace, settings: Any) -> Any:
    from fub_mcp.server.run import build_runtime

    return build_runtime(settings, sandbox=_option(args, "sandbox"), sandbox_db=_option(args, "sandbox_db"))


def _serve_command(args: argparse.Namespace) -> int:
    import anyio

    from fub_mcp.server.run import serve_http, serve_stdio

    http = _option(args, "transport") == "http"
    ignored = (
        [f"--{name.replace('_', '-')}" for name in _HTTP_ONLY if hasattr(args, name)] if not http else []
    )
    if hasattr(args, "sandbox_db") and not _option(args, "sandbox"):
        ignored.append("--sandbox-db (without --sandbox)")
    if ignored:
        _log.warning("ignoring %s in %s mode", ", ".join(ignored), "HTTP" if http else "stdio")
    settings = _settings(args)
    runtime = _runtime(args, settings)
    if http:
        serve_http(
            runtime,
            host=_option(args, "host"),
            port=_option(args, "port"),
            stateless=_option(args, "stateless"),
            log_level=_option(args, "log_level"),
        )
    else:
        anyio.run(serve_stdio, runtime)
    return EXIT_OK


def _tools_command(args: argparse.Namespace) -> int:
    from fub_mcp.server.build import select_tools

    tools = select_tools(_settings(args))
    width = max((len(t.name) for t in tools), default=0)
    toolset_width = max((len(t.toolset) for t in tools), default=0)
    lines = [
        f"{t.name:<{width}}  {t.toolset:<{toolset_width}}  {'read' if t.read_only else 'write'}\n"
        for t in tools
    ]
    sys.stdout.write("".join(lines))
    sys.stdout.flush()
    return EXIT_OK


def _call_command(args: argparse.Namespace) -> int:
    import anyio

    from fub_mcp.server.build import select_tools

    raw = sys.stdin.read() if args.arguments == "-" else args.arguments
    try:
        arguments = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        return _fail(f"the arguments are not valid JSON ({exc.msg} at position {exc.pos}): {raw[:80]!r}")
    if not isinstance(arguments, dict):
        return _fail('the arguments must be a JSON object, e.g. \'{"query": "Smith"}\'')
    settings = _settings(args)
    enabled = [t.name for t in select_tools(settings)]
    if args.tool not in enabled:
        return _fail(
            f"no enabled tool named {args.tool!r}: see `fub-mcp tools` (and --toolsets/--allow-delete)"
        )
    runtime = _runtime(args, settings)
    result = anyio.run(_call, runtime, args.tool, arguments)
    if result.is_error:
        text = " ".join(getattr(block, "text", "") for block in result.content) or "the tool failed"
        sys.stderr.write(text + "\n")
        return EXIT_TOOL_ERROR
    if result.structured_content is not None:
        out = json.dumps(result.structured_content, separators=(",", ":"), ensure_ascii=False)
    else:
        out = "\n".join(getattr(block, "text", "") for block in result.content)
    sys.stdout.write(out + "\n")
    sys.stdout.flush()
    return EXIT_OK


async def _call(runtime: Any, name: str, arguments: dict[str, Any]) -> Any:
    from mcp import Client

    server = runtime.server()
    async with runtime.running():
        async with Client(server, cache=None) as client:
            return await client.call_tool(name, arguments)


def _sandbox_command(args: argparse.Namespace) -> int:
    from fub_mcp import sandbox
    from fub_mcp.config import load_settings
    from fub_mcp.server.run import sandbox_db_path

    # The same file `fub-mcp --sandbox` uses: --sandbox-db, else FUB_MCP_DATA_DIR, else the user data dir.
    path = sandbox_db_path(load_settings(), getattr(args, "sandbox_db", None))
    if args.sandbox_command == "reset":
        sandbox.reset_database(path)
        sys.stderr.write(f"fub-mcp: sandbox data restored to the seed: {path}\n")
        return EXIT_OK
    sandbox.serve(host=args.host, port=args.port, db_path=path)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
