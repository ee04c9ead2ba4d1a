"""The printed table and ``docs/benchmarks.md``: machine, versions, data size, figures, ratios, profiles of misses."""

from collections.abc import Sequence
from datetime import UTC, datetime

from udaconnect_bench import connection, http_targets, profiling
from udaconnect_bench.connection import COPRESENCE, LEGACY_SEMANTICS, PageTrace
from udaconnect_bench.ingest import BatchedWrite, HttpIngest
from udaconnect_bench.run import SERVICES, BenchResult, ConnectionResults, IngestResults
from udaconnect_bench.stats import Summary, percentile
from udaconnect_bench.targets import Target

MIB = 2**20


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table, padded so that it also reads well in a terminal."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(header), "| " + " | ".join("-" * w for w in widths) + " |", *(line(r) for r in rows)])


def ms(seconds: float) -> str:
    value = seconds * 1000
    if value >= 10_000:
        return f"{value / 1000:,.1f} s"
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _bounded(summary: Summary, q: float, value: float) -> str:
    return (">" if summary.is_lower_bound(q) else "") + ms(value)


def _ratio(value: float) -> str:
    return f"{value:,.0f}x" if value >= 10 else f"{value:.1f}x"


def target_lines(targets: Sequence[Target]) -> str:
    return "\n".join(t.line() for t in targets)


# -- sections ------------------------------------------------------------------------------------------------


def targets_section(result: BenchResult) -> str:
    rows = [[t.name, t.measured_text, t.goal_text, t.outcome, t.what] for t in result.targets]
    return table(["target", "measured", "goal", "outcome", "what"], rows)


def connection_table(conn: ConnectionResults) -> str:
    rows = []
    for combination, runs in conn.runs.items():
        summary = runs.summary()
        answered = [r for r in runs.rows if r >= 0]
        legacy = Summary.of(conn.legacy_estimates(combination))
        ratio = legacy.p50 / summary.p50
        rows.append(
            [
                combination.label,
                f"{summary.n}" + (f" ({runs.timeouts} timed out)" if runs.timeouts else ""),
                f"{percentile(answered, 50):,.0f}" if answered else "-",
                _bounded(summary, 50, summary.p50),
                _bounded(summary, 95, summary.p95),
                ms(runs.first_page_summary().p50),
                ms(runs.first_page_summary().p95),
                ms(conn.legacy_per_ping[(combination.whole_event, combination.distance_m)].mean_s),
                ms(legacy.p50),
                ms(legacy.p95),
                ("<" if summary.is_lower_bound(50) else "") + _ratio(ratio),
            ]
        )
    header = [
        "combination",
        "runs",
        "rows p50",
        "whole answer p50",
        "whole answer p95",
        "first page p50",
        "first page p95",
        "legacy per ping",
        "legacy p50 (est.)",
        "legacy p95 (est.)",
        "ratio p50",
    ]
    return table(header, rows)


def legacy_full_section(conn: ConnectionResults) -> str:
    full = conn.legacy_full
    run = full.run
    day = full.person_day
    missing = len(full.service_ids - run.ids)
    extra = len(run.ids - full.service_ids)
    verdict = "yes" if full.same_answer else f"NO: {missing} only in the service's, {extra} only in the legacy's"
    rows = [
        ["person-day", f"person {day.person_id}, {day.day}, {day.pings} pings"],
        ["legacy: own pings query", ms(run.own_pings_seconds)],
        [
            "legacy: per-ping queries",
            f"{len(run.per_ping_seconds)} x {ms(sum(run.per_ping_seconds) / max(1, len(run.per_ping_seconds)))} mean",
        ],
        ["legacy: total", ms(run.seconds)],
        ["legacy: rows returned (duplicates included)", f"{run.rows:,}"],
        ["legacy: distinct other pings", f"{len(run.ids):,}"],
        ["service: whole answer, one statement (median of 3)", ms(full.service_median_s)],
        ["service: other pings", f"{len(full.service_ids):,}"],
        ["ratio legacy / service whole answer", _ratio(full.ratio)],
        [
            f"service: first page of {connection.HTTP_PAGE:,}, as the API reads it (median of 3)",
            ms(full.first_page_median_s),
        ],
        ["ratio legacy / service first page", _ratio(full.first_page_ratio)],
        ["same set of other pings", verdict],
    ]
    return table(["legacy algorithm in full", ""], rows)


