"""Relay configuration: environment variables and flags, validated once at start.

Everything the relay does is driven by :class:`RelaySettings`; a wrong value stops the start with a
sentence that names the variable (see :func:`describe_settings_error`), never a traceback.
The Inngest variables are the SDK's own (``INNGEST_EVENT_KEY``, ``INNGEST_BASE_URL``, ...), the
Dodo secret is the Dodo SDK's ``DODO_PAYMENTS_WEBHOOK_KEY``; everything else is ``PAYMAP_*``.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SERVER_URL = "http://127.0.0.1:8288"
CLOUD_EVENT_API_URL = "https://inn.gs"
# the Python SDK's placeholder key in dev mode; the dev server accepts any key
DEV_EVENT_KEY = "NO_EVENT_KEY_SET"
_TRUTHY = {"1", "true", "yes", "on"}
_FALSY = {"", "0", "false", "no", "off"}


class SettingsError(Exception):
    """A setting is missing or wrong; ``str()`` is a sentence naming the setting."""


def split_secrets(raw: str | None) -> list[str]:
    """Several secrets may be configured at once (rotation): separated by commas or whitespace."""
    if not raw:
        return []
    return [part for part in re.split(r"[\s,]+", raw.strip()) if part]


MIN_SECRET_BYTES = 24  # Standard Webhooks: secrets are 24 to 64 random bytes; fewer is a truncated copy


def check_secret(secret: str) -> str | None:
    """Return why ``secret`` is unusable as a Standard Webhooks secret, or None."""
    body = secret.removeprefix("whsec_")
    if not body:
        return "is empty after the 'whsec_' prefix"
    try:
        key = base64.b64decode(body + "==", validate=False)
    except (binascii.Error, ValueError):
        return "is not base64 after the 'whsec_' prefix"
    if not re.fullmatch(r"[A-Za-z0-9+/=_-]+", body):
        return "contains characters that are not base64"
    if not key:
        return "decodes to an empty key"
    if len(key) < MIN_SECRET_BYTES:
        return (f"decodes to {len(key)} bytes, but a Standard Webhooks secret has at least {MIN_SECRET_BYTES}: "
                "copy the whole signing secret (whsec_...) of the endpoint from Dodo's dashboard")
    return None


class RelaySettings(BaseSettings):
    """All relay settings; field aliases are the environment variable names."""

    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    # --- receive -------------------------------------------------------------------------------
    webhook_key: str | None = Field(None, validation_alias="DODO_PAYMENTS_WEBHOOK_KEY", repr=False)
    insecure_dev: bool = Field(False, validation_alias="PAYMAP_INSECURE_DEV")
    host: str = Field("127.0.0.1", validation_alias="PAYMAP_HOST")
    port: int = Field(8000, ge=0, le=65535, validation_alias="PAYMAP_PORT")
    max_body_bytes: int = Field(1024 * 1024, ge=1024, validation_alias="PAYMAP_MAX_BODY_BYTES")
    accept_timeout_seconds: float = Field(10.0, gt=0, le=14, validation_alias="PAYMAP_ACCEPT_TIMEOUT")

    # --- store ---------------------------------------------------------------------------------
    db_path: Path = Field(Path("paymap-data/relay.sqlite3"), validation_alias="PAYMAP_DB")
    db_busy_timeout_ms: int = Field(5000, ge=0, validation_alias="PAYMAP_DB_BUSY_TIMEOUT_MS")
    db_synchronous: Literal["FULL", "NORMAL", "EXTRA"] = Field("FULL", validation_alias="PAYMAP_DB_SYNCHRONOUS")

    # --- map -----------------------------------------------------------------------------------
    mappings: Path = Field(Path("mappings"), validation_alias="PAYMAP_MAPPINGS")
    watch: bool = Field(True, validation_alias="PAYMAP_WATCH")

    # --- deliver -------------------------------------------------------------------------------
    inngest_event_key: str | None = Field(None, validation_alias="INNGEST_EVENT_KEY", repr=False)
    inngest_base_url: str | None = Field(None, validation_alias="INNGEST_BASE_URL")
    inngest_event_api_base_url: str | None = Field(None, validation_alias="INNGEST_EVENT_API_BASE_URL")
    inngest_dev: str | None = Field(None, validation_alias="INNGEST_DEV")
    inngest_env: str | None = Field(None, validation_alias="INNGEST_ENV")
    batch_max_events: int = Field(100, ge=1, le=5000, validation_alias="PAYMAP_BATCH_MAX_EVENTS")
    batch_max_bytes: int = Field(1024 * 1024, ge=1024, validation_alias="PAYMAP_BATCH_MAX_BYTES")
    event_max_bytes: int = Field(3 * 1024 * 1024, ge=1024, validation_alias="PAYMAP_EVENT_MAX_BYTES")
    http_timeout_seconds: float = Field(30.0, gt=0, validation_alias="PAYMAP_HTTP_TIMEOUT")
    lease_seconds: float = Field(60.0, gt=0, validation_alias="PAYMAP_LEASE_SECONDS")
    retry_base_seconds: float = Field(1.0, gt=0, validation_alias="PAYMAP_RETRY_BASE_SECONDS")
    retry_max_seconds: float = Field(300.0, gt=0, validation_alias="PAYMAP_RETRY_MAX_SECONDS")
    auth_pause_seconds: float = Field(60.0, gt=0, validation_alias="PAYMAP_AUTH_PAUSE_SECONDS")
    poll_seconds: float = Field(1.0, gt=0, validation_alias="PAYMAP_POLL_SECONDS")
    alert_pending_age_seconds: float = Field(300.0, gt=0, validation_alias="PAYMAP_ALERT_PENDING_AGE")

    # --- console (runtime/relay/console.py): served at /console only when a token is set --------
    console_token: str | None = Field(None, validation_alias="PAYMAP_CONSOLE_TOKEN", repr=False)
    # where "open in playground" sends a body: `paymap playground` on the operator's own computer
    console_playground_url: str = Field("http://127.0.0.1:8765/", validation_alias="PAYMAP_CONSOLE_PLAYGROUND_URL")

    # --- logs ----------------------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", validation_alias="PAYMAP_LOG_LEVEL")

    @field_validator("log_level", "db_synchronous", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("console_playground_url")
    @classmethod
    def _playground_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"must be an http(s) URL such as http://127.0.0.1:8765/, got {value!r}")
        return value if value.endswith("/") else value + "/"

    @field_validator("inngest_base_url", "inngest_event_api_base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"must be an http(s) URL such as {DEV_SERVER_URL}, got {value!r}")
        return value.rstrip("/")

    @field_validator("inngest_dev")
    @classmethod
    def _dev(cls, value: str | None) -> str | None:
        if value is None:
            return None
        v = value.strip()
        if v.lower() in _TRUTHY | _FALSY or re.match(r"^https?://[^/\s]+", v):
            return v
        raise ValueError(f"must be 1/0/true/false or the dev server URL (e.g. {DEV_SERVER_URL}), got {value!r}")

    @model_validator(mode="after")
    def _coherent(self) -> RelaySettings:
        secrets = split_secrets(self.webhook_key)
        for i, secret in enumerate(secrets, 1):
            why = check_secret(secret)
            if why:
                raise ValueError(f"DODO_PAYMENTS_WEBHOOK_KEY: secret #{i} {why}")
        if self.lease_seconds < self.http_timeout_seconds + 5:
            raise ValueError(
                f"PAYMAP_LEASE_SECONDS ({self.lease_seconds:g}) must be at least PAYMAP_HTTP_TIMEOUT "
                f"({self.http_timeout_seconds:g}) + 5 s, or a slow request could be sent twice in parallel"
            )
        if self.console_token is not None and self.console_token.strip() and len(self.console_token.strip()) < 16:
            raise ValueError(
                "PAYMAP_CONSOLE_TOKEN must be at least 16 characters (it guards every stored payload); "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        if self.retry_max_seconds < self.retry_base_seconds:
            raise ValueError("PAYMAP_RETRY_MAX_SECONDS must be at least PAYMAP_RETRY_BASE_SECONDS")
        return self

    # --- derived -------------------------------------------------------------------------------
    @property
    def secrets(self) -> list[str]:
        return split_secrets(self.webhook_key)

    @property
    def dev_mode(self) -> bool:
        """Inngest dev mode: INNGEST_DEV truthy or a URL, or no event key at all."""
        if self.inngest_dev is not None:
            return self.inngest_dev.lower() not in _FALSY
        return not self.inngest_event_key

    @property
    def event_api_base(self) -> str:
        """Event API origin with the Python SDK's precedence."""
        if self.inngest_event_api_base_url:
            return self.inngest_event_api_base_url
        if self.inngest_base_url:
            return self.inngest_base_url
        if self.inngest_dev and re.match(r"^https?://", self.inngest_dev):
            return self.inngest_dev.rstrip("/")
        return DEV_SERVER_URL if self.dev_mode else CLOUD_EVENT_API_URL

    @property
    def event_key(self) -> str:
        return self.inngest_event_key or DEV_EVENT_KEY

    def require_startable(self) -> None:
        """Refuse to start on settings that are valid one by one but unsafe together."""
        if not self.secrets and not self.insecure_dev:
            raise SettingsError(
                "no webhook secret configured: set DODO_PAYMENTS_WEBHOOK_KEY to the endpoint's signing "
                "secret (whsec_..., several separated by commas during rotation), or start with "
                "--insecure-dev (PAYMAP_INSECURE_DEV=1) to accept unsigned webhooks for local testing only"
            )
        if not self.dev_mode and not self.inngest_event_key:
            raise SettingsError(
                "INNGEST_DEV is off but INNGEST_EVENT_KEY is not set: set the event key from the "
                "Inngest dashboard, or INNGEST_DEV=1 to send to the local dev server"
            )


def describe_settings_error(exc: ValidationError) -> str:
    """One line per wrong setting, naming the environment variable (or flag) and the problem."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        if loc:
            shown = err.get("input")
            got = f" (got {shown!r})" if isinstance(shown, str | int | float) else ""
            lines.append(f"setting {loc}: {msg}{got}")
        else:
            lines.append(msg)
    return "\n".join(lines)


def load_settings(**overrides: Any) -> RelaySettings:
    """Build settings from the environment plus non-None ``overrides`` (flags win)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return RelaySettings(**given)
    except ValidationError as exc:
        raise SettingsError(describe_settings_error(exc)) from None


def db_path_from(flag: Path | None) -> Path:
    """The store path for the operator commands: the flag, else PAYMAP_DB, else the default.

    ``status`` and ``replay`` read only this, so an unrelated bad setting does not block them.
    """
    if flag is not None:
        return flag
    env = os.environ.get("PAYMAP_DB")
    return Path(env) if env else Path("paymap-data/relay.sqlite3")
