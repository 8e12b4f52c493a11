"""Settings for fub-mcp, read from the environment and an optional `.env` file.

One `Settings` class, one spelling per variable. FUB's own credentials keep FUB's names
(`FUB_API_KEY`, `FUB_BASE_URL`, `FUB_SYSTEM`, `FUB_SYSTEM_KEY`); everything that tunes fub-mcp
itself is `FUB_MCP_*`. Secrets are `SecretStr`, so they never show up in a repr or a log line.

`load_settings()` turns a missing or malformed variable into one readable `ConfigError` line
naming the variable, instead of a pydantic traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from fub_mcp.fub.errors import ConfigError

__all__ = ["DEFAULT_BASE_URL", "Settings", "load_settings"]

DEFAULT_BASE_URL = "https://api.followupboss.com/v1"

CommaList = Annotated[list[str], NoDecode]


def _env(name: str) -> Any:
    """Bind a field to exactly one environment variable name."""
    return AliasChoices(name)


class Settings(BaseSettings):
    """Everything fub-mcp can be told. Field docs double as the README configuration table."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        case_sensitive=False,
    )

    # --- FUB credentials -------------------------------------------------------------------
    api_key: SecretStr | None = Field(
        None, validation_alias=_env("FUB_API_KEY"), description="Your FUB API key (Admin → API). Secret."
    )
    base_url: str = Field(
        DEFAULT_BASE_URL, validation_alias=_env("FUB_BASE_URL"), description="FUB API base URL."
    )
    system: str | None = Field(
        None,
        validation_alias=_env("FUB_SYSTEM"),
        description="Registered system name, sent as X-System (raises rate limits; needed for webhooks, texts).",
    )
    system_key: SecretStr | None = Field(
        None,
        validation_alias=_env("FUB_SYSTEM_KEY"),
        description="Registered system key, sent as X-System-Key; also the webhook signing key. Secret.",
    )

    # --- the client ------------------------------------------------------------------------
    timeout: float = Field(
        30.0, gt=0, le=600, validation_alias=_env("FUB_MCP_TIMEOUT"), description="Per-request timeout (s)."
    )
    connect_timeout: float = Field(
        10.0, gt=0, le=120, validation_alias=_env("FUB_MCP_CONNECT_TIMEOUT"), description="Connect timeout (s)."
    )
    max_retries: int = Field(
        5, ge=0, le=20, validation_alias=_env("FUB_MCP_MAX_RETRIES"), description="Retries per request."
    )
    max_backoff: float = Field(
        32.0, gt=0, le=600, validation_alias=_env("FUB_MCP_MAX_BACKOFF"), description="Backoff ceiling (s)."
    )
    call_deadline: float = Field(
        50.0,
        gt=0,
        le=3600,
        validation_alias=_env("FUB_MCP_CALL_DEADLINE"),
        description="Longest one request may take, waits and retries included (s).",
    )
    max_concurrency: int = Field(
        16, ge=1, le=256, validation_alias=_env("FUB_MCP_MAX_CONCURRENCY"), description="Requests in flight."
    )
    rate_limit_global: int | None = Field(
        None,
        ge=1,
        validation_alias=_env("FUB_MCP_RATE_LIMIT_GLOBAL"),
        description="Requests per window for FUB's `global` context (default 125, or 250 with a system key).",
    )
    rate_limit_events: int | None = Field(
        None,
        ge=1,
        validation_alias=_env("FUB_MCP_RATE_LIMIT_EVENTS"),
        description="Requests per window for `GET /events` (default 10, or 20 with a system key).",
    )
    rate_window: float = Field(
        10.0, gt=0, le=3600, validation_alias=_env("FUB_MCP_RATE_WINDOW"), description="Rate window (s)."
    )
    audit_log: str | None = Field(
        None,
        validation_alias=_env("FUB_MCP_AUDIT_LOG"),
        description="Audit trail of every FUB call: `stderr` or a file path (off when unset).",
    )

    # --- the tool surface -------------------------------------------------------------------
    toolsets: CommaList = Field(
        default_factory=lambda: ["default"],
        validation_alias=_env("FUB_MCP_TOOLSETS"),
        description="Toolsets to enable: ids, `default` or `all` (comma-separated).",
    )
    tools: CommaList = Field(
        default_factory=list, validation_alias=_env("FUB_MCP_TOOLS"), description="Extra tools to enable by name."
    )
    exclude_tools: CommaList = Field(
        default_factory=list,
        validation_alias=_env("FUB_MCP_EXCLUDE_TOOLS"),
        description="Tools to leave out by name.",
    )
    read_only: bool = Field(
        False, validation_alias=_env("FUB_MCP_READ_ONLY"), description="Only read-only tools (wins over all)."
    )
    allow_delete: bool = Field(
        False, validation_alias=_env("FUB_MCP_ALLOW_DELETE"), description="Register delete tools (need confirm)."
    )
    text_content: Literal["summary", "json"] = Field(
        "summary",
        validation_alias=_env("FUB_MCP_TEXT_CONTENT"),
        description="Tool text content: a short `summary` (data in structuredContent) or the full `json`.",
    )

    # --- HTTP serving and webhooks ----------------------------------------------------------
    auth_tokens: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        validation_alias=_env("FUB_MCP_AUTH_TOKENS"),
        description="Bearer tokens accepted over HTTP (comma-separated). Required off loopback.",
    )
    allowed_hosts: CommaList = Field(
        default_factory=list,
        validation_alias=_env("FUB_MCP_ALLOWED_HOSTS"),
        description="Extra Host values accepted over HTTP (DNS-rebinding protection).",
    )
    allowed_origins: CommaList = Field(
        default_factory=list,
        validation_alias=_env("FUB_MCP_ALLOWED_ORIGINS"),
        description="Extra Origin values accepted over HTTP.",
    )
    json_response: bool = Field(
        False,
        validation_alias=_env("FUB_MCP_JSON_RESPONSE"),
        description="Answer /mcp POSTs with plain JSON instead of SSE (faster; no progress during a call).",
    )
    public_url: str | None = Field(
        None,
        validation_alias=_env("FUB_MCP_PUBLIC_URL"),
        description="Public https URL of this server (webhook callbacks default to it + /webhooks/fub).",
    )
    data_dir: Path | None = Field(
        None,
        validation_alias=_env("FUB_MCP_DATA_DIR"),
        description="Where fub-mcp keeps its files (sandbox and webhook queue); default: user data dir.",
    )

    @field_validator("toolsets", "tools", "exclude_tools", "allowed_hosts", "allowed_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("auth_tokens", mode="before")
    @classmethod
    def _split_tokens(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL, e.g. https://api.followupboss.com/v1")
        return value

    @property
    def registered_system(self) -> bool:
        """True when both X-System headers will be sent."""
        return bool(self.system and self.system_key and self.system_key.get_secret_value())


_FIELD_ENV = {name: field.validation_alias for name, field in Settings.model_fields.items()}


def _env_name(field_name: str) -> str:
    alias = _FIELD_ENV.get(field_name)
    if isinstance(alias, AliasChoices) and alias.choices:
        return str(alias.choices[0])
    return field_name.upper()


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; a bad value raises `ConfigError` with one line that names the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = err["loc"][0] if err["loc"] else "?"
            name = _env_name(str(loc)) if str(loc) in _FIELD_ENV else str(loc)
            problems.append(f"{name}: {err['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None
