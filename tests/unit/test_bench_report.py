"""The pure parts of ``make bench``: percentiles, the PASS/MISS decision and the TARGET line scripts read."""

import re
import signal
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from udaconnect_bench.cli import _interrupt
from udaconnect_bench.connection import PageStatement, PageTrace, PersonDay
from udaconnect_bench.ingest import uuid7_at, uuid7_time
from udaconnect_bench.profiling import package_of, summarise
from udaconnect_bench.report import page_trace_section
from udaconnect_bench.stats import Summary, percentile
from udaconnect_bench.targets import Better, Target
from udaconnect_bench.wrk import parse_result
from udaconnect_common.ids import new_id

TARGET_LINE = re.compile(
    r"^TARGET (?P<name>[a-z0-9-]+): (?P<measured>.+) \(goal (?P<goal>.+)\) (?P<outcome>PASS|MISS)$"
)


def test_percentile_interpolates_between_the_closest_ranks() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 0) == 10.0
    assert percentile(values, 100) == 40.0
    assert percentile(values, 50) == pytest.approx(25.0)
    assert percentile(values, 95) == pytest.approx(38.5)
    assert percentile([7.0], 99) == 7.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0  # order of the input does not matter


@pytest.mark.parametrize("q", [-1.0, 100.5])
def test_percentile_refuses_what_is_not_a_percentile(q: float) -> None:
    with pytest.raises(ValueError, match="q must be"):
        percentile([1.0], q)


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_summary_tells_which_percentiles_reach_timed_out_runs() -> None:
    # 20 runs, the 2 slowest cancelled at the timeout: p50 is a value, p95 and p99 only lower bounds.
    summary = Summary.of([float(i) for i in range(18)] + [15.0, 15.0], censored=2)
    assert summary.n == 20
    assert not summary.is_lower_bound(50)
    assert summary.is_lower_bound(95)
    assert summary.is_lower_bound(99)
    assert not Summary.of([1.0, 2.0]).is_lower_bound(99)


@pytest.mark.parametrize(
    ("measured", "goal", "better", "outcome"),
    [
        (1200.0, 1000.0, Better.HIGHER, "PASS"),
        (1000.0, 1000.0, Better.HIGHER, "PASS"),  # the goal itself is met
        (999.0, 1000.0, Better.HIGHER, "MISS"),
        (48.0, 50.0, Better.LOWER, "PASS"),
        (50.0, 50.0, Better.LOWER, "PASS"),
        (51.0, 50.0, Better.LOWER, "MISS"),
    ],
)
def test_pass_or_miss(measured: float, goal: float, better: Better, outcome: str) -> None:
    assert Target("t", measured, goal, better, "ms").outcome == outcome


def test_a_bound_passes_only_when_it_proves_the_goal() -> None:
    # The query hit the timeout: "> 10 s" is not "<= 50 ms".
    assert Target("t", 10.0, 50.0, Better.LOWER, "ms", bound=">").outcome == "MISS"
    # Not everything was stored in time: "< 25,000 pings/s" does not prove ">= 20,000".
    assert Target("t", 25_000.0, 20_000.0, Better.HIGHER, "pings/s", bound="<").outcome == "MISS"
    assert Target("t", 25_000.0, 20_000.0, Better.HIGHER, "pings/s", bound=">").outcome == "PASS"


def test_the_target_line_is_exactly_what_scripts_read() -> None:
    lines = [
        Target("connection-vs-legacy", 1234.5, 1000.0, Better.HIGHER, "x").line(),
        Target("copresence-p95", 48.25, 50.0, Better.LOWER, "ms").line(),
        Target("persistence-vs-copy", 38.6, 50.0, Better.HIGHER, "%").line(),
        Target("copresence-p95", 10_000.0, 50.0, Better.LOWER, "ms", bound=">").line(),
    ]
    assert lines == [
        "TARGET connection-vs-legacy: 1,234x (goal >= 1,000x) PASS",
        "TARGET copresence-p95: 48.2 ms (goal <= 50.0 ms) PASS",
        "TARGET persistence-vs-copy: 38.6% (goal >= 50.0%) MISS",
        "TARGET copresence-p95: >10,000 ms (goal <= 50.0 ms) MISS",
    ]
    for line in lines:
        assert TARGET_LINE.match(line), line


