"""The service's Prometheus metrics: what is counted, and the text a scrape of /metrics gets.

One `Metrics` per app, made by `create_app` with its own `CollectorRegistry`
(never prometheus-client's global one, so tests that build many apps do not
share counts). In one process the registry holds the metrics themselves; when
uvicorn runs several workers their values are shared through files and read
back for every scrape (`service.telemetry.metrics_files` says why and how).

Labels are bounded and say nothing about anyone: route templates (never a
path, which can hold a case id), normalised methods, statuses, hash algorithm
names and the kind of match request; the `pid` of a worker in shared mode.
Values are counts, seconds, and change-log positions. No hash value, case id,
key or client address is ever a label or a value.

Sync lag is derived at scrape time: each worker records when its index last
caught up with the change log, and the worker answering the scrape turns that
into seconds ago, and its own reading of the log's head into changes behind.
"""

import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

from service.settings import Settings
from service.telemetry import metrics_files

if TYPE_CHECKING:
    from service.live.follower import ChangeFollower

log = logging.getLogger("hashbank.metrics")

# The text format every Prometheus understands (prometheus-client's generate_latest writes it).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# From well under a millisecond (a small match) to the body deadlines' tens of seconds.
LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
MATCH_SOURCES = ("hashes", "image")  # POST /v1/match and POST /v1/match/image

_CAUGHT_UP = "hashbank_index_caught_up_timestamp_seconds"
_CHANGE_SEQ = "hashbank_index_change_seq"


class _Families:
    """A fixed list of metric families, in the shape `generate_latest` reads."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


class Metrics:
    def __init__(self, run_dir: Path | None = None) -> None:
        """`run_dir`: the folder shared with the other workers (`metrics_files.enable`
        already called), or None for a process of its own."""
        self.run_dir = run_dir
        self.registry = CollectorRegistry()
        # Shared: values live in files and come back through the collector; registering
        # the metrics as well would count this worker twice.
        own = None if run_dir else self.registry
        if run_dir is not None:
            MultiProcessCollector(self.registry, path=str(run_dir))
        request = ["route", "method", "status"]
        self.requests = Counter(
            "hashbank_http_requests", "HTTP requests answered.", request, registry=own
        )
        self.latency = Histogram(
            "hashbank_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer.",
            request,
            buckets=LATENCY_BUCKETS,
            registry=own,
        )
        source = ["source"]
        self.searched = Counter(
            "hashbank_match_hashes_searched",
            "Hashes searched by answered match requests (items and their variants).",
            source,
            registry=own,
        )
        self.items = Counter(
            "hashbank_match_items",
            "Items (images) in answered match requests.",
            source,
            registry=own,
        )
        self.items_matched = Counter(
            "hashbank_match_items_matched", "Items with at least one hit.", source, registry=own
        )
        self.hits = Counter(
            "hashbank_match_hits", "Matches recorded (hits still active).", source, registry=own
        )
        for name in MATCH_SOURCES:  # every series from the start, so rate() sees the first one
            for counter in (self.searched, self.items, self.items_matched, self.hits):
                counter.labels(name)
        # Per worker: each has its own index. `liveall`: one series per live worker.
        self.index_hashes = Gauge(
            "hashbank_index_hashes",
            "Hashes in this worker's in-memory index.",
            ["algorithm"],
            registry=own,
            multiprocess_mode="liveall",
        )
        self.change_seq = Gauge(
            _CHANGE_SEQ,
            "The last change-log position this worker's index has applied.",
            registry=own,
            multiprocess_mode="liveall",
        )
        self.caught_up = Gauge(
            _CAUGHT_UP,
            "When this worker's index last caught up with the change log (Unix time).",
            registry=own,
            multiprocess_mode="liveall",
        )
        self.ready = Gauge(
            "hashbank_ready",
            "1 once this worker's index is loaded and caught up (as /readyz), else 0.",
            registry=own,
            multiprocess_mode="liveall",
        )
        self._warned = False

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        labels = (route, method, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def observe_match(
        self, source: str, *, searched: int, items: int, matched: int, hits: int
    ) -> None:
        self.searched.labels(source).inc(searched)
        self.items.labels(source).inc(items)
        self.items_matched.labels(source).inc(matched)
        self.hits.labels(source).inc(hits)

    def observe_follower(self, follower: "ChangeFollower") -> None:
        """After every catch-up: this worker's index size, position and readiness."""
        try:
            for algorithm, size in follower.indexes.sizes().items():
                self.index_hashes.labels(algorithm).set(size)
            self.change_seq.set(follower.seq)
            if follower.caught_up_at:
                self.caught_up.set(follower.caught_up_at)
            self.ready.set(1 if follower.ready else 0)
        except OSError as exc:  # a full metrics folder must not fail the write it follows
            if not self._warned:
                log.warning("metrics not recorded: %s", type(exc).__name__)
                self._warned = True

    def render(self, log_head: int | None) -> bytes:
        """The scrape's text; `log_head`: the change log's newest position, if it was read."""
        if self.run_dir is not None:
            metrics_files.forget_dead(self.run_dir)
        families = list(self.registry.collect())
        families += _derived(families, log_head, time.time())
        return generate_latest(_Families(families))

    def close(self) -> None:
        if self.run_dir is not None:
            metrics_files.leaving(self.run_dir)


def for_settings(settings: Settings) -> Metrics:
    run_dir = metrics_files.shared_dir(settings)
    if run_dir is not None:
        metrics_files.enable(run_dir)
    return Metrics(run_dir)


def _derived(families: list[Metric], log_head: int | None, now: float) -> list[Metric]:
    """Sync lag per worker, from what each worker recorded (labels kept: `pid` if shared)."""
    by_name = {family.name: family for family in families}
    lag = Metric(
        "hashbank_index_sync_lag_seconds",
        "Seconds since this worker's index last caught up with the change log.",
        "gauge",
    )
    for sample in by_name[_CAUGHT_UP].samples if _CAUGHT_UP in by_name else ():
        if sample.value > 0:  # 0: not loaded yet; its lag is not a number of seconds
            lag.add_sample(lag.name, sample.labels, max(0.0, now - sample.value))
    derived = [lag]
    if log_head is not None:
        head = Metric("hashbank_change_log_seq", "The change log's newest position.", "gauge")
        head.add_sample(head.name, {}, float(log_head))
        behind = Metric(
            "hashbank_index_changes_behind",
            "Changes in the log that this worker's index has not applied yet.",
            "gauge",
        )
        for sample in by_name[_CHANGE_SEQ].samples if _CHANGE_SEQ in by_name else ():
            behind.add_sample(behind.name, sample.labels, max(0.0, log_head - sample.value))
        derived += [head, behind]
    return derived
