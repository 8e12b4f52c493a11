"""Small shared pieces: FUB errors, timestamps, phone/email normalisation, request parsing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fub_mcp.sandbox.constants import ACCOUNT_TIMEZONE

__all__ = [
    "FUBError",
    "account_tz",
    "as_bool",
    "as_int",
    "check_fields",
    "fmt_ts",
    "norm_email",
    "norm_phone",
    "parse_date",
    "parse_ts",
    "require",
]

_NON_DIGITS = re.compile(r"\D")


class FUBError(Exception):
    """An answer FUB gives as `{"errorMessage": ...}` with an HTTP status."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


NOT_FOUND = "This resource does not exist, it may have been deleted or it may have never existed at all"
FORBIDDEN = "You do not have access to this resource"


def not_found() -> FUBError:
    return FUBError(404, NOT_FOUND)


def forbidden(message: str = FORBIDDEN) -> FUBError:
    return FUBError(403, message)


def bad_request(message: str) -> FUBError:
    return FUBError(400, message)


def account_tz() -> ZoneInfo:
    return ZoneInfo(ACCOUNT_TIMEZONE)


def fmt_ts(value: datetime) -> str:
    """FUB's timestamp format: ISO-8601 in UTC with a Z, to the second."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(value: Any, field: str = "date") -> datetime:
    """An ISO-8601 date/datetime (also "2016-11-23 01:02:03", "...Z", "... -05:00") as aware UTC.

    A naive datetime is UTC (FUB: "All dates are ISO-8601 in UTC"); a bare date is its UTC midnight.
    """
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"Invalid {field}: expected an ISO-8601 date")
    text = value.strip().replace(" -", "-").replace(" +", "+")
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(text), time())
        except ValueError:
            raise bad_request(f"Invalid {field}: '{value}' is not an ISO-8601 date") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(value: Any, field: str) -> str:
    """A YYYY-MM-DD date string (validated)."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise bad_request(f"Invalid {field}: expected a date as YYYY-MM-DD")


def local_day_bounds(day: date) -> tuple[str, str]:
    """[start, end) of a calendar day in the account's time zone, as FUB UTC timestamps."""
    tz = account_tz()
    start = datetime.combine(day, time(), tz)
    return fmt_ts(start), fmt_ts(start + timedelta(days=1))


def norm_email(value: Any) -> str:
    return str(value or "").strip().lower()


def norm_phone(value: Any) -> str:
    """Digits only, without a leading US country code: "(512) 555-0101" -> "5125550101"."""
    digits = _NON_DIGITS.sub("", str(value or ""))
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits


def as_bool(value: Any, field: str) -> bool:
    """A boolean from JSON (true/false/0/1) or a query string ("true", "false", "1", "0")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "false", "0"):
        return value.strip().lower() in ("true", "1")
    raise bad_request(f"Invalid {field}: expected true or false")


def as_int(value: Any, field: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool):
        raise bad_request(f"Invalid {field}: expected an integer")
    if isinstance(value, int):
        result = value
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        result = int(value)
    elif isinstance(value, float) and value.is_integer():
        result = int(value)
    else:
        raise bad_request(f"Invalid {field}: expected an integer")
    if minimum is not None and result < minimum:
        raise bad_request(f"Invalid {field}: must be at least {minimum}")
    return result


def as_number(value: Any, field: str) -> int | float:
    if isinstance(value, bool):
        raise bad_request(f"Invalid {field}: expected a number")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            number = float(value.replace(",", "").replace("$", ""))
        except ValueError:
            pass
        else:
            return int(number) if number.is_integer() else number
    raise bad_request(f"Invalid {field}: expected a number")


def csv_ints(value: str, field: str) -> list[int]:
    parts = [p.strip() for p in str(value).split(",") if p.strip()]
    return [as_int(p, field) for p in parts]


def csv(value: str) -> list[str]:
    return [p.strip() for p in str(value).split(",") if p.strip()]


def check_fields(body: Mapping[str, Any], allowed: Iterable[str], *, custom: Iterable[str] = ()) -> None:
    """FUB rejects unknown body keys: `400 Invalid fields in the request body: k1, k2`."""
    known = set(allowed) | set(custom)
    unknown = [key for key in body if key not in known]
    if unknown:
        raise bad_request("Invalid fields in the request body: " + ", ".join(unknown))


def require(body: Mapping[str, Any], *names: str) -> None:
    missing = [n for n in names if body.get(n) in (None, "")]
    if missing:
        raise bad_request(", ".join(missing) + (" is required" if len(missing) == 1 else " are required"))


def dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
