"""Real-time: manage FUB webhooks, read what arrived, install Inbox Apps and post into them.

Off by default (`--toolsets default,webhooks`). Receiving needs the HTTP transport (FUB POSTs to
`/webhooks/fub` and `/inbox-app/subscription`); over stdio, `recent_changes` reads the same durable
store that an HTTP instance on this machine fills.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from fub_mcp.fub.errors import InvalidInputError
from fub_mcp.fub.pagination import decode_cursor, encode_cursor
from fub_mcp.insights.clock import parse_when, to_utc_iso
from fub_mcp.schemas.common import clean_text
from fub_mcp.schemas.webhooks import (
    ChangeItem,
    ChangesPage,
    InboxApp,
    InboxMessage,
    Webhook,
    WebhookDeleted,
    WebhooksPage,
)
from fub_mcp.tools._base import AppContext, Toolset, app, fub
from fub_mcp.tools.comms import screen_outgoing
from fub_mcp.tools.notes import read_page
from fub_mcp.tools.people import Cursor
from fub_mcp.webhooks import INBOX_PATH, WEBHOOK_PATH, Change, webhook_service

TOOLSET = Toolset(
    "webhooks",
    "FUB webhooks and Inbox Apps: register callbacks, read the changes that arrived, post inbox messages.",
    default=False,
)
tool = TOOLSET.tool

RECENT_URI = "fub://changes/recent"
PERSON_URI = "fub://changes/person/{person_id}"
RESOURCE_ITEMS = 20
JSON = "application/json"

# FUB's documented webhook events (fub-api.md §6.2).
Event = Literal[
    "peopleCreated", "peopleUpdated", "peopleDeleted", "peopleTagsCreated", "peopleStageUpdated",
    "peopleRelationshipCreated", "peopleRelationshipUpdated", "peopleRelationshipDeleted",
    "notesCreated", "notesUpdated", "notesDeleted",
    "emEventsOpened", "emEventsClicked", "emEventsUnsubscribed",
    "tasksCreated", "tasksUpdated", "tasksDeleted", "appointmentsCreated", "appointmentsUpdated",
    "appointmentsDeleted", "textMessagesCreated", "textMessagesUpdated", "textMessagesDeleted",
    "callsCreated", "callsUpdated", "callsDeleted", "dealsCreated", "dealsUpdated", "dealsDeleted",
    "emailsCreated", "emailsUpdated", "emailsDeleted", "eventsCreated", "stageCreated", "stageUpdated",
    "stageDeleted", "pipelineCreated", "pipelineUpdated", "pipelineDeleted", "pipelineStageCreated",
    "pipelineStageUpdated", "pipelineStageDeleted", "customFieldsCreated", "customFieldsUpdated",
    "customFieldsDeleted", "dealCustomFieldsCreated", "dealCustomFieldsUpdated", "dealCustomFieldsDeleted",
]
WebhookId = Annotated[int, Field(ge=1, description="Webhook id (from list_webhooks).")]
Url = Annotated[
    str, Field(min_length=8, max_length=2000, pattern=r"^https?://", description="Callback URL (https).")
]
REGISTERED = (
    "FUB accepts webhook calls only from the account owner's API key with a registered system "
    "(set FUB_SYSTEM and FUB_SYSTEM_KEY)"
)


def _require_registered(ctx: Context) -> None:
    if not app(ctx).settings.registered_system:
        raise InvalidInputError(REGISTERED + ": they are not set")


def _default_url(ctx: Context, path: str = WEBHOOK_PATH) -> str:
    public = app(ctx).settings.public_url
    if not public:
        raise InvalidInputError(
            "give the URL, or set FUB_MCP_PUBLIC_URL to this server's public https address so the callback "
            f"defaults to it + {path}"
        )
    return public.rstrip("/") + path


@tool(title="List webhooks", read_only=True, idempotent=True, open_world=False)
async def list_webhooks(
    ctx: Context,
    event: Annotated[Event | None, Field(description="Only this event.")] = None,
    limit: Annotated[int, Field(ge=1, le=100, description="Page size, 1-100.")] = 50,
    cursor: Cursor = None,
) -> WebhooksPage:
    """List the webhooks this registered system has in FUB (id, event, callback URL, Active/Disabled).

    Needs the owner's key and FUB_SYSTEM/FUB_SYSTEM_KEY. Use before create_webhook: FUB allows at most
    two webhooks per event per system."""
    _require_registered(ctx)
    items, paging = await read_page(ctx, "/webhooks", {"event": event, "limit": limit}, cursor)
    return WebhooksPage(items=[Webhook.from_record(r) for r in items], **paging)


@tool(title="Create a webhook", read_only=False, idempotent=False, open_world=True)
async def create_webhook(
    ctx: Context,
    event: Annotated[Event, Field(description="The FUB event to be told about, e.g. peopleCreated.")],
    url: Annotated[
        Url | None, Field(description="Callback URL; default: FUB_MCP_PUBLIC_URL + /webhooks/fub.")
    ] = None,
) -> Webhook:
    """Ask FUB to POST `event` notifications to a URL (by default this server's /webhooks/fub receiver).

    FUB allows at most two webhooks per event per registered system and needs the account owner's key
    plus FUB_SYSTEM/FUB_SYSTEM_KEY. The changes then show in recent_changes. Returns the webhook."""
    _require_registered(ctx)
    record = await fub(ctx).post("/webhooks", {"event": event, "url": url or _default_url(ctx)})
    return Webhook.from_record(record)


@tool(title="Update a webhook", read_only=False, destructive=True, idempotent=True, open_world=True)
async def update_webhook(
    ctx: Context,
    webhook_id: WebhookId,
    event: Annotated[Event | None, Field(description="The new event.")] = None,
    url: Annotated[Url | None, Field(description="The new callback URL.")] = None,
    status: Annotated[Literal["Active", "Disabled"] | None, Field(description="Pause or resume.")] = None,
) -> Webhook:
    """Change a webhook's event or URL, or pause it (status=Disabled) and resume it (Active).

    Returns the webhook as FUB stored it."""
    _require_registered(ctx)
    body = {k: v for k, v in {"event": event, "url": url, "status": status}.items() if v is not None}
    if not body:
        raise InvalidInputError("nothing to change: give event, url or status")
    return Webhook.from_record(await fub(ctx).put(f"/webhooks/{webhook_id}", body))


@tool(title="Delete a webhook", read_only=False, destructive=True, idempotent=True, deletes=True)
async def delete_webhook(
    ctx: Context,
    webhook_id: WebhookId,
    confirm: Annotated[
        bool, Field(description="Must be true: the registration is removed for good.")
    ] = False,
) -> WebhookDeleted:
    """Delete a webhook registration (FUB stops sending that event to that URL).

    Irreversible: set confirm=true after the user agreed. To pause instead, use update_webhook with
    status=Disabled."""
    if confirm is not True:
        raise InvalidInputError(
            "deleting a webhook is permanent: repeat with confirm=true once the user agreed"
        )
    _require_registered(ctx)
    await fub(ctx).delete(f"/webhooks/{webhook_id}")
    return WebhookDeleted(id=webhook_id, deleted=True)


def _item(change: Change) -> ChangeItem:
    assert change.id is not None
    return ChangeItem(id=change.id, event=change.event, resource=change.resource,
                      resource_id=change.resource_id, person_id=change.person_id, facts=change.summary,
                      at=change.at)


@tool(title="Recent changes from FUB", read_only=True, idempotent=True, open_world=False)
async def recent_changes(
    ctx: Context,
    event: Annotated[Event | None, Field(description="Only this event, e.g. peopleCreated.")] = None,
    person_id: Annotated[int | None, Field(ge=1, description="Only changes about this person.")] = None,
    since: Annotated[
        datetime | date | None, Field(description="Only changes at or after this time (UTC).")
    ] = None,
    limit: Annotated[int, Field(ge=1, le=100, description="Page size, 1-100.")] = 20,
    cursor: Cursor = None,
) -> ChangesPage:
    """What FUB reported through webhooks and Inbox Apps, newest first: event, resource, person,
    key facts, time.

    Use it to react to new leads, replies and stage changes without polling FUB. Open a person with
    get_person or lead_timeline for details. Needs webhooks (create_webhook) and the HTTP server running."""
    if cursor:
        state = decode_cursor(cursor)
    else:
        moment = parse_when(since.isoformat()) if since else None
        since_utc = moment and to_utc_iso(moment)
        state = {"event": event, "person_id": person_id, "since": since_utc, "before_id": None}
    queue = webhook_service(app(ctx)).queue
    found = await queue.changes(**state, limit=limit + 1)
    page, more = found[:limit], len(found) > limit
    next_cursor = encode_cursor({**state, "before_id": page[-1].id}) if more and page else None
    counts = await queue.counts()
    return ChangesPage(items=[_item(c) for c in page], has_more=more, next_cursor=next_cursor,
                       pending=counts["pending"], failed=counts["failed"])


@tool(title="Install an Inbox App", read_only=False, idempotent=True, open_world=True)
async def install_inbox_app(
    ctx: Context,
    published_inbox_app_id: Annotated[int, Field(ge=1, description="Your published Inbox App's id.")],
    user_id: Annotated[
        int, Field(ge=0, description="The FUB user to install it for; 0 = the whole account.")
    ] = 0,
    subscription_url: Annotated[
        Url | None, Field(description="Default: FUB_MCP_PUBLIC_URL + /inbox-app/subscription.")
    ] = None,
) -> InboxApp:
    """Install an Inbox App (a messaging channel in FUB's inbox) for one user or the whole account.

    FUB immediately POSTs {"test": 1} to the subscription URL and fails the install unless it answers 200
    (this server's /inbox-app/subscription does). user_id=0 needs the account owner's key. Reinstalling a
    deactivated app reactivates the same id. Returns the installed app."""
    _require_registered(ctx)
    me = await fub(ctx).get("/me")
    if user_id == 0 and not me.get("isOwner") and str(me.get("role", "")).lower() != "owner":
        raise InvalidInputError(
            "user_id=0 installs for the whole account, which needs the account owner's API key; this key "
            f"belongs to {clean_text(me.get('name'), limit=80)} ({me.get('role')}). "
            f"Use user_id={me.get('id')} to install for this user, or the owner's key"
        )
    url = subscription_url or _default_url(ctx, INBOX_PATH)
    body = {"publishedInboxAppId": published_inbox_app_id, "userId": user_id, "subscriptionUrl": url}
    return InboxApp.from_record(await fub(ctx).post("/inboxApps/install", body))


@tool(title="Post an Inbox App message", read_only=False, idempotent=True, open_world=True)
async def post_inbox_message(
    ctx: Context,
    inbox_app_id: Annotated[int, Field(ge=1, description="The installed app's id (install_inbox_app).")],
    conversation_id: Annotated[
        str, Field(min_length=1, max_length=200, description="Your externalConversationId.")
    ],
    message_id: Annotated[
        str, Field(min_length=1, max_length=200, description="Your externalMessageId (unique).")
    ],
    message: Annotated[str, Field(min_length=1, max_length=10_000, description="The message text.")],
    is_incoming: Annotated[bool, Field(description="true: the lead wrote it; false: the agent did.")],
    sender_name: Annotated[str, Field(min_length=1, max_length=200, description="Who wrote it.")],
    sender_email: Annotated[
        str | None, Field(max_length=200, description="Sender's email (FUB matches the lead by it).")
    ] = None,
    sender_phone: Annotated[
        str | None, Field(max_length=40, description="Sender's phone (FUB matches the lead by it).")
    ] = None,
    subject: Annotated[str | None, Field(max_length=200, description="Subject line, if any.")] = None,
    acknowledge_fair_housing: Annotated[
        bool, Field(description="Post an outgoing message despite Fair Housing findings (after review).")
    ] = False,
) -> InboxMessage:
    """Put a message into an Inbox App conversation in FUB (FUB links it to the person by the sender's
    email or phone). Outgoing messages are screened for Fair Housing issues first; a flagged one is
    refused with the findings (revise it, or set acknowledge_fair_housing=true after review).

    FUB de-duplicates by message_id, so repeating the same message_id is harmless. Returns the message."""
    note = None
    if not is_incoming:
        note = screen_outgoing(ctx, message, acknowledge_fair_housing, "post_inbox_message")
    contact = {"name": sender_name, "email": sender_email, "phone": sender_phone}
    sender = {k: v for k, v in contact.items() if v}
    body: dict[str, Any] = {"externalConversationId": conversation_id, "externalMessageId": message_id,
                            "message": message, "isIncoming": is_incoming, "sender": sender}
    if subject:
        body["subject"] = subject
    record = await fub(ctx).post(f"/inboxApps/{inbox_app_id}/message", body)
    return InboxMessage.from_record(record, note=note)


# --- MCP resources: the change feed, with update notifications -------------------------------------


def _register_resources(server: Any, context: AppContext) -> None:
    service = webhook_service(context)

    async def feed(person_id: int | None) -> str:
        changes = await service.queue.changes(person_id=person_id, limit=RESOURCE_ITEMS)
        items = [_item(c).model_dump(mode="json", by_alias=True, exclude_none=True) for c in changes]
        return json.dumps({"changes": items}, separators=(",", ":"))

    @server.resource(RECENT_URI, name="recent_changes", title="Recent FUB changes", mime_type=JSON)
    async def recent() -> str:
        """The newest changes FUB reported (webhooks, Inbox Apps). Subscribe to hear about new ones."""
        return await feed(None)

    @server.resource(PERSON_URI, name="person_changes", title="A person's FUB changes", mime_type=JSON)
    async def person(person_id: int) -> str:
        """The newest changes FUB reported about one person."""
        return await feed(person_id)

    server.enable_resource_subscriptions()

    async def announce(changes: list[Change]) -> None:
        uris = {RECENT_URI} | {PERSON_URI.format(person_id=c.person_id) for c in changes if c.person_id}
        for uri in sorted(uris):
            await server.publish_resource_updated(uri)

    service.notifier.subscribe(announce)


TOOLSET.on_build = _register_resources