def per_ping_section(conn: ConnectionResults) -> str:
    rows = []
    for (whole_event, distance), per_ping in conn.legacy_per_ping.items():
        span = "whole event" if whole_event else "1 day"
        jit = ms(sum(per_ping.jit_off_seconds) / len(per_ping.jit_off_seconds)) if per_ping.jit_off_seconds else "-"
        rows.append(
            [
                f"{span}, {distance:g} m",
                f"{len(per_ping.seconds)}",
                ", ".join(ms(s) for s in per_ping.seconds),
                f"{sum(per_ping.rows) / max(1, len(per_ping.rows)):,.0f}",
                jit,
                f"{per_ping.contained}/{per_ping.checked}",
            ]
        )
    header = [
        "range, distance",
        "pings",
        "seconds each",
        "rows each (mean)",
        "mean with jit=off",
        "answer inside service's",
    ]
    return table(header, rows)


def http_section(conn: ConnectionResults) -> str:
    http = conn.http
    if not http.seconds:
        return f"No successful request ({http.errors} errors)."
    summary = Summary.of(http.seconds)
    sql_summary = Summary.of(http.sql_seconds)
    rows = [
        [
            f"HTTP GET, {http.concurrency} clients",
            f"{summary.n} ({http.errors} errors)",
            f"{summary.n / http.wall_s:.1f}",
            ms(summary.p50),
            ms(summary.p95),
            ms(summary.p99),
        ],
        [
            "the same page, the service's reader without HTTP, alone",
            f"{sql_summary.n}",
            "-",
            ms(sql_summary.p50),
            ms(sql_summary.p95),
            ms(sql_summary.p99),
        ],
    ]
    text = table(["co-presence, first page", "requests", "req/s", "p50", "p95", "p99"], rows)
    text += f"\n\nHTTP p95 / no-HTTP p95: {_ratio(summary.p95 / sql_summary.p95)}."
    if http.all_pages_person_day is not None:
        day = http.all_pages_person_day
        complete = "" if http.all_pages_complete else " (stopped by the time budget before the last page)"
        text += (
            f" A client that wants the whole co-presence answer of one person-day (person {day.person_id}, {day.day},"
            f' {day.pings} pings) follows `Link: rel="next"`: {abs(http.all_pages)} pages, {http.all_pages_rows:,}'
            f" rows in {ms(http.all_pages_s)}{complete}."
        )
    return text


def _timed_row(timed: http_targets.Timed) -> list[str]:
    if not timed.seconds:
        return [timed.label, str(timed.asked), str(timed.refused), "-", "-", "-"]
    summary = Summary.of(timed.seconds)
    return [timed.label, str(timed.asked), str(timed.refused), ms(summary.p50), ms(summary.p95), ms(summary.maximum)]


def over_http_section(conn: ConnectionResults) -> str:
    over = conn.over_http
    rows = [_timed_row(timed) for timed in over.contacts_first_page.values()]
    rows += [_timed_row(timed) for timed in over.contacts_whole.values()]
    rows += [_timed_row(over.copresence_first_page), _timed_row(over.legacy_whole)]
    text = table(["request", "asked", "422", "p50", "p95", "max"], rows)
    worst = [[label, f"HTTP {status}", ms(seconds)] for label, seconds, status in over.worst]
    return text + "\n\nThe costly requests, each once:\n\n" + table(["request", "answer", "time"], worst)


def _ingest_row(run: HttpIngest, ceiling: BatchedWrite) -> list[str]:
    lag = run.lag_summary()
    return [
        f"`POST {run.endpoint}` ({run.pings_per_request} per request, {run.connections} connections)",
        f"{run.requests_per_s:,.0f}",
        f"{run.accepted_pings_per_s:,.0f}",
        f"{run.wrk.p50_ms:.1f} / {run.wrk.p99_ms:.1f} ms",
        f"{run.end_to_end_pings_per_s:,.0f}" + ("" if run.drained else " (not drained)"),
        f"{100 * run.end_to_end_pings_per_s / ceiling.rows_per_s:.0f}%",
        "-" if lag is None else f"{lag.p50:.1f} / {lag.p95:.1f} / {lag.maximum:.1f} s",
        f"{run.wrk.failed}",
    ]


