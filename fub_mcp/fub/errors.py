"""The one error family of fub-mcp.

```
FUBError
├── ConfigError                 a setting is missing or malformed
├── WebhookSignatureError       a webhook delivery failed its FUB-Signature check
├── InvalidInputError           the caller's input can't be used (unknown name: lists the choices)
└── APIError                    anything that went wrong talking to FUB
    ├── APIConnectionError      no usable answer (DNS, refused, reset, ...)
    │   └── APITimeoutError     FUB did not answer in time
    ├── DeadlineExceededError   waiting longer would outlive the caller's deadline (retry_after)
    └── APIStatusError          FUB answered with an error status
        ├── BadRequestError         400  FUB's errorMessage, verbatim
        ├── AuthenticationError     401  key missing or invalid
        ├── PermissionDeniedError   403  no access / expired account / registered system required
        ├── NotFoundError           404  "person 123 not found"
        ├── RateLimitError          429  carries retry_after (seconds)
        └── ServerError             5xx  FUB unavailable after retries
```

Messages are written for the model that called the tool: what happened and what to do next.
No message, repr or attribute ever carries the API key or the system key: errors hold the method
and the path (never the query string, which can carry personal data) and FUB's own `errorMessage`.
"""

from __future__ import annotations

import math

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "DeadlineExceededError",
    "FUBError",
    "InvalidCursorError",
    "InvalidInputError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "WebhookSignatureError",
    "APITimeoutError",
    "describe_resource",
    "make_status_error",
]


class FUBError(Exception):
    """Base class of every error fub-mcp raises on purpose."""


class ConfigError(FUBError):
    """A setting is missing or malformed; the message names the variable."""


class WebhookSignatureError(FUBError):
    """A webhook delivery's FUB-Signature header is missing or wrong."""


class InvalidInputError(FUBError):
    """The caller's input can't be used as given, e.g. a stage name that does not exist.

    The message says what was wrong and, for names, lists the valid choices.
    """


class InvalidCursorError(InvalidInputError, ValueError):
    """A `cursor` argument that no page of ours produced (or that was altered on the way)."""

    def __init__(self) -> None:
        super().__init__("invalid cursor: pass next_cursor exactly as a previous page returned it, or omit it")


class APIError(FUBError):
    """A call to FUB failed. `method` and `path` say which one (no query string, no secrets)."""

    def __init__(self, message: str, *, method: str = "", path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, method={self.method!r}, path={self.path!r})"


class APIConnectionError(APIError):
    """FUB could not be reached, or the connection broke before an answer."""


class APITimeoutError(APIConnectionError):
    """FUB did not answer within the timeout."""


class DeadlineExceededError(APIError):
    """The next wait (backoff, Retry-After or rate budget) would cross the call's deadline."""

    def __init__(self, message: str, *, retry_after: float, method: str = "", path: str = "") -> None:
        super().__init__(message, method=method, path=path)
        self.retry_after = retry_after


class APIStatusError(APIError):
    """FUB answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str = "",
        path: str = "",
        error_message: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.status_code = status_code
        self.error_message = error_message


class BadRequestError(APIStatusError):
    """400: FUB rejected the request; its errorMessage says why."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or invalid."""


class PermissionDeniedError(APIStatusError):
    """403: the key's user may not do this, the account is locked, or a registered system is required."""


class NotFoundError(APIStatusError):
    """404: the resource does not exist or this key cannot see it."""


class RateLimitError(APIStatusError):
    """429: FUB's rate limit held past the retry budget. `retry_after` is in seconds."""

    def __init__(self, message: str, *, retry_after: float | None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: FUB is failing; retries did not help."""


# Collection path segment -> the noun a model understands ("person 123 not found").
_NOUNS = {
    "people": "person",
    "events": "event",
    "notes": "note",
    "tasks": "task",
    "calls": "call",
    "textMessages": "text message",
    "appointments": "appointment",
    "appointmentTypes": "appointment type",
    "appointmentOutcomes": "appointment outcome",
    "deals": "deal",
    "pipelines": "pipeline",
    "stages": "stage",
    "users": "user",
    "customFields": "custom field",
    "dealCustomFields": "deal custom field",
    "smartLists": "smart list",
    "actionPlans": "action plan",
    "actionPlansPeople": "action plan assignment",
    "webhooks": "webhook",
    "webhookEvents": "webhook event",
    "inboxApps": "inbox app",
    "groups": "group",
    "teams": "team",
    "ponds": "pond",
    "templates": "email template",
    "textMessageTemplates": "text template",
    "peopleRelationships": "relationship",
}

# Endpoints FUB documents as "Restricted – Registered Systems Only".
_REGISTERED_ONLY = (
    "webhooks",
    "webhookEvents",
    "textMessages",
    "personAttachments",
    "dealAttachments",
    "automations",
    "automationsPeople",
    "rateLimit",
    "inboxApps",
)


def describe_resource(path: str) -> str:
    """`/people/123` -> `person 123`; `/people` -> `people`; unknown paths are returned as they are."""
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    if parts and parts[0] == "v1":
        parts = parts[1:]
    if not parts:
        return "resource"
    noun = _NOUNS.get(parts[0])
    if noun is None:
        return parts[0]
    if len(parts) >= 2 and parts[1].isdigit():
        return f"{noun} {parts[1]}"
    return parts[0] if len(parts) == 1 else f"{noun} {'/'.join(parts[1:])}"


def _format_seconds(seconds: float) -> str:
    return f"{max(1, math.ceil(seconds))} s"


def make_status_error(
    status_code: int,
    *,
    method: str,
    path: str,
    error_message: str | None,
    retry_after: float | None = None,
) -> APIStatusError:
    """Pick the error class for a FUB status and write a message a model can act on."""
    what = describe_resource(path)
    fub_says = f" FUB says: {error_message}" if error_message else ""
    kwargs = {"status_code": status_code, "method": method, "path": path, "error_message": error_message}
    if status_code == 400:
        return BadRequestError(f"FUB rejected {method} {what}: {error_message or 'bad request'}", **kwargs)
    if status_code == 401:
        return AuthenticationError(
            "FUB refused the API key: it is missing or invalid. Check FUB_API_KEY (Admin → API in FUB).",
            **kwargs,
        )
    if status_code == 403:
        top = path.strip("/").split("/")
        segment = top[1] if top and top[0] == "v1" and len(top) > 1 else (top[0] if top else "")
        if segment in _REGISTERED_ONLY or "system" in (error_message or "").lower():
            message = (
                f"FUB refused {method} {what}: this endpoint needs a registered system "
                "(set FUB_SYSTEM and FUB_SYSTEM_KEY) and, for webhooks, the account owner's key."
            )
        else:
            message = (
                f"FUB refused {method} {what}: this key's user has no access to it, or the account is "
                "expired/locked (expired accounts can still send leads with log_event, but nothing else)."
            )
        return PermissionDeniedError(message + fub_says, **kwargs)
    if status_code == 404:
        return NotFoundError(f"{what} not found (or not visible to this API key's user).", **kwargs)
    if status_code == 429:
        when = f"retry after {_format_seconds(retry_after)}" if retry_after is not None else "retry shortly"
        return RateLimitError(f"FUB's rate limit is exhausted: {when}.", retry_after=retry_after, **kwargs)
    if status_code >= 500:
        return ServerError(
            f"FUB is unavailable ({status_code} on {method} {what}) after retries; try again in a minute.",
            **kwargs,
        )
    return APIStatusError(f"FUB answered {status_code} to {method} {what}.{fub_says}", **kwargs)
