"""The audit trail: one compact JSON line per FUB call attempt (and per audited tool event).

FUB's API keeps no request log of its own, so this is the only record of what fub-mcp did with a
key. Each HTTP attempt, retries included, becomes one line:

    {"time":"2026-01-02T03:04:05.678Z","kind":"http","call":"5f0c...","method":"GET","path":"/people",
     "query":{"email":"***","limit":"10"},"status":200,"attempt":1,"latency_ms":84,
     "rate_context":"global","rate_remaining":123}

Bodies are never logged. Query values that can carry personal data or secrets are replaced by
"***" (see `redact_query`). The API key and the system key are never passed to this module.
The log is off by default; it never writes to stdout, which is the MCP channel in stdio mode.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from fub_mcp.fub.errors import ConfigError

__all__ = ["REDACTED", "AuditLog", "redact_query"]

REDACTED = "***"

# Query keys whose values are personal data (compared case-insensitively, exactly).
_PERSONAL_KEYS = frozenset(
    {"name", "firstname", "lastname", "fullname", "q", "query", "search", "term", "keyword", "street", "city"}
)
# Any key containing one of these is redacted too: secrets, and personal data under other names
# (`emailAddress`, `phoneNumber`, `propertyAddress`, `toNumber`, `apiKey`, `X-System-Key`, ...).
_SENSITIVE_PARTS = re.compile(
    r"key|token|secret|password|passwd|auth|credential|signature|email|phone|address|number", re.IGNORECASE
)

_log = logging.getLogger("fub_mcp.fub.audit")


def redact_query(query: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of `query` with personal and secret values replaced by "***"."""
    if not query:
        return {}
    return {
        str(k): REDACTED if (str(k).lower() in _PERSONAL_KEYS or _SENSITIVE_PARTS.search(str(k))) else v
        for k, v in query.items()
    }


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AuditLog:
    """Writes audit lines to a stream (never stdout) or appends them to a file."""

    def __init__(self, stream: TextIO | None = None, path: str | os.PathLike[str] | None = None) -> None:
        if stream is not None and path is not None:
            raise ValueError("give a stream or a path, not both")
        if stream is None and path is None:
            raise ValueError("give a stream or a path")
        if stream is not None and stream in (sys.stdout, sys.__stdout__):
            raise ConfigError("FUB_MCP_AUDIT_LOG: stdout is the MCP channel; use `stderr` or a file path")
        self._stream = stream
        self._path = Path(path).expanduser() if path is not None else None
        self._file: TextIO | None = None
        self._lock = threading.Lock()
        self._failed = False

    @classmethod
    def from_setting(cls, value: str | None) -> AuditLog | None:
        """`None`/empty -> off; `stderr` -> standard error; anything else -> a file path (appended to)."""
        if value is None or not value.strip():
            return None
        value = value.strip()
        if value.lower() == "stderr":
            return cls(stream=_StderrProxy())  # type: ignore[arg-type]
        if value.lower() in {"stdout", "-", "/dev/stdout"}:
            raise ConfigError("FUB_MCP_AUDIT_LOG: stdout is the MCP channel; use `stderr` or a file path")
        return cls(path=value)

    @property
    def path(self) -> Path | None:
        return self._path

    def record(self, **fields: Any) -> None:
        """Write one compact JSON line: {"time": <ISO UTC>, **fields}. Never raises on I/O errors."""
        line = json.dumps({"time": _now_iso(), **fields}, separators=(",", ":"), default=str, ensure_ascii=False)
        with self._lock:
            try:
                stream = self._open()
                stream.write(line + "\n")
                stream.flush()
            except OSError as exc:
                if not self._failed:  # say it once, then keep the calls working
                    self._failed = True
                    _log.warning("audit log write failed (%s); later failures are not reported", type(exc).__name__)

    def _open(self) -> TextIO:
        if self._stream is not None:
            return self._stream
        if self._file is None:
            assert self._path is not None
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self._path.open("a", encoding="utf-8")
        return self._file

    def close(self) -> None:
        """Close the file (a stream is left to its owner)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __repr__(self) -> str:
        target = str(self._path) if self._path is not None else getattr(self._stream, "name", "stream")
        return f"AuditLog({target!r})"


class _StderrProxy:
    """Writes to whatever `sys.stderr` is at write time (so redirection and test capture work)."""

    name = "<stderr>"

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()
