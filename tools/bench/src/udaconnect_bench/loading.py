"""Loads the generated conference straight into PostgreSQL with COPY, and builds the legacy table beside it.

The ids are the ones the APIs would give the same data posted with its idempotency keys (UUIDv5 of the
key per resource), so a benchmark database holds what an ingest through the APIs would have stored.
Pings are stored in time order, as an ingest of live phones would append them.
"""

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import psycopg

from udaconnect_common.ids import LOCATION_ID_NAMESPACE, PERSON_ID_NAMESPACE, id_for_idempotency_key
from udaconnect_demo.generator import Conference

# Pings go to a staging table first: COPY of plain numbers is the cheapest to parse, and the INSERT ... SELECT
# that follows orders them by time and builds the geography in C.
_STAGING_DDL = """
CREATE UNLOGGED TABLE bench_staging (
    id uuid NOT NULL,
    person_id uuid NOT NULL,
    longitude double precision NOT NULL,
    latitude double precision NOT NULL,
    creation_time timestamptz NOT NULL
)
"""
_FROM_STAGING = """
INSERT INTO location (id, person_id, coordinate, creation_time, received_at)
SELECT id, person_id, ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)::geography, creation_time, creation_time
FROM bench_staging
ORDER BY creation_time, id
"""

_DAY_PARTITIONS = """
SELECT ensure_location_partition(day)
FROM (SELECT DISTINCT (creation_time AT TIME ZONE 'UTC')::date AS day FROM bench_staging) AS days
"""

# The legacy monolith's table: geometry, not geography, and only btree indexes. Its query casts the column
# to geography, which no index on the column can serve: every ping of the person costs a full scan.
_LEGACY_DDL = """
CREATE TABLE legacy_location (
    id uuid PRIMARY KEY,
    person_id uuid NOT NULL,
    coordinate geometry(Point, 4326) NOT NULL,
    creation_time timestamptz NOT NULL
)
"""
_LEGACY_FILL = """
INSERT INTO legacy_location (id, person_id, coordinate, creation_time)
SELECT id, person_id, coordinate::geometry, creation_time FROM location ORDER BY creation_time, id
"""
_LEGACY_INDEXES = (
    "CREATE INDEX legacy_location_person_id ON legacy_location (person_id)",
    "CREATE INDEX legacy_location_creation_time ON legacy_location (creation_time)",
)


def person_id(conference: Conference, index: int) -> uuid.UUID:
    return id_for_idempotency_key(PERSON_ID_NAMESPACE, conference.persons[index].idempotency_key)


def location_id(key: str) -> uuid.UUID:
    return id_for_idempotency_key(LOCATION_ID_NAMESPACE, key)


@dataclass(frozen=True)
class LoadedData:
    persons: int
    pings: int
    first_time: datetime
    last_time: datetime
    generate_and_copy_s: float
    insert_s: float
    analyze_s: float
    legacy_s: float
    table_bytes: int
    index_bytes: int

    @property
    def total_s(self) -> float:
        return self.generate_and_copy_s + self.insert_s + self.analyze_s + self.legacy_s


def _staged_rows(conference: Conference) -> Iterator[tuple[uuid.UUID, uuid.UUID, float, float, datetime]]:
    person_ids = [person_id(conference, p.index) for p in conference.persons]
    for ping in conference.iter_pings():
        yield (
            location_id(ping.idempotency_key),
            person_ids[ping.person_index],
            ping.longitude,
            ping.latitude,
            ping.creation_time,
        )


def load_conference(dsn: str, conference: Conference) -> LoadedData:
    """Persons and pings into ``person``/``location`` (the real schema and indexes), then ``legacy_location``."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        started = time.perf_counter()
        with conn.transaction():
            with conn.cursor().copy("COPY person (id, first_name, last_name, company_name) FROM STDIN") as copy:
                for person in conference.persons:
                    copy.write_row(
                        (person_id(conference, person.index), person.first_name, person.last_name, person.company_name)
                    )
            conn.execute(_STAGING_DDL)
            with conn.cursor().copy(
                "COPY bench_staging (id, person_id, longitude, latitude, creation_time) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["uuid", "uuid", "float8", "float8", "timestamptz"])
                for row in _staged_rows(conference):
                    copy.write_row(row)
        copied = time.perf_counter()
        # Each day its partition first, as the persistence service does before it stores a day's pings.
        conn.execute(_DAY_PARTITIONS)
        with conn.transaction():
            conn.execute(_FROM_STAGING)
            conn.execute("DROP TABLE bench_staging")
        inserted = time.perf_counter()
        conn.execute("VACUUM ANALYZE person")
        conn.execute("VACUUM ANALYZE location")
        analyzed = time.perf_counter()
        with conn.transaction():
            conn.execute(_LEGACY_DDL)
            conn.execute(_LEGACY_FILL)
            for ddl in _LEGACY_INDEXES:
                conn.execute(ddl)
        conn.execute("VACUUM ANALYZE legacy_location")
        legacy_done = time.perf_counter()
        summary = conn.execute(
            """
            SELECT count(*), min(creation_time), max(creation_time),
                   (SELECT sum(pg_table_size(relid)) FROM pg_partition_tree('location')),
                   (SELECT sum(pg_indexes_size(relid)) FROM pg_partition_tree('location')),
                   (SELECT count(*) FROM person)
            FROM location
            """
        ).fetchone()
    if summary is None:
        raise RuntimeError("no summary row from the loaded tables")
    pings, first, last, table_bytes, index_bytes, persons = summary
    return LoadedData(
        persons=persons,
        pings=pings,
        first_time=first,
        last_time=last,
        generate_and_copy_s=copied - started,
        insert_s=inserted - copied,
        analyze_s=analyzed - inserted,
        legacy_s=legacy_done - analyzed,
        table_bytes=table_bytes,
        index_bytes=index_bytes,
    )
