"""Webhooks (registration; deliveries live in webhooks.py) and Inbox Apps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.responses import Response

from fub_mcp.sandbox._util import (
    as_bool,
    as_int,
    bad_request,
    check_fields,
    fmt_ts,
    forbidden,
    norm_email,
    norm_phone,
    not_found,
    parse_ts,
    require,
)
from fub_mcp.sandbox.api_people import person_exists, touch_activity
from fub_mcp.sandbox.constants import SANDBOX_SYSTEM_KEY
from fub_mcp.sandbox.http import Req, json_response, no_content, paginate
from fub_mcp.sandbox.webhooks import sign

__all__ = ["INTEGRATION_ROUTES", "WEBHOOK_EVENTS"]

WEBHOOK_EVENTS = (
    "peopleCreated",
    "peopleUpdated",
    "peopleDeleted",
    "peopleTagsCreated",
    "peopleStageUpdated",
    "peopleRelationshipCreated",
    "peopleRelationshipUpdated",
    "peopleRelationshipDeleted",
    "notesCreated",
    "notesUpdated",
    "notesDeleted",
    "emEventsOpened",
    "emEventsClicked",
    "emEventsUnsubscribed",
    "tasksCreated",
    "tasksUpdated",
    "tasksDeleted",
    "appointmentsCreated",
    "appointmentsUpdated",
    "appointmentsDeleted",
    "textMessagesCreated",
    "textMessagesUpdated",
    "textMessagesDeleted",
    "callsCreated",
    "callsUpdated",
    "callsDeleted",
    "dealsCreated",
    "dealsUpdated",
    "dealsDeleted",
    "emailsCreated",
    "emailsUpdated",
    "emailsDeleted",
    "eventsCreated",
    "stageCreated",
    "stageUpdated",
    "stageDeleted",
    "pipelineCreated",
    "pipelineUpdated",
    "pipelineDeleted",
    "pipelineStageCreated",
    "pipelineStageUpdated",
    "pipelineStageDeleted",
    "customFieldsCreated",
    "customFieldsUpdated",
    "customFieldsDeleted",
    "dealCustomFieldsCreated",
    "dealCustomFieldsUpdated",
    "dealCustomFieldsDeleted",
)
MAX_PER_EVENT = 2  # FUB: at most two webhooks per event per system
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
WEBHOOK_OUT = ("id", "status", "event", "url")


def check_callback_url(url: Any, field: str = "url") -> str:
    """HTTPS only, as FUB; sandbox deviation: plain http is allowed to loopback hosts (127.0.0.1,
    localhost, ::1) so tests and local development can receive deliveries."""
    if not isinstance(url, str) or not url.strip():
        raise bad_request(f"{field} is required")
    parts = urlsplit(url.strip())
    if not parts.hostname:
        raise bad_request(f"Invalid {field}: '{url}' is not an absolute URL")
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
        return url.strip()
    raise bad_request(f"Invalid {field}: callback URLs must use https")


# --- webhooks ---------------------------------------------------------------------------------------


def _webhook_access(req: Req) -> None:
    if not req.system:
        raise forbidden("The X-System header is required for all requests to /v1/webhooks")
    if not req.registered:
        raise forbidden(
            "Only registered systems can manage webhooks: send valid X-System and X-System-Key headers"
        )
    if not req.owner:
        raise forbidden("Only the account owner can manage webhooks")


def _load_webhook(req: Req) -> dict[str, Any]:
    _webhook_access(req)
    hook = req.sandbox.db.get("webhooks", as_int(req.path_params["id"], "id"))
    if hook is None or hook.get("system") != req.system:
        raise not_found()
    return hook


def _check_room(req: Req, event: str, exclude: int | None = None) -> None:
    same = [
        h
        for h in req.sandbox.db.select("webhooks", "event = ?", (event,))
        if h.get("system") == req.system and h["id"] != exclude
    ]
    if len(same) >= MAX_PER_EVENT:
        raise bad_request(
            f"A system can register at most {MAX_PER_EVENT} webhooks per event; "
            f"'{event}' already has {len(same)}. Unregister one first."
        )


def _check_event(event: Any) -> str:
    if event not in WEBHOOK_EVENTS:
        raise bad_request(f"Invalid event '{event}'")
    return str(event)


async def list_webhooks(req: Req) -> Response:
    _webhook_access(req)
    where, params = ["json_extract(data, '$.system') = ?"], [req.system]
    for key in ("event", "status"):
        if req.q(key):
            where.append(f"json_extract(data, '$.{key}') = ?")
            params.append(req.q(key))
    sorts = {
        "id": "id",
        "created": "json_extract(data, '$.created')",
        "updated": "json_extract(data, '$.updated')",
        "status": "json_extract(data, '$.status')",
        "event": "event",
    }
    return paginate(
        req,
        "webhooks",
        "webhooks",
        where=where,
        params=params,
        sorts=sorts,
        default_sort="created",
        serialize=lambda h: {k: h.get(k) for k in WEBHOOK_OUT},
    )


async def create_webhook(req: Req) -> Response:
    _webhook_access(req)
    body = req.body()
    check_fields(body, {"event", "url"})
    require(body, "event", "url")
    event = _check_event(body["event"])
    url = check_callback_url(body["url"])
    _check_room(req, event)
    now = fmt_ts(req.sandbox.now())
    hook = req.sandbox.db.insert(
        "webhooks",
        {
            "created": now,
            "updated": now,
            "status": "Active",
            "event": event,
            "url": url,
            "system": req.system,
        },
    )
    return json_response({k: hook.get(k) for k in WEBHOOK_OUT}, 201)


async def get_webhook(req: Req) -> Response:
    hook = _load_webhook(req)
    return json_response({k: hook.get(k) for k in WEBHOOK_OUT})


async def update_webhook(req: Req) -> Response:
    hook = _load_webhook(req)
    body = req.body()
    check_fields(body, {"event", "url", "status"})
    if "event" in body and body["event"] != hook["event"]:
        hook["event"] = _check_event(body["event"])
        _check_room(req, hook["event"], exclude=hook["id"])
    if "url" in body:
        hook["url"] = check_callback_url(body["url"])
    if "status" in body:
        if body["status"] not in ("Active", "Disabled"):
            raise bad_request("status must be Active or Disabled")
        hook["status"] = body["status"]
    hook["updated"] = fmt_ts(req.sandbox.now())
    req.sandbox.db.update("webhooks", hook)
    return json_response({k: hook.get(k) for k in WEBHOOK_OUT})


async def delete_webhook(req: Req) -> Response:
    hook = _load_webhook(req)
    req.sandbox.db.delete("webhooks", hook["id"])
    return no_content()


# --- inbox apps -------------------------------------------------------------------------------------

INBOX_TEST_TIMEOUT = 5.0
INSTALL_OUT = ("id", "created", "updated", "publishedInboxAppId", "userId", "subscriptionUrl", "status")
MESSAGE_FIELDS = {
    "externalConversationId",
    "externalMessageId",
    "message",
    "isIncoming",
    "sender",
    "sentAt",
    "subject",
    "isAutomation",
    "person",
    "owner",
    "deliveryStatus",
    "attachments",
    "richObjects",
}
MESSAGE_REQUIRED = ("externalConversationId", "externalMessageId", "message", "isIncoming", "sender")
NOTE_FIELDS = {
    "externalConversationId",
    "body",
    "subject",
    "isHtml",
    "personId",
}  # ⚠️ field names undocumented
CONVERSATION_FIELDS = {
    "subject",
    "status",
    "isRead",
    "archived",
    "person",
    "owner",
    "participants",
}  # ⚠️ likewise


def _install_out(app: Mapping[str, Any]) -> dict[str, Any]:
    return {k: app.get(k) for k in INSTALL_OUT}


async def _send_test(req: Req, url: str) -> None:
    """FUB POSTs {"test": 1} to the subscription URL at install; anything but a timely 200 fails it."""
    body = b'{"test":1}'
    headers = {"Content-Type": "application/json", "FUB-Signature": sign(SANDBOX_SYSTEM_KEY, body)}
    try:
        async with httpx.AsyncClient(transport=req.sandbox.outbound(), timeout=INBOX_TEST_TIMEOUT) as client:
            response = await client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        raise bad_request(
            f"The subscription URL did not answer the test request within {INBOX_TEST_TIMEOUT:g} seconds"
        ) from None
    except httpx.HTTPError as exc:
        raise bad_request(f"The subscription URL could not be reached: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise bad_request(
            f"The subscription URL answered the test request with HTTP {response.status_code}; "
            "it must answer 200"
        )


async def install_inbox_app(req: Req) -> Response:
    req.require_registered()
    body = req.body()
    check_fields(body, {"publishedInboxAppId", "userId", "subscriptionUrl"})
    require(body, "publishedInboxAppId", "subscriptionUrl")
    if body.get("userId") is None:
        raise bad_request("userId is required (0 installs the app for the whole account)")
    published = as_int(body["publishedInboxAppId"], "publishedInboxAppId", minimum=1)
    user_id = as_int(body["userId"], "userId", minimum=0)
    if user_id and req.sandbox.db.get("users", user_id) is None:
        raise bad_request(f"Invalid userId: there is no user with id {user_id}")
    url = check_callback_url(body["subscriptionUrl"], "subscriptionUrl")
    await _send_test(req, url)  # before any write: a failed test stores nothing
    now = fmt_ts(req.sandbox.now())
    db = req.sandbox.db
    existing = db.select(
        "inboxapps",
        "json_extract(data, '$.publishedInboxAppId') = ? AND json_extract(data, '$.userId') = ?",
        (published, user_id),
    )
    if existing:  # a reinstall reactivates (and re-points) the same installation id
        app = existing[0]
        app.update(status="Active", subscriptionUrl=url, updated=now)
        db.update("inboxapps", app)
        return json_response(_install_out(app), 200)
    app = db.insert(
        "inboxapps",
        {
            "created": now,
            "updated": now,
            "publishedInboxAppId": published,
            "userId": user_id,
            "subscriptionUrl": url,
            "status": "Active",
            "system": req.system,
        },
    )
    return json_response(_install_out(app), 201)


async def installed_apps(req: Req) -> Response:
    if not req.registered:  # FUB answers 404 here without registered-system headers
        raise not_found()
    published = as_int(req.path_params["published"], "publishedInboxAppId")
    return paginate(
        req,
        "inboxapps",
        "installedApps",
        where=["json_extract(data, '$.publishedInboxAppId') = ?"],
        params=[published],
        serialize=_install_out,
    )


def _active_app(req: Req) -> dict[str, Any]:
    req.require_registered()
    app = req.sandbox.db.get("inboxapps", as_int(req.path_params["id"], "inboxAppId"))
    if app is None or app.get("status") != "Active":
        raise not_found()
    return app


async def deactivate_inbox_app(req: Req) -> Response:
    req.require_registered()
    app = req.sandbox.db.get("inboxapps", as_int(req.path_params["id"], "inboxAppId"))
    if app is None:
        raise not_found()
    app.update(status="Inactive", updated=fmt_ts(req.sandbox.now()))
    req.sandbox.db.update("inboxapps", app)
    return no_content()


def _contacts(*objects: Any) -> tuple[list[str], list[str]]:
    emails: list[str] = []
    phones: list[str] = []
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        for key in ("email", "emailAddress"):
            if isinstance(obj.get(key), str):
                emails.append(norm_email(obj[key]))
        for key in ("phone", "phoneNumber"):
            if isinstance(obj.get(key), (str, int)):
                phones.append(norm_phone(obj[key]))
        for item in obj.get("emails") or []:
            value = item.get("value") if isinstance(item, dict) else item
            if isinstance(value, str):
                emails.append(norm_email(value))
        for item in obj.get("phones") or []:
            value = item.get("value") if isinstance(item, dict) else item
            if isinstance(value, (str, int)):
                phones.append(norm_phone(value))
    return [e for e in emails if e], [p for p in phones if len(p) >= 7]


def _link_person(req: Req, body: Mapping[str, Any]) -> int | None:
    person = body.get("person")
    if isinstance(person, dict) and person.get("id") is not None:
        return int(person_exists(req, person["id"], "person.id")["id"])
    emails, phones = _contacts(person, body.get("sender") if body.get("isIncoming") else None)
    db = req.sandbox.db
    for kind, values in (("email", emails), ("phone", phones)):
        for value in values:
            ids = db.people_with_key(kind, value)
            if ids:
                return ids[0]
    return None


def _message_out(message: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if not k.startswith("_")}


def _upsert_conversation(
    req: Req, app: Mapping[str, Any], external_id: str, **changes: Any
) -> dict[str, Any]:
    db = req.sandbox.db
    now = fmt_ts(req.sandbox.now())
    found = db.select(
        "inboxconversations",
        "json_extract(data, '$.inboxAppId') = ? AND json_extract(data, '$.externalConversationId') = ?",
        (app["id"], external_id),
    )
    if found:
        conversation = found[0]
        conversation.update({k: v for k, v in changes.items() if v is not None or k not in ("personId",)})
        conversation["updated"] = now
        db.update("inboxconversations", conversation)
        return conversation
    return db.insert(
        "inboxconversations",
        {
            "created": now,
            "updated": now,
            "inboxAppId": app["id"],
            "externalConversationId": external_id,
            "subject": None,
            "status": "Open",
            "isRead": False,
            "archived": False,
            "personId": None,
            **changes,
        },
    )


async def post_message(req: Req) -> Response:
    app = _active_app(req)
    body = req.body()
    check_fields(body, MESSAGE_FIELDS)
    missing = [k for k in MESSAGE_REQUIRED if body.get(k) in (None, "")]
    if missing:
        raise bad_request(", ".join(missing) + (" is required" if len(missing) == 1 else " are required"))
    incoming = as_bool(body["isIncoming"], "isIncoming")
    sent = fmt_ts(parse_ts(body["sentAt"], "sentAt")) if body.get("sentAt") else fmt_ts(req.sandbox.now())
    db = req.sandbox.db
    duplicate = db.select(
        "inboxmessages",
        "json_extract(data, '$.inboxAppId') = ? AND json_extract(data, '$.externalMessageId') = ?",
        (app["id"], str(body["externalMessageId"])),
    )
    if duplicate:
        raise bad_request(
            f"A message with externalMessageId {body['externalMessageId']} already exists; "
            "use PUT to update it"
        )
    person_id = _link_person(req, body)
    now = fmt_ts(req.sandbox.now())
    with db.write():
        message = db.insert(
            "inboxmessages",
            {
                "created": now,
                "updated": now,
                "inboxAppId": app["id"],
                "externalConversationId": str(body["externalConversationId"]),
                "externalMessageId": str(body["externalMessageId"]),
                "message": body["message"],
                "isIncoming": incoming,
                "sender": body["sender"],
                "sentAt": sent,
                "subject": body.get("subject"),
                "isAutomation": bool(body.get("isAutomation", False)),
                "personId": person_id,
                "owner": body.get("owner"),
                "deliveryStatus": body.get("deliveryStatus"),
                "attachments": body.get("attachments") or [],
                "richObjects": body.get("richObjects") or [],
            },
        )
        _upsert_conversation(
            req,
            app,
            str(body["externalConversationId"]),
            personId=person_id,
            subject=body.get("subject"),
            lastMessageAt=sent,
        )
        if person_id:
            touch_activity(req, person_id, sent, communication=True)
    return json_response(_message_out(message), 201)


async def update_message(req: Req) -> Response:
    app = _active_app(req)
    body = req.body()
    check_fields(body, MESSAGE_FIELDS)
    require(body, "externalMessageId")
    db = req.sandbox.db
    found = db.select(
        "inboxmessages",
        "json_extract(data, '$.inboxAppId') = ? AND json_extract(data, '$.externalMessageId') = ?",
        (app["id"], str(body["externalMessageId"])),
    )
    if not found:
        raise not_found()
    message = found[0]
    for key in (
        "message",
        "subject",
        "deliveryStatus",
        "attachments",
        "richObjects",
        "owner",
        "isAutomation",
    ):
        if key in body:
            message[key] = body[key]
    message["updated"] = fmt_ts(req.sandbox.now())
    db.update("inboxmessages", message)
    return json_response(_message_out(message))


async def post_note(req: Req) -> Response:
    """Stores the note and, when the conversation (or `personId`) names a person, adds it to their notes."""
    app = _active_app(req)
    body = req.body()
    check_fields(body, NOTE_FIELDS)
    require(body, "externalConversationId", "body")
    db = req.sandbox.db
    conversation = _upsert_conversation(req, app, str(body["externalConversationId"]))
    person_id = (
        person_exists(req, body["personId"])["id"]
        if body.get("personId") is not None
        else conversation.get("personId")
    )
    now = fmt_ts(req.sandbox.now())
    note_id = None
    with db.write():
        if person_id:
            note = db.insert(
                "notes",
                {
                    "created": now,
                    "updated": now,
                    "createdBy": req.user["name"],
                    "updatedBy": req.user["name"],
                    "createdById": req.user_id,
                    "updatedById": req.user_id,
                    "personId": person_id,
                    "subject": body.get("subject"),
                    "body": body["body"],
                    "type": "Note",
                    "isHtml": as_bool(body.get("isHtml", False), "isHtml"),
                },
            )
            note_id = note["id"]
            touch_activity(req, person_id, now)
        stored = db.insert(
            "inboxnotes",
            {
                "created": now,
                "inboxAppId": app["id"],
                "externalConversationId": str(body["externalConversationId"]),
                "subject": body.get("subject"),
                "body": body["body"],
                "personId": person_id,
                "noteId": note_id,
            },
        )
    if note_id:
        req.sandbox.emit("notesCreated", [note_id])
    return json_response(stored, 201)


async def update_conversation(req: Req) -> Response:
    app = _active_app(req)
    body = req.body()
    check_fields(body, CONVERSATION_FIELDS)
    changes: dict[str, Any] = {
        k: body[k] for k in ("subject", "status", "participants", "owner") if k in body
    }
    for key in ("isRead", "archived"):
        if key in body:
            changes[key] = as_bool(body[key], key)
    if "person" in body:
        changes["personId"] = _link_person(req, {"person": body["person"]})
    conversation = _upsert_conversation(req, app, str(req.path_params["conversation"]), **changes)
    return json_response(conversation)


INTEGRATION_ROUTES = [
    ("/webhooks", "GET", list_webhooks),
    ("/webhooks", "POST", create_webhook),
    ("/webhooks/{id:int}", "GET", get_webhook),
    ("/webhooks/{id:int}", "PUT", update_webhook),
    ("/webhooks/{id:int}", "DELETE", delete_webhook),
    ("/inboxApps/install", "POST", install_inbox_app),
    ("/inboxApps/installedApps/{published}", "GET", installed_apps),
    ("/inboxApps/{id:int}", "DELETE", deactivate_inbox_app),
    ("/inboxApps/{id:int}/message", "POST", post_message),
    ("/inboxApps/{id:int}/message", "PUT", update_message),
    ("/inboxApps/{id:int}/note", "POST", post_note),
    ("/inboxApps/{id:int}/conversations/{conversation}", "PUT", update_conversation),
]
