"""The one settings class of the service (environment prefix ``PERFLOOP_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service settings, read from ``PERFLOOP_*`` environment variables.

    ``data_dir`` holds the SQLite database (unless ``database_url`` points elsewhere), the
    content-addressed ONNX blob store and the predictor artifacts.
    """

    model_config = SettingsConfigDict(env_prefix="PERFLOOP_", extra="ignore")

    data_dir: Path = Path("./perfloop-data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file in data_dir."
    )
    max_model_bytes: int = Field(default=64 * 2**20, gt=0)
    job_lease_seconds: int = Field(default=120, gt=0)
    job_max_attempts: int = Field(default=3, ge=1)
    predictor_refresh_seconds: float = Field(
        default=5.0, ge=0, description="How often a replica re-reads the active predictor row."
    )
    token_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a replica trusts a token lookup (revocation delay).",
    )
    device_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How long a replica serves a device's cached samples before re-checking.",
    )
    prediction_log_flush_seconds: float = Field(
        default=0.1,
        ge=0,
        description="Prediction-log rows are written in batches this often (0: in the request).",
    )
    ir_cache_size: int = Field(
        default=10_000, ge=0, description="Graph IRs kept in memory (~130 KB per NB201 graph)."
    )
    max_predictions_per_request: int = Field(default=1000, ge=1)
    max_request_bytes: int = Field(
        default=8 * 2**20, gt=0, description="Largest JSON request body (uploads: max_model_bytes)."
    )
    rate_limit_per_second: float = Field(
        default=0.0, ge=0, description="Requests per second per token and process; 0: no limit."
    )
    rate_limit_burst: int = Field(default=100, ge=1, description="Requests a token may burst.")
    ship_predictor: bool = Field(
        default=True,
        description="A data dir without any predictor version starts with the shipped one active.",
    )
    audit_rate: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description="Share of served predictions queued for measurement at random (service.audit).",
    )
    audit_rate_per_device: dict[str, float] = Field(
        default_factory=dict,
        description="Per-device audit rates (JSON object: device name -> share).",
    )

    @field_validator("audit_rate_per_device")
    @classmethod
    def _rates_are_shares(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {device: rate for device, rate in value.items() if not 0 <= rate <= 1}
        if bad:
            raise ValueError(f"audit rates must lie in 0..1; got {bad}")
        return value

    @property
    def resolved_database_url(self) -> str:
        """``database_url`` or the default SQLite file under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'perfloop.sqlite3').resolve()}"

    @property
    def blob_dir(self) -> Path:
        """Directory of the content-addressed ONNX blob store."""
        return self.data_dir / "blobs"

    @property
    def artifact_dir(self) -> Path:
        """Directory holding one sub-directory per trained predictor version."""
        return self.data_dir / "predictors"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built on first use (never at import time)."""
    return Settings()
