"""The in-memory contacts index on the real database: its feed follows every committed row once, in
whatever order writers commit, and the connection API answers contacts from it."""

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import psycopg
import pytest

from connection_api.contacts_feed import ContactsFeed, Loaded
from tests.support import scrape
from udaconnect_common.db import create_read_engine
from udaconnect_devstack.stack import LocalStack

pytestmark = pytest.mark.integration

# Tromsø harbour, on a day of its own: far from every other test's data.
LATITUDE, LONGITUDE = 69.6496, 18.9560
DAY = datetime(2027, 3, 3, 12, tzinfo=UTC)
INSERT_PING = (
    "INSERT INTO location (id, person_id, coordinate, creation_time) "
    "VALUES (%s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s)"
)


def _new_person(stack: LocalStack) -> uuid.UUID:
    person_id = uuid.uuid4()
    with psycopg.connect(stack.owner_libpq_dsn, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO person (id, first_name, last_name, company_name) VALUES (%s, 'Feed', 'Follower', 'Index')",
            (person_id,),
        )
    return person_id


def _recent_of(loaded: Loaded, person_id: uuid.UUID) -> int:
    number = loaded.snapshot.persons.get(person_id)
    if number is None:
        return 0
    return int(np.count_nonzero(loaded.snapshot.recent_pings.person == number))


def test_rows_committed_out_of_order_are_each_seen_once(stack: LocalStack) -> None:
    async def scenario() -> None:
        engine = create_read_engine(stack.reader_url)
        feed = ContactsFeed(engine, stack.reader_url, 10_000_000)
        try:
            loaded = await feed.load()
            person_id = _new_person(stack)
            with (
                psycopg.connect(stack.owner_libpq_dsn) as first,
                psycopg.connect(stack.owner_libpq_dsn) as second,
            ):
                # The first transaction stores its ping first (the older transaction id) but commits last.
                first.execute(INSERT_PING, (uuid.uuid4(), person_id, LONGITUDE, LATITUDE, DAY))
                second.execute(INSERT_PING, (uuid.uuid4(), person_id, LONGITUDE, LATITUDE, DAY + timedelta(minutes=1)))
                second.commit()
                seen_second = await feed.refresh(loaded)
                first.commit()
            seen_both = await feed.refresh(seen_second) if seen_second else None
            again = await feed.refresh(seen_both) if seen_both else None
        finally:
            await engine.dispose()
        assert seen_second is not None
        assert seen_both is not None
        assert again is not None
        assert _recent_of(seen_second, person_id) == 1
        assert _recent_of(seen_both, person_id) == 2
        assert _recent_of(again, person_id) == 2

    asyncio.run(scenario())


def test_a_new_partition_needs_a_full_load_and_a_deletion_asks_for_one(stack: LocalStack) -> None:
    async def scenario() -> tuple[Loaded | None, Loaded | None]:
        engine = create_read_engine(stack.reader_url)
        feed = ContactsFeed(engine, stack.reader_url, 10_000_000)
        try:
            loaded = await feed.load()
            with psycopg.connect(stack.owner_libpq_dsn, autocommit=True) as connection:
                connection.execute("INSERT INTO deleted_person (id) VALUES (%s)", (uuid.uuid4(),))
            after_deletion = await feed.refresh(loaded)
            with psycopg.connect(stack.owner_libpq_dsn, autocommit=True) as connection:
                connection.execute("SELECT ensure_location_partition('2031-07-07')")
            after_partition = await feed.refresh(after_deletion) if after_deletion else None
        finally:
            await engine.dispose()
        return after_deletion, after_partition

    after_deletion, after_partition = asyncio.run(scenario())

    assert after_deletion is not None
    assert after_deletion.stale
    assert after_partition is None


def test_too_many_pings_are_refused_before_they_are_read(stack: LocalStack) -> None:
    async def scenario() -> None:
        engine = create_read_engine(stack.reader_url)
        try:
            with pytest.raises(Exception, match="more than the 0 the index may hold"):
                await ContactsFeed(engine, stack.reader_url, 0).load()
        finally:
            await engine.dispose()

    with psycopg.connect(stack.owner_libpq_dsn, autocommit=True) as connection:
        connection.execute(INSERT_PING, (uuid.uuid4(), _new_person(stack), LONGITUDE, LATITUDE, DAY))
    asyncio.run(scenario())


def test_the_api_answers_contacts_from_the_index_with_pings_stored_after_it_loaded(
    stack: LocalStack, connection_api: httpx.Client
) -> None:
    me, other = _new_person(stack), _new_person(stack)
    when = DAY + timedelta(days=1)
    with psycopg.connect(stack.owner_libpq_dsn, autocommit=True) as connection:
        for minute in range(3):
            at = when + timedelta(minutes=minute)
            connection.execute(INSERT_PING, (uuid.uuid4(), me, LONGITUDE, LATITUDE, at))
            connection.execute(INSERT_PING, (uuid.uuid4(), other, LONGITUDE + 0.00002, LATITUDE, at))
    metrics = f"{stack.url('connection-api')}/metrics"
    day = when.date().isoformat()
    params: dict[str, str | int] = {"start_date": day, "end_date": day, "distance": 5, "window": 1}

    # SQL answers while the index loads (another test may have just changed the partitions): soon, the index.
    deadline = time.monotonic() + 60
    while True:
        before = scrape(metrics)
        response = connection_api.get(f"/api/persons/{me}/contacts", params=params)
        if scrape(metrics)("contacts_answers_total", by="index") > before("contacts_answers_total", by="index"):
            break
        assert time.monotonic() < deadline, "the index never answered"
        time.sleep(0.5)

    assert response.status_code == 200, response.text
    [contact] = response.json()
    assert contact["person"]["id"] == str(other)
    assert contact["encounters"] == 3
    # 0.00002 degrees of longitude at 69.65 N: 0.775 m.
    assert contact["closest_distance_m"] == pytest.approx(0.775, abs=0.01)
