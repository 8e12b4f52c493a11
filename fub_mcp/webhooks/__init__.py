"""Real-time: FUB webhooks and Inbox App events, received, verified, queued durably and processed.

    FUB ──POST /webhooks/fub──► verify FUB-Signature ──► SQLite queue (committed) ──► 200
                                                          │
                    worker ◄──────────────────────────────┘
                      │ GET the changed resources through the shared, rate-limited client
                      ▼
                change records ──► recent_changes, fub://changes/... ──► subscribed MCP sessions

`http_integration(context)` gives the HTTP app its routes and the worker's lifespan.
"""

from fub_mcp.webhooks.receiver import (
    INBOX_PATH,
    WEBHOOK_PATH,
    WebhookService,
    http_integration,
    webhook_service,
)
from fub_mcp.webhooks.signature import sign, verify
from fub_mcp.webhooks.store import Change, ChangeQueue, Claimed, Inbound, SQLiteChangeQueue
from fub_mcp.webhooks.worker import ChangeNotifier, WebhookWorker

__all__ = [
    "INBOX_PATH",
    "WEBHOOK_PATH",
    "Change",
    "ChangeNotifier",
    "ChangeQueue",
    "Claimed",
    "Inbound",
    "SQLiteChangeQueue",
    "WebhookService",
    "WebhookWorker",
    "http_integration",
    "sign",
    "verify",
    "webhook_service",
]
