"""All configuration in one validated settings class (environment prefix ``PARKSHARE_``)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@cache
def get_settings() -> Settings:
    return Settings()
