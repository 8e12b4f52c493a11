"""FUB's webhook signature: `FUB-Signature` = hex HMAC-SHA256 of base64(raw body), keyed with the system key.

(fub-api.md §6.4: agreed by several independent integrations; FUB's own wording was not retrieved.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = ["HEADER", "sign", "verify"]

HEADER = "FUB-Signature"


def sign(system_key: str, raw_body: bytes) -> str:
    """The signature FUB sends for `raw_body`."""
    return hmac.new(system_key.encode(), base64.b64encode(raw_body), hashlib.sha256).hexdigest()


def verify(system_key: str, raw_body: bytes, header: str | None) -> bool:
    """True when `header` is the signature of `raw_body` (constant-time; a `sha256=` prefix is tolerated)."""
    if not header or not system_key:
        return False
    given = header.strip().removeprefix("sha256=").lower()
    return hmac.compare_digest(sign(system_key, raw_body), given)
