"""Settings: one variable, one spelling; a bad value is one readable line naming the variable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fub_mcp.config import DEFAULT_BASE_URL, Settings, load_settings
from fub_mcp.fub import ConfigError


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith("FUB_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no developer .env file


def test_the_defaults_match_fubs_and_the_clients() -> None:
    settings = load_settings()
    assert settings.api_key is None
    assert settings.base_url == DEFAULT_BASE_URL
    assert (settings.timeout, settings.connect_timeout, settings.max_retries) == (30.0, 10.0, 5)
    assert (settings.max_backoff, settings.call_deadline, settings.max_concurrency) == (32.0, 50.0, 16)
    assert (settings.rate_limit_global, settings.rate_limit_events, settings.rate_window) == (None, None, 10.0)
    assert settings.audit_log is None
    assert settings.registered_system is False


def test_the_environment_sets_the_client_knobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUB_API_KEY", "k-123")
    monkeypatch.setenv("FUB_SYSTEM", "MySystem")
    monkeypatch.setenv("FUB_SYSTEM_KEY", "s-456")
    monkeypatch.setenv("FUB_BASE_URL", "http://sandbox/v1/")
    monkeypatch.setenv("FUB_MCP_MAX_RETRIES", "2")
    monkeypatch.setenv("FUB_MCP_RATE_LIMIT_GLOBAL", "60")
    monkeypatch.setenv("FUB_MCP_TOOLSETS", "people, notes")
    settings = load_settings()
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "k-123"
    assert settings.base_url == "http://sandbox/v1"
    assert settings.max_retries == 2
    assert settings.rate_limit_global == 60
    assert settings.toolsets == ["people", "notes"]
    assert settings.registered_system is True


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FUB_MCP_TIMEOUT", "soon"),
        ("FUB_MCP_MAX_RETRIES", "-1"),
        ("FUB_MCP_MAX_CONCURRENCY", "0"),
        ("FUB_MCP_RATE_LIMIT_GLOBAL", "lots"),
        ("FUB_BASE_URL", "api.followupboss.com"),
        ("FUB_MCP_TEXT_CONTENT", "xml"),
    ],
)
def test_a_malformed_variable_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert variable in message
    assert "\n" not in message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_secrets_never_show_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUB_API_KEY", "k-very-secret")
    monkeypatch.setenv("FUB_SYSTEM_KEY", "s-very-secret")
    monkeypatch.setenv("FUB_MCP_AUTH_TOKENS", "t-very-secret,t2-very-secret")
    settings = load_settings()
    for text in (repr(settings), str(settings), str(settings.model_dump())):
        assert "very-secret" not in text
    assert [t.get_secret_value() for t in settings.auth_tokens] == ["t-very-secret", "t2-very-secret"]


def test_a_settings_object_can_be_built_directly_by_field_name() -> None:
    settings = Settings(_env_file=None, api_key="k", system="S", system_key="")  # type: ignore[call-arg]
    assert settings.registered_system is False
