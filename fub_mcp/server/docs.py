"""Generate the README's tool and configuration tables from the code, so they cannot drift.

`python -m fub_mcp.server.docs README.md` rewrites the generated blocks of README.md in place
(`<!-- generated: tools -->` ... `<!-- end generated: tools -->`, same for `config`);
`tests/test_readme.py` fails when README.md differs from what this would write.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pydantic import AliasChoices

from fub_mcp.config import Settings
from fub_mcp.tools import ALL_TOOLSETS

__all__ = ["GENERATED", "config_table", "render_readme", "tools_table"]


def _kind(annotations: object) -> str:
    if getattr(annotations, "read_only_hint", False):
        return "read"
    parts = ["write"]
    if getattr(annotations, "destructive_hint", False):
        parts.append("destructive")
    if getattr(annotations, "open_world_hint", False):
        parts.append("open-world")
    return ", ".join(parts)


def _first_sentence(text: str, limit: int = 160) -> str:
    """The first sentence of a docstring's first paragraph, on one line, cut at a word past `limit`."""
    paragraph = " ".join(text.strip().split("\n\n")[0].split())
    end = re.search(r"[.!?](?=\s+[A-Z`(]|$)", paragraph)
    sentence = paragraph[: end.end()] if end else paragraph
    if len(sentence) > limit:
        sentence = sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"
    return sentence


def tools_table() -> str:
    """Markdown table: toolset, tool, read/write, one-line purpose."""
    rows = ["| toolset | tool | kind | what it does |", "|---|---|---|---|"]
    for toolset in ALL_TOOLSETS:
        label = toolset.id + ("" if toolset.default else " (opt-in)")
        for tool in toolset.tools:
            kind = _kind(tool.annotations) + (", needs --allow-delete" if tool.deletes else "")
            rows.append(f"| {label} | `{tool.name}` | {kind} | {_first_sentence(tool.description)} |")
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


GENERATED = {"tools": tools_table, "config": config_table}


def render_readme(text: str) -> str:
    """`text` with every generated block replaced by its current table."""
    for name, table in GENERATED.items():
        start, end = f"<!-- generated: {name} -->", f"<!-- end generated: {name} -->"
        pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
        if not pattern.search(text):
            raise ValueError(f"README has no {start} ... {end} block")
        block = f"{start}\n{table()}\n{end}"
        text = pattern.sub(lambda _m, block=block: block, text, count=1)
    return text


if __name__ == "__main__":
    if len(sys.argv) > 1:
        path = Path(sys.argv[1])
        path.write_text(render_readme(path.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        sys.stdout.write("## Tools\n\n" + tools_table() + "\n\n## Configuration\n\n" + config_table() + "\n")
