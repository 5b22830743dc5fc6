"""Configuration: the only place environment variables are read."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from releasegate.kit.ratelimit import RateLimit

Profile = Literal["embedded", "production"]

RATE_LIMIT_DEFAULTS: dict[str, str] = {
    "releases.create": "60/60",
    "releases.update": "60/60",
    "dev.write": "60/60",
    "dev.read": "120/60",
    "releases.download": "30/60",
    "auth.failure": "30/300",
    "client.verify.ip": "30/60",
    "client.heartbeat.ip": "30/60",
    "client.classloader.ip": "30/60",
    "client.verify.license": "60/60",
    "client.heartbeat.license": "60/60",
    "client.classloader.license": "30/60",
}

_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_rate_limit(text: str) -> RateLimit | None:
    """Parse `<max>/<seconds>` or `0` (disabled)."""
    if text.strip() == "0":
        return None
    match = _RATE_RE.match(text)
    if not match or int(match.group(2)) <= 0:
        raise ValueError(f"rate limit must be '<max>/<seconds>' or '0', got {text!r}")
    return RateLimit(int(match.group(1)), int(match.group(2)))


class Settings(BaseSettings):
    """Every `RELEASEGATE_*` variable, with the defaults of the embedded profile."""

    model_config = SettingsConfigDict(
        env_prefix="RELEASEGATE_", env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = Path("./data")
    database_url: str | None = None
    storage_url: str | None = None
    s3_endpoint_url: str | None = None
    redis_url: str | None = None
    secret_key: str | None = Field(default=None, repr=False)
    max_file_size_mb: int = Field(default=10, ge=0)
    trusted_proxies: str = ""
    log_level: str = "INFO"

    api_key_prefix: str = "rg_"
    api_key_last_seen_interval: int = 60
    rate_limit_fail_mode: Literal["closed", "open"] = "closed"
    trusted_license_keys: str = Field(default="", repr=False)
    trusted_team_ids: str = ""
    country_header: str = ""

    upload_grace: int = 3600
    deleted_object_grace: int = 0
    sweep_interval: int = 600
    upload_idle_timeout: float = 60.0
    run_jobs: bool = True  # `serve --no-jobs` sets RELEASEGATE_RUN_JOBS=false
    workers: int = Field(default=1, ge=1)  # `serve --workers N` sets RELEASEGATE_WORKERS
    # Publisher raw downloads: streamed by the app (off), or handed to S3 (presigned) or to the
    # proxy in front (accel: nginx X-Accel-Redirect; sendfile: X-Sendfile) after the checks.
    download_redirect: Literal["off", "presigned", "accel", "sendfile"] = "off"
    download_url_ttl: int = Field(default=60, ge=1, le=3600)
    download_accel_prefix: str = "/_releasegate_files/"

    webhook_timeout: float = Field(default=5.0, gt=0)
    webhook_max_attempts: int = Field(default=5, ge=1)
    webhook_retry_base_seconds: float = Field(default=60.0, ge=0.1)
    webhook_retry_jitter: float = Field(default=0.1, ge=0)
    webhook_poll_interval: float = Field(default=1.0, gt=0)
    webhook_allow_http: bool = False
    webhook_allow_private_targets: bool = False
    webhook_user_agent: str = "Lukittu-Webhook/1.0"

    rate_limit_releases_create: str = RATE_LIMIT_DEFAULTS["releases.create"]
    rate_limit_releases_update: str = RATE_LIMIT_DEFAULTS["releases.update"]
    rate_limit_dev_write: str = RATE_LIMIT_DEFAULTS["dev.write"]
    rate_limit_dev_read: str = RATE_LIMIT_DEFAULTS["dev.read"]
    rate_limit_releases_download: str = RATE_LIMIT_DEFAULTS["releases.download"]
    rate_limit_auth_failure: str = RATE_LIMIT_DEFAULTS["auth.failure"]
    rate_limit_client_verify_ip: str = RATE_LIMIT_DEFAULTS["client.verify.ip"]
    rate_limit_client_heartbeat_ip: str = RATE_LIMIT_DEFAULTS["client.heartbeat.ip"]
    rate_limit_client_classloader_ip: str = RATE_LIMIT_DEFAULTS["client.classloader.ip"]
    rate_limit_client_verify_license: str = RATE_LIMIT_DEFAULTS["client.verify.license"]
    rate_limit_client_heartbeat_license: str = RATE_LIMIT_DEFAULTS["client.heartbeat.license"]
    rate_limit_client_classloader_license: str = RATE_LIMIT_DEFAULTS["client.classloader.license"]

    @field_validator(
        "rate_limit_releases_create",
        "rate_limit_releases_update",
        "rate_limit_dev_write",
        "rate_limit_dev_read",
        "rate_limit_releases_download",
        "rate_limit_auth_failure",
        "rate_limit_client_verify_ip",
        "rate_limit_client_heartbeat_ip",
        "rate_limit_client_classloader_ip",
        "rate_limit_client_verify_license",
        "rate_limit_client_heartbeat_license",
        "rate_limit_client_classloader_license",
    )
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        parse_rate_limit(value)
        return value

    @model_validator(mode="after")
    def _check_download_redirect(self) -> Settings:
        scheme = self.resolved_storage_url.split(":", 1)[0]
        needs = {"presigned": "s3", "accel": "file", "sendfile": "file"}.get(self.download_redirect)
        if needs is not None and scheme != needs:
            raise ValueError(
                f"RELEASEGATE_DOWNLOAD_REDIRECT={self.download_redirect} needs a {needs}:// "
                "RELEASEGATE_STORAGE_URL"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        """The async SQLAlchemy URL, with the driver chosen by the server."""
        url = self.database_url or f"sqlite:///{self.data_dir.resolve() / 'releasegate.db'}"
        for plain, driver in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        return url

    @property
    def profile(self) -> Profile:
        """A PostgreSQL database URL selects production; anything else is embedded."""
        return "production" if self.resolved_database_url.startswith("postgresql") else "embedded"

    @property
    def resolved_storage_url(self) -> str:
        return self.storage_url or f"file://{self.data_dir.resolve() / 'files'}"

    @cached_property
    def rate_limits(self) -> dict[str, RateLimit | None]:
        """Bucket name → budget (None = disabled)."""
        return {
            bucket: parse_rate_limit(getattr(self, "rate_limit_" + bucket.replace(".", "_")))
            for bucket in RATE_LIMIT_DEFAULTS
        }

    @property
    def default_max_file_bytes(self) -> int:
        return self.max_file_size_mb * 1024 * 1024
