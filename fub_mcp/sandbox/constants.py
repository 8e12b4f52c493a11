"""Sandbox identities and rate-limit settings (re-exported by `fub_mcp.sandbox`)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ACCOUNT_ID",
    "ACCOUNT_TIMEZONE",
    "AGENT_USER_ID",
    "OWNER_USER_ID",
    "SANDBOX_AGENT_API_KEY",
    "SANDBOX_API_KEY",
    "SANDBOX_SYSTEM",
    "SANDBOX_SYSTEM_KEY",
    "RateLimits",
]

SANDBOX_API_KEY = "sandbox-owner-key"  # Olivia Owner (Broker, account owner)
SANDBOX_AGENT_API_KEY = "sandbox-agent-key"  # an agent: sees only the people assigned to them
SANDBOX_SYSTEM = "fub-mcp-sandbox"  # the one registered system (X-System)
SANDBOX_SYSTEM_KEY = "sandbox-system-key"  # its X-System-Key; also the webhook signing key

OWNER_USER_ID = 1
AGENT_USER_ID = 2
ACCOUNT_ID = 424242
ACCOUNT_TIMEZONE = "America/Chicago"


@dataclass
class RateLimits:
    """FUB's sliding-window budgets (requests per `window_seconds`), per API key and context.

    `global` counts every request except `/events`; `events` counts `GET /events[/...]`;
    `POST.events` is unlimited. "registered" = the request carried the valid X-System + X-System-Key.
    """

    global_limit: int = 125
    global_limit_registered: int = 250
    events_get: int = 10
    events_get_registered: int = 20
    window_seconds: float = 10.0

    def limit_for(self, context: str, registered: bool) -> int | None:
        if context == "POST.events":
            return None
        if context == "events":
            return self.events_get_registered if registered else self.events_get
        return self.global_limit_registered if registered else self.global_limit
