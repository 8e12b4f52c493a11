"""The README tells a newcomer the truth: its generated tables, its two commands, its example config."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from fub_mcp.cli import build_parser
from fub_mcp.server.docs import render_readme
from fub_mcp.tools import all_tools

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SERVE = ".venv/bin/pip install -e . && .venv/bin/fub-mcp serve --sandbox --transport http --port 8000"


def test_generated_tables_match_the_code() -> None:
    assert render_readme(README) == README, "run: .venv/bin/python -m fub_mcp.server.docs README.md"


def test_the_two_commands_are_there_and_ci_runs_the_test_one() -> None:
    assert SERVE in README
    assert "```bash\nbash .ci/run\n```" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install" in ci and "-m pytest" in ci


def test_the_serve_command_parses() -> None:
    args = build_parser().parse_args(shlex.split(SERVE.split("fub-mcp ", 1)[1]))
    assert (args.command, args.sandbox, args.transport, args.port) == ("serve", True, "http", 8000)


def test_every_tool_is_in_the_table_and_no_stale_tool_is_named() -> None:
    table = README.split("<!-- generated: tools -->")[1].split("<!-- end generated: tools -->")[0]
    listed = set(re.findall(r"\| `(\w+)` \|", table))
    assert listed == {tool.name for tool in all_tools()}


def test_no_placeholder_or_open_decision_is_left() -> None:
    assert "[LEAD" not in README and "TODO" not in README and "<!-- sections:" not in README


@pytest.mark.parametrize("name", ["fub-sandbox", "fub"])
def test_the_claude_desktop_example_is_valid_and_its_args_parse(name: str) -> None:
    config = json.loads((ROOT / "claude_desktop_config.example.json").read_text())
    server = config["mcpServers"][name]
    assert server["command"].endswith("/fub-mcp")
    args = build_parser().parse_args(server["args"])
    assert bool(getattr(args, "sandbox", False)) is (name == "fub-sandbox")
    if name == "fub":
        assert set(server["env"]) == {"FUB_API_KEY", "FUB_SYSTEM", "FUB_SYSTEM_KEY"}
