"""How big a run is: ``full`` is the issue's benchmark (>= 1M pings, < 15 minutes); ``quick`` is for development."""

import dataclasses
from dataclasses import dataclass

from udaconnect_demo.generator import BENCH, ConferenceSpec


@dataclass(frozen=True)
class BenchSize:
    name: str
    conference: ConferenceSpec
    # Connection query: a seeded sample of person-days; each combination runs over it, round robin.
    sample_person_days: int
    # Per combination: stop after this long (but not before min_runs) or after max_runs.
    combination_budget_s: float
    min_runs: int
    max_runs: int
    # A statement that takes longer is cancelled and counted at this time (a lower bound).
    statement_timeout_s: float
    # The legacy algorithm in full for the person-day whose ping count is closest to this.
    legacy_full_pings: int
    # The legacy per-ping cost elsewhere: this many pings per (range, distance), spread over the sample.
    legacy_sample_pings: int
    # HTTP endpoint: concurrent clients, and how long they run.
    http_concurrency: int
    http_seconds: float
    # Ingest.
    ingest_persons: int
    single_post_seconds: float
    single_post_connections: int
    # GET /health with the same connections: the single POSTs' ceiling.
    floor_seconds: float
    batch_post_seconds: float
    batch_post_connections: int
    batch_size: int
    ceiling_rows: int
    drain_timeout_s: float
    profile_seconds: float


FULL = BenchSize(
    name="full",
    conference=BENCH,
    sample_person_days=20,
    combination_budget_s=25.0,
    min_runs=2,
    max_runs=40,
    statement_timeout_s=20.0,
    legacy_full_pings=80,
    legacy_sample_pings=3,
    http_concurrency=2,
    http_seconds=25.0,
    ingest_persons=300,
    single_post_seconds=20.0,
    single_post_connections=32,
    floor_seconds=8.0,
    batch_post_seconds=20.0,
    batch_post_connections=4,
    batch_size=1000,
    ceiling_rows=100_000,
    drain_timeout_s=120.0,
    profile_seconds=8.0,
)

# About 150,000 pings: every phase runs, in a few minutes.
QUICK = BenchSize(
    name="quick",
    conference=dataclasses.replace(BENCH, people=120),
    sample_person_days=10,
    combination_budget_s=6.0,
    min_runs=3,
    max_runs=20,
    statement_timeout_s=5.0,
    legacy_full_pings=60,
    legacy_sample_pings=2,
    http_concurrency=2,
    http_seconds=8.0,
    ingest_persons=100,
    single_post_seconds=8.0,
    single_post_connections=32,
    floor_seconds=4.0,
    batch_post_seconds=8.0,
    batch_post_connections=4,
    batch_size=1000,
    ceiling_rows=20_000,
    drain_timeout_s=60.0,
    profile_seconds=5.0,
)

SIZES = {size.name: size for size in (FULL, QUICK)}
