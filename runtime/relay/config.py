"""Relay configuration: environment variables and flags, validated once at start.

Everything the relay does is driven by :class:`RelaySettings`; a wrong value stops the start with a
sentence that names the variable (see :func:`describe_settings_error`), never a traceback.
The Inngest variables are the SDK's own (``INNGEST_EVENT_KEY``, ``INNGEST_BASE_URL``, ...), the
Dodo secret is the Dodo SDK's ``DODO_PAYMENTS_WEBHOOK_KEY``; everything else is ``PAYMAP_*``.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from prelude.errors import PaymapError

DEV_SERVER_URL = "http://127.0.0.1:8288"
CLOUD_EVENT_API_URL = "https://inn.gs"
# the Python SDK's placeholder key in dev mode; the dev server accepts any key
DEV_EVENT_KEY = "NO_EVENT_KEY_SET"
_TRUTHY = {"1", "true", "yes", "on"}
_FALSY = {"", "0", "false", "no", "off"}


class SettingsError(PaymapError):
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
    # readiness and metrics: their own listener, loopback unless a token guards it
    ops_host: str = Field("127.0.0.1", validation_alias="PAYMAP_OPS_HOST")
    ops_port: int = Field(8001, ge=1, le=65535, validation_alias="PAYMAP_OPS_PORT")
    ops_token: str | None = Field(None, validation_alias="PAYMAP_OPS_TOKEN", repr=False)
    max_body_bytes: int = Field(1024 * 1024, ge=1024, validation_alias="PAYMAP_MAX_BODY_BYTES")
    accept_timeout_seconds: float = Field(10.0, gt=0, le=14, validation_alias="PAYMAP_ACCEPT_TIMEOUT")
    # the relay faces the internet: bounds on what one client may hold (Dodo sends in well under these)
    header_timeout_seconds: float = Field(5.0, gt=0, le=60, validation_alias="PAYMAP_HEADER_TIMEOUT")
    body_timeout_seconds: float = Field(10.0, gt=0, le=60, validation_alias="PAYMAP_BODY_TIMEOUT")
    max_connections: int = Field(1000, ge=1, validation_alias="PAYMAP_MAX_CONNECTIONS")
    max_header_bytes: int = Field(16 * 1024, ge=1024, le=1024 * 1024, validation_alias="PAYMAP_MAX_HEADER_BYTES")
    max_concurrent_bodies: int = Field(64, ge=1, validation_alias="PAYMAP_MAX_CONCURRENT_BODIES")

    # --- store ---------------------------------------------------------------------------------
    db_path: Path = Field(Path("paymap-data/relay.sqlite3"), validation_alias="PAYMAP_DB")
    db_busy_timeout_ms: int = Field(5000, ge=0, validation_alias="PAYMAP_DB_BUSY_TIMEOUT_MS")
    db_synchronous: Literal["FULL", "NORMAL", "EXTRA"] = Field("FULL", validation_alias="PAYMAP_DB_SYNCHRONOUS")
    retention_days: float = Field(30.0, ge=0, validation_alias="PAYMAP_RETENTION_DAYS")
    # several instances on one database: postgresql://user:password@host:5432/dbname (SQLite when unset)
    database_url: str | None = Field(None, validation_alias="PAYMAP_DATABASE_URL", repr=False)
    db_pool_size: int = Field(4, ge=2, le=100, validation_alias="PAYMAP_DB_POOL_SIZE")
    heartbeat_seconds: float = Field(5.0, gt=0, le=300, validation_alias="PAYMAP_HEARTBEAT_SECONDS")

    # --- map -----------------------------------------------------------------------------------
    mappings: Path = Field(Path("mappings"), validation_alias="PAYMAP_MAPPINGS")
    watch: bool = Field(True, validation_alias="PAYMAP_WATCH")

    # --- deliver -------------------------------------------------------------------------------
    inngest_event_key: str | None = Field(None, validation_alias="INNGEST_EVENT_KEY", repr=False)
    inngest_base_url: str | None = Field(None, validation_alias="INNGEST_BASE_URL")
    inngest_event_api_base_url: str | None = Field(None, validation_alias="INNGEST_EVENT_API_BASE_URL")
    inngest_dev: str | None = Field(None, validation_alias="INNGEST_DEV")
    inngest_env: str | None = Field(None, validation_alias="INNGEST_ENV")
    retarget: bool = Field(False, validation_alias="PAYMAP_RETARGET")
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
    log_format: Literal["auto", "json", "text"] = Field("auto", validation_alias="PAYMAP_LOG_FORMAT")

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

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("insecure_dev", "retarget", mode="before")
    @classmethod
    def _strict_flag(cls, value: Any) -> Any:
        """Exactly 1/0/true/false: a typo must not switch a safety check off (or on) by surprise."""
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true"):
            return True
        if text in ("", "0", "false"):
            return False
        raise ValueError("must be 1 or 0 (or true/false)")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a PostgreSQL URL such as postgresql://paymap@db.internal:5432/paymap "
                             "(unset it to use the SQLite file PAYMAP_DB)")
        return value

    @property
    def store_location(self) -> str:
        """Where the store is, for messages: the SQLite path or the database URL without its password."""
        if self.database_url:
            from runtime.relay.store_postgres_url import redact_url

            return redact_url(self.database_url)
        return str(self.db_path)

    @field_validator("inngest_base_url", "inngest_event_api_base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"must be an http(s) URL such as {DEV_SERVER_URL}, got {value!r}")
        return value.rstrip("/")

    @field_validator("inngest_event_key")
    @classmethod
    def _event_key(cls, value: str | None) -> str | None:
        """The key goes into the URL path (``/e/{key}``): a stray newline or space is a copy mistake."""
        if value is None or value == "":
            return None
        bad = next((c for c in value if not (c.isascii() and c.isprintable()) or c.isspace() or c in "/?#%"), None)
        if bad is not None:
            where = "at the end" if value.rstrip() != value else "at the start" if value.lstrip() != value else "inside"
            raise ValueError(
                f"contains {bad!r} {where}; an event key has no spaces, line breaks or control characters: copy it "
                "from the Inngest dashboard without the line break (e.g. `export INNGEST_EVENT_KEY=$(cat key | tr -d '\\n')`)"
            )
        return value

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

    @property
    def retention_seconds(self) -> float | None:
        """How long finished webhooks are kept; None = forever (PAYMAP_RETENTION_DAYS=0)."""
        return self.retention_days * 86400 if self.retention_days > 0 else None

    def require_startable(self) -> None:
        """Refuse to start on settings that are valid one by one but unsafe together."""
        if self.insecure_dev and not is_loopback(self.host):
            raise SettingsError(
                f"PAYMAP_INSECURE_DEV (--insecure-dev) turns signature checks off, so the relay then listens "
                f"only on a loopback address, but PAYMAP_HOST is {self.host!r}: use 127.0.0.1, or set "
                "DODO_PAYMENTS_WEBHOOK_KEY and drop the insecure mode"
            )
        if self.insecure_dev and not self.dev_mode:
            raise SettingsError(
                "PAYMAP_INSECURE_DEV (--insecure-dev) is only for sending to an Inngest dev server, but "
                f"events would go to {self.event_api_base} with INNGEST_EVENT_KEY: set INNGEST_DEV=1, or set "
                "DODO_PAYMENTS_WEBHOOK_KEY and drop the insecure mode"
            )
        target = urlsplit(self.event_api_base)
        if self.inngest_event_key and target.scheme == "http" and not is_loopback(target.hostname or ""):
            raise SettingsError(
                f"INNGEST_EVENT_KEY would travel in clear text: the event API {self.event_api_base} is plain http "
                "on another host; use its https:// URL (or, for a dev server, unset INNGEST_EVENT_KEY)"
            )
        if not is_loopback(self.ops_host) and not self.ops_token:
            raise SettingsError(
                f"PAYMAP_OPS_HOST is {self.ops_host!r}: /metrics and /readyz would be open to the network; set "
                "PAYMAP_OPS_TOKEN (scrapers then send 'Authorization: Bearer <token>') or keep 127.0.0.1"
            )
        if self.ops_port == self.port:
            raise SettingsError(
                f"PAYMAP_OPS_PORT and PAYMAP_PORT are both {self.port}: metrics and readiness need a port of "
                "their own (PAYMAP_OPS_PORT, default 8001)"
            )
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


_SECRET_SETTINGS = {"INNGEST_EVENT_KEY", "inngest_event_key", "DODO_PAYMENTS_WEBHOOK_KEY", "webhook_key",
                    "PAYMAP_DATABASE_URL", "database_url"}  # a database URL may hold a password
def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is reachable from this machine only."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def describe_settings_error(exc: ValidationError) -> str:
    """One line per wrong setting, naming the environment variable (or flag) and the problem."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        if loc:
            shown = err.get("input")
            secret = loc in _SECRET_SETTINGS
            got = f" (got {shown!r})" if isinstance(shown, str | int | float) and not secret else ""
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
