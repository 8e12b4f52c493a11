"""How a tool is declared: toolsets as data, one decorator, one wrapper that shapes every result.

A toolset module does:

    TOOLSET = Toolset("people", "Find, read, create and update people (leads and contacts).")
    tool = TOOLSET.tool

    @tool(title="Search people", read_only=True, idempotent=True)
    async def search_people(ctx: Context, query: Annotated[str | None, Field(...)] = None) -> PeoplePage:
        \"\"\"Docstring for the calling model: when to use it, what it returns, what to call next.\"\"\"

The decorator records the tool (its annotations are declared once, here) and wraps it so that:
- FUB errors become tool errors with FUB's actionable message (never a traceback, never a key);
- the returned model is sent once as `structuredContent`, with a short summary as the text
  (or the compact JSON when `FUB_MCP_TEXT_CONTENT=json`), so the data is not paid for twice.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations

from fub_mcp.fub.errors import FUBError
from fub_mcp.schemas.common import ToolResult

if TYPE_CHECKING:
    from fub_mcp.config import Settings
    from fub_mcp.fub.account import AccountContext
    from fub_mcp.fub.audit import AuditLog
    from fub_mcp.fub.client import FUBClient

__all__ = ["AppContext", "ToolDef", "Toolset", "account", "app", "fub"]

ResultT = TypeVar("ResultT", bound=ToolResult)


@dataclass
class AppContext:
    """What every tool can reach: built once per process and shared by every MCP session."""

    settings: Settings
    client: FUBClient
    account: AccountContext
    audit: AuditLog | None = None
    extras: dict[str, Any] = field(default_factory=dict)  # e.g. the webhook change store


def app(ctx: Context) -> AppContext:
    """The shared application context of the running server."""
    return ctx.request_context.lifespan_context


def fub(ctx: Context) -> FUBClient:
    """The shared, rate-limited FUB client."""
    return app(ctx).client


def account(ctx: Context) -> AccountContext:
    """The cached account context (users, stages, pipelines, custom fields, smart lists)."""
    return app(ctx).account


@dataclass(frozen=True)
class ToolDef:
    """One tool as registered: the wrapped function plus everything the filters and docs need."""

    name: str
    title: str
    description: str
    toolset: str
    fn: Callable[..., Awaitable[Any]]
    annotations: ToolAnnotations
    output_model: type[ToolResult]
    deletes: bool = False

    @property
    def read_only(self) -> bool:
        return bool(self.annotations.read_only_hint)


@dataclass
class Toolset:
    """A group of tools that can be switched on and off together."""

    id: str
    description: str
    default: bool = True
    tools: list[ToolDef] = field(default_factory=list)
    # Called once when the toolset is enabled, to add MCP resources or prompts beside the tools.
    on_build: Callable[[Any, AppContext], None] | None = None

    def tool(
        self,
        *,
        title: str,
        read_only: bool,
        destructive: bool = False,
        idempotent: bool = False,
        open_world: bool = False,
        deletes: bool = False,
        name: str | None = None,
    ) -> Callable[[Callable[..., Awaitable[ResultT]]], Callable[..., Awaitable[ResultT]]]:
        """Declare a tool of this toolset. Hints are explicit; `deletes` puts it behind --allow-delete."""

        def register(fn: Callable[..., Awaitable[ResultT]]) -> Callable[..., Awaitable[ResultT]]:
            signature = inspect.signature(fn, eval_str=True)
            output_model = signature.return_annotation
            if not (inspect.isclass(output_model) and issubclass(output_model, ToolResult)):
                raise TypeError(f"tool {fn.__name__} must return a ToolResult subclass")
            context_param = next(
                (p.name for p in signature.parameters.values() if p.annotation is Context), None
            )
            if context_param is None:
                raise TypeError(f"tool {fn.__name__} must take a `ctx: Context` parameter")
            description = inspect.getdoc(fn)
            if not description:
                raise TypeError(f"tool {fn.__name__} needs a docstring written for the calling model")

            @functools.wraps(fn)
            async def wrapper(*args: Any, **kwargs: Any) -> CallToolResult:
                try:
                    result = await fn(*args, **kwargs)
                except FUBError as exc:
                    raise ToolError(str(exc)) from exc
                ctx: Context = kwargs[context_param]
                return render(result, text_mode=app(ctx).settings.text_content)

            wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
                return_annotation=Annotated[CallToolResult, output_model]
            )
            self.tools.append(
                ToolDef(
                    name=name or fn.__name__,
                    title=title,
                    description=description,
                    toolset=self.id,
                    fn=wrapper,
                    annotations=ToolAnnotations(
                        title=title,
                        read_only_hint=read_only,
                        destructive_hint=destructive,
                        idempotent_hint=idempotent,
                        open_world_hint=open_world,
                    ),
                    output_model=output_model,
                    deletes=deletes,
                )
            )
            return fn

        return register


def render(result: ToolResult, *, text_mode: str = "summary") -> CallToolResult:
    """The wire form of a tool result: structured data once, plus a short text."""
    data = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    if text_mode == "json":
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    else:
        text = result.summary()
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)
