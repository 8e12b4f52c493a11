"""Lean tool schemas: the JSON Schema pydantic writes, minus what costs a model's context and says nothing.

`tools/list` is read by the model on every conversation, so its size is a cost paid over and over.
Pydantic's schemas repeat themselves: a `title` derived from every field name, and every optional
field spelled `anyOf: [X, {"type": "null"}], default: null`. `compact_schema` removes exactly that:

- every `title` (the property name already says it);
- `null` from an `anyOf` whose default is null (omitting the field means the same; the argument
  models still accept an explicit null), collapsing a one-member `anyOf` into its member;
- in output schemas, `default` and `additionalProperties: false` (they describe validation of
  input; results are produced by the server and sent with `None` fields left out).

Validation is unchanged: arguments are validated by the pydantic models, not by these schemas.
"""

from __future__ import annotations

from typing import Any

__all__ = ["compact_schema"]

_NULL = {"type": "null"}
_SCHEMA_MAPS = ("properties", "$defs", "patternProperties")


def compact_schema(schema: Any, *, output: bool = False) -> Any:
    """A copy of `schema` without derived titles and redundant null branches (see the module doc)."""
    if isinstance(schema, list):
        return [compact_schema(item, output=output) for item in schema]
    if not isinstance(schema, dict):
        return schema
    any_of = schema.get("anyOf")
    if isinstance(any_of, list) and _NULL in any_of and schema.get("default", None) is None:
        rest = [branch for branch in any_of if branch != _NULL]
        node = {key: value for key, value in schema.items() if key not in ("anyOf", "default")}
        if len(rest) == 1 and isinstance(rest[0], dict) and not set(rest[0]) & set(node):
            node.update(rest[0])
        else:
            node["anyOf"] = rest
        return compact_schema(node, output=output)
    compacted: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and not isinstance(value, dict):
            continue
        if output and (key == "default" or (key == "additionalProperties" and value is False)):
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            compacted[key] = {name: compact_schema(sub, output=output) for name, sub in value.items()}
        else:
            compacted[key] = compact_schema(value, output=output)
    return compacted
