"""Connection pages from the in-memory index against the SQL reader's, on the real database: the same
rows in the same order, page after page, with crowds of pings at one instant (ties broken by id) and a
person's second ping at the same instant elsewhere (not near, though it shares a person and a time)."""

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from prometheus_client import REGISTRY

from connection_api.adapters import SqlConnectionReader
from connection_api.contacts_feed import ContactsFeed, ContactsIndex
from connection_api.contacts_reader import IndexedConnectionReader
from connection_api.ports import ConnectionReader
from connection_api.proximity import Proximity
from udaconnect_common.db import create_read_engine
from udaconnect_common.timerange import TimeRange
from udaconnect_devstack.stack import LocalStack

pytestmark = pytest.mark.integration

# Reykjavik, on days of its own: far from every other test's data.
LATITUDE, LONGITUDE = 64.1466, -21.9426
DAY = datetime(2027, 5, 5, tzinfo=UTC)
METRES_PER_DEGREE_LATITUDE = 111_200.0
METRES_PER_DEGREE_LONGITUDE = 48_600.0  # at this latitude


def _place(rng: random.Random, spread_m: float) -> tuple[float, float]:
    north, east = rng.uniform(-spread_m, spread_m), rng.uniform(-spread_m, spread_m)
    return LATITUDE + north / METRES_PER_DEGREE_LATITUDE, LONGITUDE + east / METRES_PER_DEGREE_LONGITUDE


@pytest.fixture(scope="module")
def subject(stack: LocalStack) -> uuid.UUID:
    """Twenty persons in a 30 m square over a morning, at whole seconds (so many share an instant), and
    crowds of the others at one instant on one of the subject's pings."""
    rng = random.Random(20270505)
    persons = [uuid.uuid4() for _ in range(20)]
    me = persons[0]
    rows: list[tuple[uuid.UUID, uuid.UUID, float, float, datetime]] = []
    for person in persons:
        for _ in range(120):
            latitude, longitude = _place(rng, 15.0)
            at = DAY + timedelta(hours=8, seconds=rng.randrange(0, 4 * 3600))
            rows.append((uuid.uuid4(), person, longitude, latitude, at))
    for minute in (30, 90, 150):
        at = DAY + timedelta(hours=8, minutes=minute)
        rows.append((uuid.uuid4(), me, LONGITUDE, LATITUDE, at))
        for other in persons[1:12]:
            rows.append((uuid.uuid4(), other, LONGITUDE, LATITUDE + 1e-6, at))
            # The same person at the same instant, 40 m away: near only at 50 m.
            rows.append((uuid.uuid4(), other, LONGITUDE, LATITUDE + 40 / METRES_PER_DEGREE_LATITUDE, at))
    with psycopg.connect(stack.owner_libpq_dsn) as connection, connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO person (id, first_name, last_name, company_name) VALUES (%s, 'Page', 'Reader', 'Index')",
            [(person,) for person in persons],
        )
        cursor.executemany(
            "INSERT INTO location (id, person_id, coordinate, creation_time) "
            "VALUES (%s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s)",
            rows,
        )
    return me


async def _whole_answer(reader: ConnectionReader, query: Proximity, limit: int) -> tuple[list[tuple[str, str]], int]:
    """Every page followed as a client follows the next links: (time, id) of each row, and the pages."""
    rows: list[tuple[str, str]] = []
    after: tuple[datetime, uuid.UUID] | None = None
    pages = 0
    while True:
        page = await reader.connections(query, limit, after)
        pages += 1
        assert len(page.connections) <= limit
        rows.extend((c["location"]["creation_time"].isoformat(), str(c["location"]["id"])) for c in page.connections)
        if page.has_more:
            last = page.connections[-1]["location"]
            after = (last["creation_time"], last["id"])
        elif page.resume_at is not None:
            after = (page.resume_at, uuid.UUID(int=0))
        else:
            return rows, pages


CASES = [
    # distance m, window minutes, page size
    (5.0, None, 4),
    (5.0, None, 7),
    (5.0, 5, 3),
    (50.0, None, 13),
    (50.0, 2, 1000),
    (0.5, None, 2),
]


def test_index_pages_equal_the_sql_pages(stack: LocalStack, subject: uuid.UUID) -> None:
    async def scenario() -> None:
        engine = create_read_engine(stack.reader_url)
        index = ContactsIndex(ContactsFeed(engine, stack.reader_url, 10_000_000))
        sql = SqlConnectionReader(engine)
        indexed = IndexedConnectionReader(sql, engine, index)
        try:
            index.start()
            for _ in range(600):
                if await index.current() is not None:
                    break
                await asyncio.sleep(0.2)
            else:
                pytest.fail("the index did not load within two minutes")
            period = TimeRange(DAY, DAY + timedelta(days=1))
            for distance, window, limit in CASES:
                query = Proximity(subject, period, distance, None if window is None else timedelta(minutes=window))
                answered = REGISTRY.get_sample_value("connection_pages_total", {"by": "index"}) or 0.0
                from_index, index_pages = await _whole_answer(indexed, query, limit)
                assert REGISTRY.get_sample_value("connection_pages_total", {"by": "index"}) == answered + index_pages
                from_sql, _ = await _whole_answer(sql, query, limit)
                case = f"{distance} m, window {window}, pages of {limit}"
                assert from_index == from_sql, case
                assert len(from_index) == len(set(from_index)), case
                assert len(from_index) > limit, case
                print(f"{case}: {len(from_index)} rows in {index_pages} pages, the same as SQL's")
        finally:
            await index.close()
            await engine.dispose()

    asyncio.run(scenario())
