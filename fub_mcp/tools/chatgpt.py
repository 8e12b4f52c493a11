"""ChatGPT connectors: the `search` and `fetch` pair OpenAI's connectors and deep research call.

Off by default; enable with `--toolsets chatgpt` (plus any others) for a ChatGPT connector.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context
from pydantic import Field

from fub_mcp.fub.errors import FUBError, InvalidInputError
from fub_mcp.insights.timeline import Kind
from fub_mcp.schemas.chatgpt import Document, SearchHit, SearchResults, deal_text, person_text
from fub_mcp.schemas.deals import MinimalDeal
from fub_mcp.schemas.people import PERSON_SUMMARY_FIELDS, MinimalPerson
from fub_mcp.tools._base import Toolset, account, app, fub
from fub_mcp.tools.deals import deal_detail
from fub_mcp.tools.insights import lead_timeline
from fub_mcp.tools.people import person_detail, query_params

TOOLSET = Toolset(
    "chatgpt", "search and fetch, in the shape ChatGPT connectors and deep research expect.", default=False
)
tool = TOOLSET.tool

PEOPLE_HITS = 10
DEAL_HITS = 5
DEAL_SCAN = 500  # FUB cannot search deals by name: the newest this many are read and filtered
TIMELINE_ITEMS = 10
TIMELINE_KINDS: list[Kind] = ["event", "call", "text", "note"]
_ID = re.compile(r"^(person|deal):(\d+)$")
# FUB's web app lives at https://<account domain>.followupboss.com (domain from GET /identity); when
# that is unknown, app.followupboss.com is a guess that redirects a signed-in user to their account.
FALLBACK_WEB = "https://app.followupboss.com"


async def web_base(ctx: Context) -> str:
    """The account's FUB web app address, looked up once."""
    extras = app(ctx).extras
    if "web_base" not in extras:
        try:
            domain = ((await fub(ctx).get("/identity")) or {}).get("account", {}).get("domain")
        except FUBError:
            domain = None
        extras["web_base"] = f"https://{domain}.followupboss.com" if domain else FALLBACK_WEB
    return extras["web_base"]


def person_url(base: str, person_id: int) -> str:
    return f"{base}/2/people/view/{person_id}"


def deal_url(base: str, deal: MinimalDeal) -> str:
    # Deals show on their clients' pages; a deal-page address is not documented.
    return person_url(base, deal.people[0].id) if deal.people else f"{base}/2/deals"


def _person_title(p: MinimalPerson) -> str:
    detail = ", ".join(x for x in (p.stage, p.source, p.assigned_to and f"agent {p.assigned_to}") if x)
    return f"{p.name or '(no name)'} ({detail})" if detail else p.name or f"person {p.id}"


def _deal_title(d: MinimalDeal) -> str:
    where = " / ".join(x for x in (d.pipeline, d.stage) if x)
    price = f", ${d.price:,.0f}" if d.price else ""
    return f"Deal: {d.name or d.id} ({where}{price})"


@tool(title="Search (ChatGPT)", read_only=True, idempotent=True)
async def search(
    ctx: Context,
    query: Annotated[
        str, Field(min_length=1, max_length=200, description="A person's name, email or phone; a deal name.")
    ],
) -> SearchResults:
    """Search Follow Up Boss people (by name, email or phone) and deals (by name).

    Returns results with `id` (person:<id> or deal:<id>), `title` and `url`; call fetch with an id
    for the full record and recent activity."""
    found: dict[str, list[dict[str, Any]]] = {}
    words = query.lower().split()

    async def people() -> None:
        params = {**query_params(query), "fields": PERSON_SUMMARY_FIELDS, "limit": PEOPLE_HITS}
        found["people"] = (await fub(ctx).get_page("/people", params)).items

    async def deals() -> None:
        found["deals"] = [
            d async for d in fub(ctx).paginate("/deals", None, max_items=DEAL_SCAN)
            if all(w in str(d.get("name") or "").lower() for w in words)
        ][:DEAL_HITS]

    async with anyio.create_task_group() as tg:
        tg.start_soon(people)
        tg.start_soon(deals)
    base, pipelines = await web_base(ctx), (await account(ctx).snapshot()).pipelines
    hits = [
        SearchHit(id=f"person:{p.id}", title=_person_title(p), url=person_url(base, p.id))
        for p in map(MinimalPerson.from_record, found["people"])
    ]
    hits += [
        SearchHit(id=f"deal:{d.id}", title=_deal_title(d), url=deal_url(base, d))
        for d in (MinimalDeal.from_record(r, pipelines) for r in found["deals"])
    ]
    return SearchResults(results=hits)


@tool(title="Fetch (ChatGPT)", read_only=True, idempotent=True)
async def fetch(
    ctx: Context,
    id: Annotated[str, Field(min_length=1, max_length=40, description="From search: person:N or deal:N.")],
) -> Document:
    """Fetch one person or deal from Follow Up Boss as plain text, by an id from search.

    A person comes with contact details, tags, custom fields and their latest events, calls, texts and
    notes (newest first; text the lead wrote is marked untrusted). A deal comes with its pipeline,
    stage, price, dates, clients, agents and commissions."""
    match = _ID.match(id.strip().lower())
    if match is None:
        raise InvalidInputError("id must look like person:123 or deal:45 (from search)")
    kind, number = match.group(1), int(match.group(2))
    base = await web_base(ctx)
    if kind == "deal":
        deal = await deal_detail(ctx, await fub(ctx).get(f"/deals/{number}"))
        meta = {"type": "deal", "pipeline": deal.pipeline, "stage": deal.stage, "status": deal.status}
        return Document(id=id, title=_deal_title(deal), text=deal_text(deal), url=deal_url(base, deal),
                        metadata={k: v for k, v in meta.items() if v is not None})
    person = await person_detail(ctx, await fub(ctx).get(f"/people/{number}", {"fields": "allFields"}))
    timeline = await lead_timeline(ctx, person_id=number, limit=TIMELINE_ITEMS, kinds=TIMELINE_KINDS)
    meta = {"type": "person", "stage": person.stage, "source": person.source, "agent": person.assigned_to}
    return Document(id=id, title=_person_title(person), text=person_text(person, timeline),
                    url=person_url(base, number), metadata={k: v for k, v in meta.items() if v is not None})
