"""The database writes. Set-based and idempotent by id: a redelivered batch stores nothing twice."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import psycopg
from sqlalchemy import Connection, Engine, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, TIMESTAMP, UUID
from sqlalchemy.types import Date, Text

from persistence_service.records import LocationRecord, PersonRecord


@dataclass
class StoreResult:
    inserted: int
    already_stored: int
    # Locations not stored because their person is not (yet) in the database.
    unknown_person_ids: set[uuid.UUID] = field(default_factory=set)
    # Persons, or locations of persons, not stored because the person was deleted (a tombstone).
    deleted_person_ids: set[uuid.UUID] = field(default_factory=set)


@dataclass(frozen=True)
class DeleteResult:
    persons_deleted: int
    locations_deleted: int


# One statement per batch: arrays in, unnest, ON CONFLICT DO NOTHING for idempotency.
_INSERT_PERSONS = text(
    """
    INSERT INTO person (id, first_name, last_name, company_name, created_at)
    SELECT * FROM unnest(:ids, :first_names, :last_names, :company_names, :created_ats)
    ON CONFLICT (id) DO NOTHING
    RETURNING id
    """
).bindparams(
    bindparam("ids", type_=ARRAY(UUID(as_uuid=True))),
    bindparam("first_names", type_=ARRAY(Text)),
    bindparam("last_names", type_=ARRAY(Text)),
    bindparam("company_names", type_=ARRAY(Text)),
    bindparam("created_ats", type_=ARRAY(TIMESTAMP(timezone=True))),
)

_IDS = bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))
_EXISTING_PERSONS = text("SELECT id FROM person WHERE id = ANY(:ids)").bindparams(_IDS)
_DELETED_PERSONS = text("SELECT id FROM deleted_person WHERE id = ANY(:ids)").bindparams(_IDS)

# Deletion, in one transaction. The person rows are locked first: a batch of their pings being inserted
# meanwhile either commits before (and its rows are deleted below) or waits and then fails its foreign
# key, so the consumer retries it and finds the tombstone. The tombstone is written before anything is
# deleted, so a person or ping arriving at any point after this commits is refused.
_LOCK_PERSONS = text("SELECT id FROM person WHERE id = ANY(:ids) FOR UPDATE").bindparams(_IDS)
_ADD_TOMBSTONES = text(
    "INSERT INTO deleted_person (id) SELECT unnest(CAST(:ids AS uuid[])) ON CONFLICT (id) DO NOTHING"
).bindparams(_IDS)
_DELETE_LOCATIONS = text("DELETE FROM location WHERE person_id = ANY(:ids)").bindparams(_IDS)
_DELETE_PERSONS = text("DELETE FROM person WHERE id = ANY(:ids)").bindparams(_IDS)

# Locations arrive in batches of hundreds: COPY them (psycopg's C row formatting) into a per-connection
# staging table, then one set-based INSERT. Passing them as array parameters spent most of its time in
# Python building the arrays (profiled: about half of the service's CPU).
_CREATE_STAGING = """
    CREATE TEMPORARY TABLE IF NOT EXISTS incoming_location (
        id uuid, person_id uuid, longitude float8, latitude float8,
        creation_time timestamptz, received_at timestamptz
    ) ON COMMIT DELETE ROWS
"""
# Binary: psycopg writes each value in C and PostgreSQL reads it without parsing text (in process, 5,000-row
# batches: 37,000 rows/s as text, 47,000 as binary).
_COPY_STAGING = (
    "COPY incoming_location (id, person_id, longitude, latitude, creation_time, received_at) FROM STDIN (FORMAT BINARY)"
)
_STAGING_TYPES = ["uuid", "uuid", "float8", "float8", "timestamptz", "timestamptz"]
# ST_MakePoint(x, y): longitude is X, latitude is Y.
# The table is partitioned by day (migration 0006), so its key is (id, creation_time). An id is still stored
# once: a ping whose id is stored within a day of its time is already there. That covers a client that
# retries a request with the same Idempotency-Key and no creation_time, which the API stamps with the time
# it received each attempt. The search is the key's index, in the partitions of those days only.
_INSERT_FROM_STAGING = """
    INSERT INTO location (id, person_id, coordinate, creation_time, received_at)
    SELECT id, person_id, ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)::geography, creation_time, received_at
    FROM incoming_location AS incoming
    WHERE NOT EXISTS (
        SELECT FROM location AS stored
        WHERE stored.id = incoming.id
          AND stored.creation_time BETWEEN incoming.creation_time - interval '1 day'
                                       AND incoming.creation_time + interval '1 day'
    )
    ON CONFLICT (id, creation_time) DO NOTHING