def ingest_section(ing: IngestResults) -> str:
    header = [
        "ingest",
        "requests/s",
        "pings/s accepted",
        "HTTP p50 / p99",
        "pings/s end to end",
        "of COPY",
        "lag p50 / p95 / max",
        "errors",
    ]
    rows = [_ingest_row(ing.single, ing.copy), _ingest_row(ing.batch, ing.copy)]
    for write in (ing.copy, ing.persistence, ing.store):
        rows.append(
            [
                f"{write.what}, {write.batch_size} rows per transaction",
                f"{len(write.batch_seconds) / write.seconds:,.0f}",
                "-",
                f"{ms(percentile(write.batch_seconds, 50))} / {ms(percentile(write.batch_seconds, 99))}",
                f"{write.rows_per_s:,.0f}",
                f"{100 * write.rows_per_s / ing.copy.rows_per_s:.0f}%",
                "-",
                "0",
            ]
        )
    return table(header, rows)


def memory_section(result: BenchResult) -> str:
    rows = []
    for name, peak in sorted(result.peak_rss.items(), key=lambda item: (item[0] not in SERVICES, item[0])):
        if name.startswith("bench"):
            continue
        kind = "service" if name in SERVICES else "infrastructure (not a target)"
        rows.append([name, kind, f"{peak / MIB:,.0f} MB", str(result.peak_processes.get(name, 1))])
    return table(["process", "kind", "peak RSS", "processes"], rows)


def cpu_section(result: BenchResult) -> str:
    groups = list(result.peak_rss)
    rows = []
    for phase in result.phases:
        if phase.seconds < 1:
            continue
        rows.append(
            [phase.name, f"{phase.seconds:.0f} s"]
            + [f"{100 * phase.cpu_seconds.get(g, 0.0) / phase.seconds:.0f}%" for g in groups]
        )
    return table(["phase", "wall", *groups], rows)


def profile_section(profiles: Sequence[profiling.Profile]) -> str:
    parts = []
    for profile in profiles:
        packages = ", ".join(f"{name} {share:.0%}" for name, share in profile.by_package[:8])
        top_self = table(
            ["self time", "function"], [[f"{share:.0%}", f"`{name}`"] for name, share in profile.top_self[:10]]
        )
        project = table(
            ["inclusive", "project function"],
            [[f"{share:.0%}", f"`{name}`"] for name, share in profile.top_project[:8]],
        )
        parts.append(
            f"**{profile.service}**: Python busy {profile.python_busy_share:.0%} of {profile.seconds:.0f} s "
            f"({profile.samples} samples with the GIL). By package: {packages}.\n\n{top_self}\n\n{project}"
        )
    return "\n\n".join(parts)


def _plan(title: str, plan: str) -> str:
    return f"<details><summary>{title}</summary>\n\n```\n{plan}\n```\n\n</details>"


def page_trace_section(trace: PageTrace, whose: str) -> str:
    """A first page statement by statement, and the plan of its slowest statement."""
    day = trace.person_day
    rows = [
        [
            str(number),
            statement.kind,
            f"{statement.stretch_start:%m-%d %H:%M:%S} to {statement.stretch_end:%m-%d %H:%M:%S}",
            f"{statement.rows:,}",
            ms(statement.seconds),
        ]
        for number, statement in enumerate(trace.statements, start=1)
    ]
    in_sql = sum(statement.seconds for statement in trace.statements)
    return (
        f"The first page of {whose} (person {day.person_id}, {day.day}, {day.pings} pings), read again by the SQL "
        "reader (what answers while the index loads) with each statement timed: "
        f"{ms(trace.seconds)} in all, {ms(in_sql)} of it in its statements (the rest is Python: "
        "building the page, the driver). A *jump* finds where something may be near next; a *read* reads a "
        "stretch of the others' time.\n\n"
        + table(["#", "statement", "stretch (UTC)", "rows", "time"], rows)
        + "\n\n`EXPLAIN (ANALYZE, BUFFERS)` of the slowest statement:\n\n"
        + _plan("plan", trace.slowest_plan)
    )


def where_the_time_goes(result: BenchResult) -> str:
    missed = [t for t in result.targets if not t.passed]
    if not missed:
        return "Every target is met."
    parts = []
    conn = result.connection
    for target in missed:
        parts.append(f"### {target.name}: {target.measured_text} (goal {target.goal_text})")
        if target.name == "connection-vs-legacy" and conn is not None:
            parts.append(page_trace_section(conn.legacy_full.first_page_trace, "the legacy comparison's person-day"))
        elif target.name == "copresence-p95" and conn is not None:
            parts.append(page_trace_section(conn.copresence_trace, "the slowest first page of the sample"))
        elif target.name == "memory-peak-rss":
            parts.append("See the memory table: the peak is the sum over the service's processes.")
        profiles = result.profiles.get(target.name)
        if profiles:
            parts.append(profile_section(profiles))
    return "\n\n".join(parts)


