"""`ClientPool`: one `FUBClient` (one pooled `httpx.AsyncClient`, one rate budget) per API key.

A single-tenant server uses one key (`FUB_API_KEY`); a hosted server sees a key per user. Clients are
keyed by a SHA-256 of the key, never the key itself, and built on first use from the shared
`Settings` plus any overrides (a shared `rate_store`, the `audit` log, a test `transport`, ...).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from fub_mcp.fub.client import FUBClient
from fub_mcp.fub.errors import ConfigError

if TYPE_CHECKING:
    from fub_mcp.config import Settings

__all__ = ["ClientPool"]


def _key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


class ClientPool:
    """Hands out the one client for each API key; `aclose()` closes them all."""

    def __init__(self, settings: Settings, **client_overrides: Any) -> None:
        self._settings = settings
        self._overrides = client_overrides
        self._clients: dict[str, FUBClient] = {}

    def get(self, api_key: str | None = None) -> FUBClient:
        """The client for `api_key` (None: the configured `FUB_API_KEY`), built on first use."""
        if api_key is None and self._settings.api_key is not None:
            api_key = self._settings.api_key.get_secret_value()
        if not api_key:
            raise ConfigError("FUB_API_KEY is not set: export your FUB API key (Admin → API in FUB)")
        digest = _key_hash(api_key)
        client = self._clients.get(digest)
        if client is None:
            client = FUBClient.from_settings(self._settings, **{**self._overrides, "api_key": api_key})
            self._clients[digest] = client
        return client

    def __len__(self) -> int:
        return len(self._clients)

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    async def __aenter__(self) -> ClientPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"ClientPool(clients={len(self._clients)})"
