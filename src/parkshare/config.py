"""All configuration in one validated settings class (environment prefix ``PARKSHARE_``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from parkshare.clock import Clock, FixedClock, SystemClock

DEFAULT_DATABASE_URL = f"sqlite:///{Path('var') / 'parkshare.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARKSHARE_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = "Asia/Shanghai"
    # How far (days) the window search looks before and after an instant before it calls a
    # window open-ended. Long enough for any holiday week plus its bridging weekends.
    window_horizon_days: int = Field(default=31, ge=2, le=366)
    # Least notice (minutes) an operator must give before a non-emergency suspension starts.
    suspension_min_notice_minutes: int = Field(default=120, ge=0)

    # Networking: when live data counts as stale, then offline; how long raw gate events keep
    # the full plate before it is erased (privacy).
    live_stale_after_minutes: int = Field(default=10, ge=1)
    live_offline_after_minutes: int = Field(default=60, ge=1)
    plate_retention_days: int = Field(default=30, ge=1, le=3660)
    # How long the API keeps an Idempotency-Key's answer for retries (a day at least), after
    # which `parkshare purge` deletes it (docs/idempotency.md).
    idempotency_retention_hours: int = Field(default=24, ge=24, le=24 * 31)

    # Where queued notifications go: a webhook URL, or the log when unset.
    notify_webhook_url: str | None = None

    # Search from the in-memory index (built at start, following the database); off: every
    # search asks the database.
    search_index: bool = True

    # The web map: an optional tile layer under the app's own drawing, a URL template with
    # {z}/{x}/{y} of GCJ-02 tiles (e.g. a licensed Amap or Tianditu service). Unset: no tiles,
    # nothing is fetched from outside.
    map_tile_url: str | None = None

    # Freeze the clock at this instant (demos replaying 2022, tests); never in production.
    now: datetime | None = None

    # Reservations and the rules of sharing (see Policy below).
    booking_horizon_days: int = Field(default=14, ge=1, le=90)
    free_cancel_minutes: int = Field(default=60, ge=0)
    late_cancel_fee_fen: int | None = Field(default=500, ge=0)  # None: late cancels refused
    no_show_grace_minutes: int = Field(default=30, ge=0)
    max_cancellations_per_month: int = Field(default=5, ge=0)
    max_no_shows_per_month: int = Field(default=3, ge=0)
    reminder_lead_minutes: int = Field(default=30, ge=0)
    # Credit: Qingdao's rule is two uncorrected overstays → blacklist.
    overstay_grace_minutes: int = Field(default=15, ge=0)
    violations_to_blacklist: int = Field(default=2, ge=1)
    blacklist_days: int = Field(default=90, ge=1)
    overstay_surcharge_fen_per_hour: int = Field(default=1_000, ge=0)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("PARKSHARE_DATABASE_URL must be a sqlite:// or postgresql:// URL")
        return value

    @model_validator(mode="after")
    def _no_frozen_clock_in_production(self) -> Settings:
        if self.environment == "production" and self.now is not None:
            raise ValueError("PARKSHARE_NOW freezes the clock: not allowed in production")
        if self.now is not None and self.now.tzinfo is None:
            raise ValueError("PARKSHARE_NOW needs an offset, e.g. 2022-06-24T09:00+08:00")
        return self

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS in production (development serves plain HTTP locally)."""
        return self.environment == "production"

    def clock(self) -> Clock:
        return FixedClock(self.now) if self.now is not None else SystemClock()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def policy(self) -> Policy:
        return Policy(
            window_horizon_days=self.window_horizon_days,
            booking_horizon=timedelta(days=self.booking_horizon_days),
            free_cancel_before=timedelta(minutes=self.free_cancel_minutes),
            late_cancel_fee_fen=self.late_cancel_fee_fen,
            no_show_grace=timedelta(minutes=self.no_show_grace_minutes),
            max_cancellations_per_month=self.max_cancellations_per_month,
            max_no_shows_per_month=self.max_no_shows_per_month,
            reminder_lead=timedelta(minutes=self.reminder_lead_minutes),
            overstay_grace=timedelta(minutes=self.overstay_grace_minutes),
            violations_to_blacklist=self.violations_to_blacklist,
            blacklist_for=timedelta(days=self.blacklist_days),
            overstay_surcharge_fen_per_hour=self.overstay_surcharge_fen_per_hour,
        )


@dataclass(frozen=True)
class Policy:
    """The rules of sharing that services enforce, as plain values (tests build their own)."""

    window_horizon_days: int = 31
    booking_horizon: timedelta = timedelta(days=14)
    free_cancel_before: timedelta = timedelta(minutes=60)
    late_cancel_fee_fen: int | None = 500
    no_show_grace: timedelta = timedelta(minutes=30)
    max_cancellations_per_month: int = 5
    max_no_shows_per_month: int = 3
    reminder_lead: timedelta = timedelta(minutes=30)
    overstay_grace: timedelta = timedelta(minutes=15)
    violations_to_blacklist: int = 2
    blacklist_for: timedelta = timedelta(days=90)
    overstay_surcharge_fen_per_hour: int = 1_000


@cache
def get_settings() -> Settings:
    return Settings()
