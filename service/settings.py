"""The service's configuration: one pydantic-settings class, read from `HASHBANK_*` variables."""

import ipaddress
import os
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from hashing.policy import MAX_QUERY_HASHES
from hashing.vpdq_match import MATCH_PERCENT


class Settings(BaseSettings):
    """Everything an operator can tune. `create_app(settings)` is the only reader."""

    model_config = SettingsConfigDict(env_prefix="HASHBANK_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="SQLite file and index snapshots live here.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite at <data_dir>/hashbank.db."
    )

    max_hashes_per_case: int = Field(
        100, ge=1, description="Most hashes of images one case request may send."
    )
    max_video_frames: int = Field(
        3600,
        ge=1,
        description="Most video frame hashes (vPDQ) one case or video match request may send, "
        "its videos together: an hour of video at Meta's 1 frame per second.",
    )
    max_match_batch: int = 1000
    max_match_hashes: int = Field(
        8192,
        ge=1,
        description="Most hashes one POST /v1/match searches: its items and their variants "
        f"(8,192: {8192 // MAX_QUERY_HASHES} images of {MAX_QUERY_HASHES} query hashes, "
        "or 1,000 items of 8 dihedral hashes).",
    )
    video_match_percent: float = Field(
        MATCH_PERCENT,
        gt=0,
        le=100,
        description="A video matches a case video when this share of the query's distinct "
        "frames, or of the stored video's, is within the frame threshold (docs/video.md).",
    )
    max_upload_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 100_000_000
    decode_pool_bytes: int = Field(
        1024 * 1024 * 1024,
        gt=0,
        description="Per worker: the memory that images being decoded and hashed for "
        "/v1/match/image may take together, estimated from their headers "
        "(service.match.decode_budget). A request waits for room.",
    )
    max_decode_bytes: int = Field(
        512 * 1024 * 1024,
        gt=0,
        description="The most one image may take to decode and hash (at most "
        "decode_pool_bytes); a costlier one gets 413.",
    )
    decode_wait_seconds: float = Field(
        10.0,
        ge=0,
        description="How long a request waits for room in the decode pool; then 503 with "
        "Retry-After.",
    )
    body_idle_timeout_seconds: float = Field(
        10.0, gt=0, description="Longest wait for the next piece of a request body; then 408."
    )
    body_timeout_seconds: float = Field(
        20.0,
        gt=0,
        description="A request body must arrive within this many seconds plus one second per "
        "`body_min_rate` bytes received (Apache mod_reqtimeout's rule); a slower one gets 408 "
        "and its connection is closed.",
    )
    body_min_rate: float = Field(500.0, gt=0, description="Bytes per second; see above.")
    header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="A request's line and headers must arrive within this many seconds of the "
        "connection opening or of its previous response; needs uvicorn --http "
        "service.api.header_limits:HeaderLimitsProtocol.",
    )
    max_header_bytes: int = Field(
        64 * 1024, gt=0, description="Largest request line and headers; more gets 431 (same)."
    )

    index_kind: Literal["auto", "flat", "mih"] = "auto"
    sync_interval_seconds: float = Field(
        0.2,
        gt=0,
        description="How often each worker polls the change log for other workers' writes "
        "(on PostgreSQL also woken at once by NOTIFY, see sync_listen).",
    )
    sync_listen: bool = Field(
        True,
        description="PostgreSQL: LISTEN for the change log's NOTIFY, so other replicas' "
        "writes reach this worker's index within milliseconds, not one poll interval.",
    )
    snapshot_interval_seconds: float = Field(300.0, description="0 disables periodic snapshots.")

    key_failures_allowed: int = Field(
        10,
        ge=1,
        description="Wrong case keys answered 401 per client and per case in a window; "
        "after that 429. The right key is never refused.",
    )
    key_failure_window_seconds: float = Field(900.0, gt=0)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Reverse proxies (addresses or CIDR networks, comma-separated) whose "
        "X-Forwarded-For is believed; empty: the connection's peer is the client.",
    )

    api_key_cache_seconds: float = Field(
        0.0,
        ge=0,
        description="How long a worker trusts a verified API key before checking again; "
        "0 (the default): every request checks, so a revoked key stops working everywhere "
        "at once. More saves one indexed read per request and delays revocation by as much.",
    )

    dispute_min_platforms: int = Field(
        2,
        ge=1,
        description="Distinct platforms that must report a hash not_violating (and none removed) "
        "before it is suspended as disputed.",
    )
    exchange_page_max: int = Field(
        1000,
        ge=1,
        le=1000,
        description="Largest page of the partner feeds (GET /v1/hashes/changes `limit`, "
        "FetchHashes `pageSize`, at most 1,000 on the wire): a larger page asked for is "
        "served at this size, with more to follow.",
    )

    log_format: Literal["text", "json"] = Field(
        "text",
        description="`json`: the service's and uvicorn's log lines as JSON objects, one a "
        "line (service.telemetry.log_format), redacted as the text lines are.",
    )
    metrics_dir: Path = Field(
        default_factory=lambda: Path(tempfile.gettempdir()) / f"hashbank-metrics-{os.getuid()}",
        description="Where the uvicorn workers of one host share their metrics "
        "(prometheus-client's multiprocess mode, service.telemetry.metrics_files); one folder per "
        "service run is made inside. Must be local to the host, never shared by replicas.",
    )
    metrics_multiprocess: bool | None = Field(
        None,
        description="Share metrics between worker processes through `metrics_dir`. Unset: "
        "when this process is a worker that uvicorn started (--workers, --reload).",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network, strict=False)  # ValueError names the bad entry
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hashbank.db').resolve()}"

    @property
    def snapshot_dir(self) -> Path:
        return self.data_dir / "index"
