"""The `fub-mcp` command line: tools, call, sandbox reset, flag parsing, exit codes, and the Claude
Desktop example config. Run in-process through `main(argv)` (the subprocess paths are in test_stdio.py)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from fub_mcp import __version__
from fub_mcp.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No FUB_* settings from the developer's shell, no .env, and leave the root logger as we found it."""
    import os

    for name in list(os.environ):
        if name.startswith("FUB_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:], root.level = handlers, level
    logging.captureWarnings(False)


def test_version_goes_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"fub-mcp {__version__}\n"


def test_tools_lists_name_toolset_and_kind_and_respects_the_switches(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["tools"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["search_people", "people", "read"] in rows
    assert ["create_person", "people", "write"] in rows

    assert main(["tools", "--read-only", "--toolsets", "people,notes", "--exclude-tools", "get_person"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert {row[0] for row in rows} == {"search_people", "check_duplicate", "list_notes"}
    assert all(row[2] == "read" for row in rows)


def test_flags_given_before_the_command_count_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--read-only", "tools"]) == 0
    assert "write" not in capsys.readouterr().out


def test_environment_settings_apply_and_flags_override_them(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUB_MCP_TOOLSETS", "notes")
    assert main(["tools"]) == 0
    assert {line.split()[1] for line in capsys.readouterr().out.splitlines()} == {"notes"}
    assert main(["tools", "--toolsets", "tasks"]) == 0
    assert {line.split()[1] for line in capsys.readouterr().out.splitlines()} == {"tasks"}


def test_call_prints_structured_content_as_one_compact_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["call", "--sandbox", "--sandbox-db", ":memory:", "search_people", '{"query": "smith", "limit": 2}']
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("\n") == 1 and ", " not in out
    data = json.loads(out)
    assert len(data["items"]) == 2 and data["has_more"] is True


def test_call_reports_a_tool_error_on_stderr_with_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--sandbox", "--sandbox-db", ":memory:", "call", "get_person", '{"person_id": 999999}'])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert "not found" in captured.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["call", "--sandbox", "search_people", "{not json"], "not valid JSON"),
        (["call", "--sandbox", "search_people", "[1, 2]"], "JSON object"),
        (["call", "--sandbox", "delete_everything"], "no enabled tool named 'delete_everything'"),
        (
            ["call", "--sandbox", "--read-only", "create_person", "{}"],
            "no enabled tool named 'create_person'",
        ),
        (["call", "search_people"], "FUB_API_KEY"),
        (["tools", "--toolsets", "bogus"], "unknown toolset 'bogus'"),
    ],
)
def test_usage_and_configuration_problems_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err


def test_sandbox_reset_restores_the_seed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite3"
    assert (
        main(
            [
                "--sandbox",
                "--sandbox-db",
                str(db),
                "call",
                "create_person",
                '{"first_name": "Zed", "last_name": "Zebulon-Test", "emails": ["zed@example.com"]}',
            ]
        )
        == 0
    )
    find = ["--sandbox", "--sandbox-db", str(db), "call", "search_people", '{"query": "Zebulon-Test"}']
    capsys.readouterr()
    assert main(find) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 1
    assert main(["sandbox", "reset", "--sandbox-db", str(db)]) == 0
    assert str(db) in capsys.readouterr().err
    assert main(find) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 0


def test_the_claude_desktop_example_is_valid_and_its_arguments_parse() -> None:
    config = json.loads((ROOT / "claude_desktop_config.example.json").read_text())
    servers = config["mcpServers"]
    assert set(servers) == {"fub-sandbox", "fub"}
    assert "--sandbox" in servers["fub-sandbox"]["args"] and "env" not in servers["fub-sandbox"]
    assert set(servers["fub"]["env"]) == {"FUB_API_KEY", "FUB_SYSTEM", "FUB_SYSTEM_KEY"}
    for server in servers.values():
        assert server["command"].endswith("/fub-mcp")
        args = build_parser().parse_args(server["args"])
        assert args.command == "serve" and getattr(args, "transport", "stdio") == "stdio"
