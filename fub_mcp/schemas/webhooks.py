"""Webhooks, received changes and Inbox Apps: lean projections."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from fub_mcp.schemas.common import ListResult, ToolResult, clean_text

__all__ = [
    "ChangeItem",
    "ChangesPage",
    "InboxApp",
    "InboxMessage",
    "Webhook",
    "WebhookDeleted",
    "WebhooksPage",
]


class Webhook(ToolResult):
    """A webhook registration: FUB POSTs `event` notifications to `url`."""

    id: int
    event: str | None = None
    url: str | None = None
    status: str | None = Field(None, description="Active or Disabled.")

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Webhook:
        return cls(
            id=record["id"], event=record.get("event"), url=record.get("url"), status=record.get("status")
        )

    def summary(self) -> str:
        return f"webhook {self.id}: {self.event} → {self.url} ({self.status})"


class WebhooksPage(ListResult[Webhook]):
    noun: ClassVar[str] = "webhooks"


class WebhookDeleted(ToolResult):
    id: int
    deleted: bool

    def summary(self) -> str:
        return f"webhook {self.id} deleted"


class ChangeItem(ToolResult):
    """One change FUB reported through a webhook or an Inbox App, as processed."""

    id: int
    event: str = Field(description="FUB's event name, e.g. peopleCreated, notesCreated.")
    resource: str = Field(description="What changed: people, notes, calls, deals, ... or inboxApp.")
    resource_id: int | None = None
    person_id: int | None = None
    facts: str = Field(description="Key facts (names, stage, type); never free text someone typed.")
    at: str = Field(description="When FUB says it happened (UTC).")

    def summary(self) -> str:
        return f"{self.event} {self.resource} {self.resource_id or ''}".strip()


class ChangesPage(ListResult[ChangeItem]):
    noun: ClassVar[str] = "changes"
    pending: int = Field(0, description="Deliveries received but not processed yet.")
    failed: int = Field(0, description="Deliveries given up on after hours of retries (kept with the error).")

    def summary(self) -> str:
        backlog = [f"{n} {what}" for n, what in ((self.pending, "pending"), (self.failed, "failed")) if n]
        return super().summary() + (f" ({', '.join(backlog)} deliveries)" if backlog else "")


class InboxApp(ToolResult):
    """An installed Inbox App (a messaging channel inside FUB's inbox)."""

    id: int
    published_inbox_app_id: int | None = None
    user_id: int | None = Field(None, description="0: installed for the whole account.")
    subscription_url: str | None = None
    status: str | None = None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> InboxApp:
        return cls(
            id=record["id"],
            published_inbox_app_id=record.get("publishedInboxAppId"),
            user_id=record.get("userId"),
            subscription_url=record.get("subscriptionUrl"),
            status=record.get("status"),
        )

    def summary(self) -> str:
        scope = "account-wide" if self.user_id == 0 else f"for user {self.user_id}"
        return f"inbox app {self.id} installed {scope} ({self.status})"


class InboxMessage(ToolResult):
    """A message stored in an Inbox App conversation."""

    id: int | None = None
    conversation: str | None = Field(None, description="Your externalConversationId.")
    person_id: int | None = None
    is_incoming: bool | None = None
    note: str | None = None

    @classmethod
    def from_record(cls, record: dict[str, Any], note: str | None = None) -> InboxMessage:
        return cls(
            id=record.get("id"),
            conversation=clean_text(record.get("externalConversationId"), limit=200),
            person_id=record.get("personId"),
            is_incoming=record.get("isIncoming"),
            note=note,
        )

    def summary(self) -> str:
        who = f" (person {self.person_id})" if self.person_id else ""
        note = f"; {self.note}" if self.note else ""
        return f"message {self.id} in conversation {self.conversation}{who}{note}"
