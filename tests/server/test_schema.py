"""compact_schema: derived titles and null branches go, meaning stays."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from fub_mcp.server.schema import compact_schema


class Item(BaseModel):
    title: str  # a property that happens to be called "title" stays
    note: str | None = None


class Args(BaseModel):
    query: Annotated[str | None, Field(description="Text to match.", max_length=10)] = None
    when: str | int | None = None
    items: list[Item] = []
    flag: bool = False


def test_optional_fields_lose_their_null_branch_and_titles_go() -> None:
    schema = compact_schema(Args.model_json_schema())
    assert schema["properties"]["query"] == {"description": "Text to match.", "maxLength": 10, "type": "string"}
    assert schema["properties"]["when"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    assert schema["properties"]["flag"] == {"default": False, "type": "boolean"}
    item = schema["$defs"]["Item"]
    assert item["properties"] == {"title": {"type": "string"}, "note": {"type": "string"}}
    assert item["required"] == ["title"] and "title" not in schema


def test_output_schemas_also_drop_defaults_and_closed_object_markers() -> None:
    raw = Args.model_json_schema()
    raw["additionalProperties"] = False
    schema = compact_schema(raw, output=True)
    assert schema["properties"]["flag"] == {"type": "boolean"}
    assert "additionalProperties" not in schema and schema["properties"]["items"]["type"] == "array"


def test_a_compacted_schema_is_a_fixed_point() -> None:
    once = compact_schema(Args.model_json_schema())
    assert compact_schema(once) == once