# -- documents ---------------------------------------------------------------------------------------------


def console(result: BenchResult) -> str:
    parts = [f"UdaConnect benchmark, size {result.size.name}, {result.seconds / 60:.1f} min"]
    if result.data is not None:
        parts.append(f"data: {result.data.persons:,} persons, {result.data.pings:,} pings")
    if result.connection is not None:
        parts += [
            connection_table(result.connection),
            legacy_full_section(result.connection),
            http_section(result.connection),
        ]
    if result.ingest is not None:
        parts.append(ingest_section(result.ingest))
    parts += [memory_section(result), targets_section(result)]
    return "\n\n".join(parts)


def markdown(result: BenchResult) -> str:
    before, after = result.machine_before, result.machine_after
    size = result.size
    overrides = (
        "; ".join(
            f"{service}: " + ", ".join(f"`{k}={v}`" for k, v in env.items())
            for service, env in result.service_env.items()
        )
        or "none (every service with its defaults)"
    )
    load_before = " ".join(f"{value:.2f}" for value in before.load_average)
    load_after = " ".join(f"{value:.2f}" for value in after.load_average) if after else "-"
    parts = [
        "# Benchmarks",
        f"Generated by `make bench{'' if size.name == 'full' else ' SIZE=' + size.name}` "
        f"(`udaconnect-bench --size {size.name}`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in "
        f"{result.seconds / 60:.1f} minutes; do not edit by hand, run it again. The speed targets of the project "
        "live here, not in timed unit tests.",
        "## Outcome",
        targets_section(result),
        "```\n" + target_lines(result.targets) + "\n```",
        "## Machine",
        table(
            ["", ""],
            [
                ["CPU", f"{before.cpu_model}, {before.cores} cores"],
                ["memory", f"{before.memory_gib:.1f} GiB"],
                ["kernel", before.kernel],
                ["load average before / after (1, 5, 15 min)", f"{load_before} / {load_after}"],
            ],
        ),
        "Everything runs on this one machine: PostgreSQL, Kafka, the five services, and the load generators (wrk "
        "and this program). A load average above zero before the run means something else was using the cores.",
    ]
    if result.versions is not None:
        v = result.versions
        rows = [
            ["PostgreSQL", v.postgresql],
            ["PostGIS", v.postgis],
            ["Kafka", v.kafka],
            ["librdkafka", v.librdkafka],
            ["Python", v.python],
            ["wrk", v.wrk],
            *([name, version] for name, version in v.libraries.items()),
        ]
        parts += ["## Versions", table(["component", "version"], rows)]
    if result.data is not None:
        d = result.data
        spec = size.conference
        parts += [
            "## Data",
            f"The demo conference generator (`udaconnect_demo`, seed {spec.seed}): {d.persons:,} people over "
            f"{spec.days} days, a ping every {spec.ping_interval_seconds} s on average, in a 200 m x 150 m venue: "
            f"**{d.pings:,} pings** from {d.first_time:%Y-%m-%d %H:%M} to {d.last_time:%Y-%m-%d %H:%M} UTC. "
            f"`location` takes {d.table_bytes / MIB:,.0f} MB, its indexes {d.index_bytes / MIB:,.0f} MB. "
            f"Loaded with `COPY` (ids as the APIs make them for the same idempotency keys) into a staging table, "
            f"then `INSERT ... SELECT` in time order through the real schema and indexes: "
            f"{d.generate_and_copy_s:.0f} s generating + COPY, {d.insert_s:.0f} s insert, "
            f"{d.legacy_s:.0f} s for the legacy table.",
            f"Service settings: {overrides}.",
        ]
    if result.connection is not None:
        conn = result.connection
        parts += [
            "## Connection query",
            f"A seeded sample of {len(conn.sample)} person-days; each combination runs the service's statement for "
            "the whole answer (`connections_statement` over the whole range, compiled by SQLAlchemy for psycopg, as "
            "the read-only role, every row: no page limit) round robin over it, "
            f"for {size.combination_budget_s:.0f} s or at least {size.min_runs} runs "
            f"(co-presence: {2 * len(conn.sample)} runs); a statement is cancelled after "
            f"{size.statement_timeout_s:.0f} s and counted at that time (a `>` marks a percentile that reaches such "
            "runs). The whole event is "
            f"{conn.event.first_day} to {conn.event.last_day}. **Legacy** columns are estimates: the legacy per-ping "
            f"cost, measured on {size.legacy_sample_pings} pings of the sample per range and distance, times the "
            "person's pings in the range (the legacy has no window: its cost is the no-window cost). **First page**: "
            f"the first {connection.HTTP_PAGE:,} rows (the API's largest page) read as the API reads them "
            "(`IndexedConnectionReader`: the in-memory index, loaded in the bench's process as the service loads it, "
            "searched in stretches of time from the cursor on until the page is full, then the page's rows by key), "
            f"{connection.FIRST_PAGE_ROUNDS} rounds over the sample; ratio p50 is the legacy's estimate over the "
            "whole answer's.",
            "**What the targets time.** The API answers a request with one page (DESIGN: lists are paged, nothing "
            'is cut off silently; a client follows `Link: rel="next"` for more), so the two connection targets '
            "time the query a request runs: the first page of the largest size. The legacy sent the whole answer, "
            "duplicates included, in one response, and nothing before it. The whole answer in one statement is "
            "reported beside every figure: with the legacy's semantics a busy person-day has 130,000 to 200,000 "
            "other pings near, and producing that many rows takes PostgreSQL longer than the targets allow "
            "before any search.",
            connection_table(conn),
            f"The legacy algorithm in full, in the same run on the same database, for the person-day whose ping "
            f"count is closest to {size.legacy_full_pings} ({LEGACY_SEMANTICS.label}, the legacy's semantics; its "
            "duplicates removed, its date range made equal to the service's, its latitude/longitude swap undone, "
            "which changes the answer but not the cost):",
            legacy_full_section(conn),
            "The legacy per-ping cost (each of these pings' answer must lie inside the service's answer for the "
            "same person and range, when the service's statement finished):",
            per_ping_section(conn),
            "The legacy's query is a full scan whose estimated cost makes PostgreSQL compile it with JIT (its default "
            "`jit = on`); the jit=off column shows the legacy's cost without that.",
            "### HTTP endpoint",
            f"`GET /api/persons/{{id}}/connection` with the co-presence parameters ({COPRESENCE.label}), first page "
            f"(`limit={connection.HTTP_PAGE}`, the maximum), {conn.http.concurrency} concurrent clients over the same "
            f"sample for {size.http_seconds:.0f} s, timed to the last byte; against the same first page read by the "
            "service's own reader in this process, one at a time (with a window it reads the range in slices of "
            "time from the cursor on until the page is full, so a first page costs what its rows cost, not what "
            "the whole answer costs).",
            http_section(conn),
            "### What a user waits for, over HTTP",
            "Each request from this process to the API, timed to the last byte, one at a time. Contacts: once per "
            "sampled person over the whole event, the first page (limit "
            f"{http_targets.CONTACTS_PAGE}) and then every page followed. A 422 is the API refusing a question "
            "that needs more than a request's budget of database time (`QUERY_BUDGET_MS`): not an answer.",
            over_http_section(conn),
        ]
    if result.ingest is not None:
        ing = result.ingest
        parts += [
            "## Ingest",
            f"{ing.persons} persons created through `POST /api/persons` first. `wrk` (one thread) posts for "
            f"{size.single_post_seconds:.0f} s (single) and {size.batch_post_seconds:.0f} s (batches of "
            f"{size.batch_size} real pings of the conference); requests/s counts `202` answers. End to end: every "
            "ping accepted until the last one is a row in `location`; the lag is the age of the newest stored ping, "
            "read four times a second from the time in its UUIDv7 (the API's accept time). The ceiling: the same "
            f"rows (fresh ids) with `COPY` into the same table, {ing.copy.batch_size} rows per transaction (the "
            "ingest consumer's batch size), COPY text built before the clock starts; and the persistence service "
            "alone, `SaveLocations` with the same batches, one call at a time like the consumer; and the service's "
            "own store (`SqlStore.save_locations`) called in this process: the service without gRPC, protobuf and "
            "validation.",
            ingest_section(ing),
        ]
    parts += [
        "## Memory",
        "Peak RSS, sampled four times a second during the whole run (a service's processes summed).",
        memory_section(result),
        "## CPU by phase",
        "CPU time per process group as a share of one core (200% = both cores).",
        cpu_section(result),
        "## Where the time goes",
        where_the_time_goes(result),
    ]
    return "\n\n".join(parts) + "\n"