"""
_ENSURE_PARTITION = text("SELECT ensure_location_partition(:day)").bindparams(bindparam("day", type_=Date))
_DROP_PARTITIONS = text("SELECT drop_location_partitions_before(:horizon)").bindparams(
    bindparam("horizon", type_=TIMESTAMP(timezone=True))
)


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


class SqlStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # Days whose partition this process has made sure of (forgotten when retention drops some).
        self._days_ready: set[date] = set()

    def save_persons(self, persons: Sequence[PersonRecord]) -> StoreResult:
        with self._engine.begin() as connection:
            deleted = set(connection.execute(_DELETED_PERSONS, {"ids": [p.id for p in persons]}).scalars())
            unique = list({person.id: person for person in persons if person.id not in deleted}.values())
            if not unique:
                return StoreResult(inserted=0, already_stored=0, deleted_person_ids=deleted)
            inserted = connection.execute(
                _INSERT_PERSONS,
                {
                    "ids": [p.id for p in unique],
                    "first_names": [p.first_name for p in unique],
                    "last_names": [p.last_name for p in unique],
                    "company_names": [p.company_name for p in unique],
                    "created_ats": [p.created_at for p in unique],
                },
            ).all()
        storable = sum(1 for person in persons if person.id not in deleted)
        return StoreResult(inserted=len(inserted), already_stored=storable - len(inserted), deleted_person_ids=deleted)

    def ensure_days(self, days: set[date]) -> None:
        """Create the partitions of ``days`` that do not exist yet, each in a short transaction of its own:
        the DDL locks the table, which must not last as long as a batch's insert."""
        for day in sorted(days - self._days_ready):
            with self._engine.begin() as connection:
                connection.execute(_ENSURE_PARTITION, {"day": day})
            self._days_ready.add(day)

    def drop_days_before(self, horizon: datetime) -> list[str]:
        """Drop every day partition that ended by ``horizon``: retention, one DROP TABLE per day."""
        with self._engine.begin() as connection:
            dropped = list(connection.execute(_DROP_PARTITIONS, {"horizon": horizon}).scalars())
        self._days_ready.clear()
        return dropped

    def save_locations(self, locations: Sequence[LocationRecord]) -> StoreResult:
        self.ensure_days({utc_day(location.creation_time) for location in locations})
        with self._engine.begin() as connection:
            wanted = list({location.person_id for location in locations})
            known = set(connection.execute(_EXISTING_PERSONS, {"ids": wanted}).scalars())
            # A person deleted between this check and the insert fails the foreign key and so the whole
            # batch (IntegrityError); the caller retries and then sees the person as unknown.
            storable = list({loc.id: loc for loc in locations if loc.person_id in known}.values())
            inserted = self._insert_locations(connection, storable) if storable else 0
            missing = list({loc.person_id for loc in locations} - known)
            deleted = set(connection.execute(_DELETED_PERSONS, {"ids": missing}).scalars()) if missing else set()
        stored_or_present = sum(1 for loc in locations if loc.person_id in known)
        return StoreResult(
            inserted=inserted,
            already_stored=stored_or_present - inserted,
            unknown_person_ids=set(missing) - deleted,
            deleted_person_ids=deleted,
        )

    def delete_persons(self, person_ids: Sequence[uuid.UUID]) -> DeleteResult:
        """Forget the persons: their rows, every ping, and a tombstone that refuses what comes later."""
        ids = list(set(person_ids))
        with self._engine.begin() as connection:
            connection.execute(_LOCK_PERSONS, {"ids": ids})
            connection.execute(_ADD_TOMBSTONES, {"ids": ids})
            locations = connection.execute(_DELETE_LOCATIONS, {"ids": ids}).rowcount
            persons = connection.execute(_DELETE_PERSONS, {"ids": ids}).rowcount
        return DeleteResult(persons_deleted=persons, locations_deleted=locations)

    @staticmethod
    def _insert_locations(connection: Connection, locations: Sequence[LocationRecord]) -> int:
        """Stage with COPY, insert what is new; the staging rows vanish at commit. Returns rows inserted."""
        driver_connection = connection.connection.driver_connection
        assert isinstance(driver_connection, psycopg.Connection)  # the engine's driver is psycopg 3
        with driver_connection.cursor() as cursor:
            cursor.execute(_CREATE_STAGING)
            with cursor.copy(_COPY_STAGING) as copy:
                copy.set_types(_STAGING_TYPES)
                for loc in locations:
                    copy.write_row(
                        (loc.id, loc.person_id, loc.longitude, loc.latitude, loc.creation_time, loc.received_at)
                    )
            cursor.execute(_INSERT_FROM_STAGING)
            return cursor.rowcount

    def drop_days_before_alone(self, horizon: datetime) -> list[str] | None:
        """:meth:`drop_days_before`, unless another persistence replica is doing it: then None, nothing dropped.

        A transaction-level advisory lock, so it is released at commit, or when the connection dies: no
        replica that crashed mid-round keeps the others from retention."""
        # The lock's key: any number nothing else of ours locks.
        try_lock = text("SELECT pg_try_advisory_xact_lock(4209751)")
        with self._engine.begin() as connection:
            alone = connection.execute(try_lock).scalar_one()
            dropped = list(connection.execute(_DROP_PARTITIONS, {"horizon": horizon}).scalars()) if alone else None
        # Skipped too: the replica holding the lock may be dropping days this process has made sure of.
        self._days_ready.clear()
        return dropped
