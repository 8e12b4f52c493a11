"""The one Follow Up Boss client: auth, errors, retries, rate limiting, pagination, audit log.

Nothing outside this package speaks HTTP to FUB. It never imports `mcp`.
"""

from fub_mcp.fub.audit import AuditLog
from fub_mcp.fub.auth import FUBAuth
from fub_mcp.fub.client import ClientStats, FUBClient, FUBResponse
from fub_mcp.fub.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    DeadlineExceededError,
    FUBError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    WebhookSignatureError,
    describe_resource,
    make_status_error,
)
from fub_mcp.fub.pagination import Page, decode_cursor, encode_cursor
from fub_mcp.fub.pool import ClientPool
from fub_mcp.fub.ratelimit import InMemoryRateStore, RateLimiter, RateStore

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuditLog",
    "AuthenticationError",
    "BadRequestError",
    "ClientPool",
    "ClientStats",
    "ConfigError",
    "DeadlineExceededError",
    "FUBAuth",
    "FUBClient",
    "FUBError",
    "FUBResponse",
    "InMemoryRateStore",
    "InvalidInputError",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimiter",
    "RateStore",
    "ServerError",
    "WebhookSignatureError",
    "decode_cursor",
    "describe_resource",
    "encode_cursor",
    "make_status_error",
]
