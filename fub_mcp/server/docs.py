"""Generate the README's tool and configuration tables from the code, so they cannot drift.

`python -m fub_mcp.server.docs` prints both; `tests/test_readme.py` fails when README.md differs.
"""

from __future__ import annotations

import sys

from pydantic import AliasChoices

from fub_mcp.config import Settings
from fub_mcp.tools import ALL_TOOLSETS

__all__ = ["config_table", "tools_table"]


def _kind(annotations: object) -> str:
    if getattr(annotations, "read_only_hint", False):
        return "read"
    parts = ["write"]
    if getattr(annotations, "destructive_hint", False):
        parts.append("destructive")
    if getattr(annotations, "open_world_hint", False):
        parts.append("open-world")
    return ", ".join(parts)


def tools_table() -> str:
    """Markdown table: toolset, tool, read/write, one-line purpose."""
    rows = ["| toolset | tool | kind | what it does |", "|---|---|---|---|"]
    for toolset in ALL_TOOLSETS:
        label = toolset.id + ("" if toolset.default else " (opt-in)")
        for tool in toolset.tools:
            kind = _kind(tool.annotations) + (", needs --allow-delete" if tool.deletes else "")
            first_line = tool.description.strip().splitlines()[0]
            rows.append(f"| {label} | `{tool.name}` | {kind} | {first_line} |")
    return "\n".join(rows)


def config_table() -> str:
    """Markdown table of every environment variable, its default and meaning."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        env = alias.choices[0] if isinstance(alias, AliasChoices) else name.upper()
        default = field.get_default(call_default_factory=True)
        if isinstance(default, list):
            default = ",".join(map(str, default))
        shown = "" if default in (None, "") else f"`{default}`"
        rows.append(f"| `{env}` | {shown} | {field.description or ''} |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.stdout.write("## Tools\n\n" + tools_table() + "\n\n## Configuration\n\n" + config_table() + "\n")
