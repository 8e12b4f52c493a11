"""The audit trail: one JSON line per attempt, redacted, never a key, never on stdout."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from fub_mcp.fub import AuditLog, ConfigError, FUBError
from fub_mcp.fub.audit import redact_query
from tests.fub.fakes import API_KEY, SYSTEM, SYSTEM_KEY, VirtualClock, make_client

anyio_mark = pytest.mark.anyio

AUTH_B64 = "ZnVia2V5X2xpdmVfOWY4ZTdkNmM1YjRhOg=="  # base64(API_KEY + ":")


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@anyio_mark
async def test_every_attempt_is_one_json_line_with_the_documented_fields(clock: VirtualClock, router: Any) -> None:
    headers = {"X-RateLimit-Context": "global", "X-RateLimit-Remaining": "120", "X-RateLimit-Limit": "125",
               "X-RateLimit-Window": "10"}
    router.get("/people").mock(side_effect=[httpx.Response(503), httpx.Response(200, headers=headers, json={})])
    stream = io.StringIO()
    client = make_client(router, clock, audit=AuditLog(stream=stream), random_values=[0.0])
    async with clock.running(), client:
        await client.get("/people", {"limit": 5, "sort": "-created"})

    first, second = _lines(stream)
    assert set(second) == {"time", "kind", "call", "method", "path", "query", "status", "attempt", "latency_ms",
                           "rate_context", "rate_remaining"}
    assert second["time"].endswith("Z")
    assert (first["status"], first["attempt"]) == (503, 1)
    assert (second["status"], second["attempt"], second["rate_remaining"]) == (200, 2, 120)
    assert first["call"] == second["call"]
    assert second["query"] == {"limit": "5", "sort": "-created"}
    assert (second["method"], second["path"], second["rate_context"]) == ("GET", "/people", "global")
    assert stream.getvalue().count("\n") == 2


@anyio_mark
async def test_transport_errors_are_audited_by_exception_name(clock: VirtualClock, router: Any) -> None:
    router.get("/me").mock(side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json={})])
    stream = io.StringIO()
    client = make_client(router, clock, audit=AuditLog(stream=stream))
    async with clock.running(), client:
        await client.get("/me")

    assert [line["status"] for line in _lines(stream)] == ["ConnectError", 200]


def test_personal_data_and_secrets_in_queries_are_redacted() -> None:
    query = {"email": "jane@example.com", "phone": "555-1234", "name": "Jane", "firstName": "Jane",
             "lastName": "Doe", "q": "jane", "query": "doe", "apiKey": "k", "token": "t", "password": "p",
             "emailAddress": "a@b.c", "limit": "10", "sort": "-created", "tags": "Buyer"}
    redacted = redact_query(query)
    assert {k for k, v in redacted.items() if v != "***"} == {"limit", "sort", "tags"}


@anyio_mark
async def test_no_key_or_personal_data_reaches_any_log_line_or_error(
    clock: VirtualClock, router: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    router.get("/people/checkDuplicate").respond(200, json={"found": False})
    router.get("/people").respond(400, json={"errorMessage": "bad"})
    router.get("/people/1").respond(401)
    router.get("/people/2").respond(403)
    router.get("/people/3").respond(404)
    router.get("/people/4").respond(429, headers={"Retry-After": "100"})
    router.get("/people/5").respond(500)
    router.get("/people/6").mock(side_effect=httpx.ConnectError("refused"))
    router.post("/notes").respond(502)
    router.get("/users").respond(200, content=b"not json")
    stream = io.StringIO()
    client = make_client(router, clock, audit=AuditLog.from_setting("stderr"), system=SYSTEM, system_key=SYSTEM_KEY,
                         max_retries=1, call_deadline=20.0)
    file_client = make_client(router, clock, audit=AuditLog(stream=stream), system=SYSTEM, system_key=SYSTEM_KEY)
    errors: list[BaseException] = []
    caplog.set_level(logging.DEBUG, logger="fub_mcp")
    async with clock.running(), client, file_client:
        await client.get("/people/checkDuplicate", {"email": "jane@example.com", "phone": "555-0100"})
        await file_client.get("/people/checkDuplicate", {"email": "jane@example.com", "phone": "555-0100"})
        try:
            await client.post("/notes", {"personId": 1, "body": "secret body text"})
        except FUBError as exc:
            errors.append(exc)
        # The 429 (Retry-After past the deadline) comes last: it holds back the calls after it.
        for path in ["/people", "/people/1", "/people/2", "/people/3", "/people/5", "/people/6", "/users", "/people/4",
                     "/people/3"]:
            try:
                await client.get(path, {"email": "jane@example.com", "firstName": "Jane"})
            except FUBError as exc:
                errors.append(exc)

    captured = capsys.readouterr()
    assert captured.out == ""  # stdout is the MCP channel
    audit_lines = captured.err.splitlines() + stream.getvalue().splitlines()
    assert len(audit_lines) >= 12
    texts = audit_lines + [r.getMessage() for r in caplog.records]
    texts += [str(e) for e in errors] + [repr(e) for e in errors] + [repr(client), repr(client.audit)]
    assert len(errors) == 10
    for text in texts:
        for secret in (API_KEY, SYSTEM_KEY, AUTH_B64, "jane@example.com", "555-0100", "Jane", "secret body text"):
            assert secret not in text, (secret, text)
    assert any('"email":"***"' in line for line in audit_lines)


def test_the_audit_log_is_off_by_default_and_never_on_stdout(tmp_path: Path) -> None:
    assert AuditLog.from_setting(None) is None
    assert AuditLog.from_setting("  ") is None
    for value in ("stdout", "-"):
        with pytest.raises(ConfigError) as caught:
            AuditLog.from_setting(value)
        assert "FUB_MCP_AUDIT_LOG" in str(caught.value)


def test_a_file_audit_log_appends_lines(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "audit.jsonl"
    for n in (1, 2):
        log = AuditLog.from_setting(str(path))
        assert log is not None
        log.record(kind="fair_housing", n=n)
        log.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(line["kind"], line["n"]) for line in lines] == [("fair_housing", 1), ("fair_housing", 2)]


def test_a_failing_audit_file_does_not_break_calls(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    log = AuditLog(path=blocker / "audit.jsonl")
    log.record(kind="http")
    log.record(kind="http")
    assert [r.levelname for r in caplog.records] == ["WARNING"]