def test_uuid7_bounds_bracket_the_ids_the_apis_make() -> None:
    before = uuid7_at(1_700_000_000.0)
    after = uuid7_at(1_700_000_000.0, high=True)
    assert before < after
    assert uuid7_time(before) == pytest.approx(1_700_000_000.0)
    fresh = new_id()
    assert uuid7_at(uuid7_time(fresh)) <= fresh <= uuid7_at(uuid7_time(fresh), high=True)


def test_wrk_result_line_is_parsed() -> None:
    output = (
        "Running 8s test @ http://127.0.0.1:1\n"
        "WRK-RESULT requests=1000 duration_us=2000000 connect_errors=0 read_errors=1 write_errors=0 status_errors=10 "
        "timeouts=2 p50_us=1500 p95_us=4000 p99_us=9000 max_us=12000\n"
    )
    result = parse_result(output)
    assert result.succeeded == 990
    assert result.succeeded_per_s == pytest.approx(495.0)
    assert result.failed == 13
    assert result.p99_ms == pytest.approx(9.0)


def test_profile_summary_groups_samples_by_package_and_function() -> None:
    collapsed = [
        'process 42:"/somewhere/bin/python /somewhere/bin/location-api" ();'
        "main (location_api/main.py:31);Handle._run (asyncio/events.py:80);send (udaconnect_common/kafka.py:84) 3",
        "main (location_api/main.py:31);Handle._run (asyncio/events.py:81) 1",
    ]
    profile = summarise("location-api", 1.0, collapsed)
    assert profile.samples == 4
    assert profile.python_busy_share == pytest.approx(0.04)
    assert profile.by_package == [("udaconnect_common", 0.75), ("asyncio", 0.25)]
    assert profile.top_self[0] == ("send (udaconnect_common/kafka.py)", 0.75)
    assert ("main (location_api/main.py)", 1.0) in profile.top_project
    assert not any("somewhere" in name for name, _ in profile.top_self + profile.top_project)
    assert package_of("threading.py") == "threading"
    assert package_of("<frozen os>") == "frozen"


def test_a_second_interrupt_cannot_cut_the_benchs_cleanup_short() -> None:
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
            _interrupt(signal.SIGTERM, None)
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])


def test_a_first_page_trace_lists_its_statements_and_the_slowest_plan() -> None:
    day = PersonDay(uuid.UUID(int=7), date(2026, 6, 2), pings=118, event_pings=400)
    start = datetime(2026, 6, 2, 8, 0, tzinfo=UTC)
    trace = PageTrace(
        day,
        seconds=0.040,
        statements=[
            PageStatement("jump", start.replace(hour=0), start.replace(hour=23), 1, 0.004),
            PageStatement("read", start, start + timedelta(minutes=2), 1001, 0.030),
        ],
        slowest_plan="Limit (actual time=0.1..29.0 rows=1001 loops=1)",
    )

    section = page_trace_section(trace, "the slowest first page")

    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in section.splitlines() if line[:2] == "| "]
    assert cells[0] == ["#", "statement", "stretch (UTC)", "rows", "time"]
    assert cells[2] == ["1", "jump", "06-02 00:00:00 to 06-02 23:00:00", "1", "4.0 ms"]
    assert cells[3] == ["2", "read", "06-02 08:00:00 to 06-02 08:02:00", "1,001", "30 ms"]
    assert "40 ms in all, 34 ms of it in its statements" in section
    assert "Limit (actual time=0.1..29.0 rows=1001 loops=1)" in section
