"""Keeps the contacts index (``contacts_index``) equal to the database: a full load, then what is new.

*Full load*: every ping in one binary ``COPY``, decoded by numpy straight into the index's columns (a
million rows through Python objects would take seconds and hundreds of megabytes), in one repeatable-read
transaction, with the snapshot it saw.

*What is new*: every row records the transaction that stored it (``stored_xact``, migration 0007). A row
is new to a reader that last saw snapshot S when its transaction is not visible in S; transactions older
than S's oldest running one all are. So each refresh reads, in a new snapshot, the rows of transactions
from S's oldest on that S does not see: from an index, only what arrived since, whatever order the
writers committed in. The new pings go to the index's small part, rebuilt each time; once it is large, a
full load replaces both.

A change to the set of day partitions (a new day moves rows out of the default partition under a new
transaction; retention drops days) makes a full load, as does a new tombstone (a deleted person's pings
must leave memory too; until then they are never shown: a contact's name is read from the database,
where the person is gone).
"""

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from prometheus_client import Counter, Gauge
from sqlalchemy import Row, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from connection_api.contacts_index import ContactsSnapshot, Filed, Int64s, PingIndex, Pings, compact, to_micros

logger = logging.getLogger(__name__)

INDEXED_PINGS = Gauge("contacts_index_pings", "Pings in the contacts index (0 while it is not loaded)")
INDEX_BYTES = Gauge("contacts_index_bytes", "Memory the contacts index's arrays hold")
LOADS = Counter("contacts_index_loads_total", "Full loads of the contacts index", ["outcome"])
LOAD_SECONDS = Gauge("contacts_index_load_seconds", "How long the last full load took")

# A binary COPY row of (person number int4, creation_time timestamptz, x, y, z float8): a field count,
# then each field's length and its big-endian value. Every field is NOT NULL, so every row is this long.
_FIELDS = (("person", ">i4"), ("time", ">i8"), ("x", ">f8"), ("y", ">f8"), ("z", ">f8"))
_ROW = np.dtype(
    [("fields", ">i2")] + [item for name, kind in _FIELDS for item in ((f"{name}_length", ">i4"), (name, kind))]
)
_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_HEADER_LENGTH = len(_SIGNATURE) + 8
_TRAILER = b"\xff\xff"
_DECODE_AT = 4096 * _ROW.itemsize

_PERSONS_SQL = "SELECT id FROM person ORDER BY id"
_COUNT_SQL = "SELECT count(*) FROM location"
# Persons numbered in id order, as _PERSONS_SQL lists them, in the same snapshot. In the index's stored
# order: by 50 m cube, then time. The database sorts (a second, once), so the service never holds two
# copies of the pings; the cube numbers are the index's own arithmetic (``contacts_index.compact``), the
# same IEEE division and floor, which the decoder checks.
_COPY_SQL = """COPY (
    SELECT number, creation_time, x, y, z FROM (
        SELECT numbered.number, location.creation_time,
               ST_X(location.space_time) AS x, ST_Y(location.space_time) AS y, ST_Z(location.space_time) AS z
        FROM location
        JOIN (SELECT id, (row_number() OVER (ORDER BY id) - 1)::int4 AS number FROM person) AS numbered
          ON numbered.id = location.person_id
    ) AS pings
    ORDER BY floor(floor(x / 6.25) / 8), floor(floor(y / 6.25) / 8), floor(floor(z / 6.25) / 8), creation_time
) TO STDOUT (FORMAT binary)"""
_STATE_SQL = text(
    "SELECT pg_current_snapshot()::text AS seen, "
    "(SELECT coalesce(string_agg(inhrelid::text, ',' ORDER BY inhrelid), '') FROM pg_inherits "
    " WHERE inhparent = 'location'::regclass) AS partitions, "
    "(SELECT count(*) FROM deleted_person) AS deleted"
)
_NEW_SINCE = (
    "stored_xact >= pg_snapshot_xmin(CAST(:seen AS pg_snapshot)) "
    "AND NOT pg_visible_in_snapshot(stored_xact, CAST(:seen AS pg_snapshot))"
)
# The state and how many rows are new (counted from the index on stored_xact, so a bulk import is never
# read row by row into Python), in one statement: one snapshot, one round trip for most requests.
_NEW_COUNT = "(SELECT count(*) FROM (SELECT 1 FROM location WHERE " + _NEW_SINCE + " LIMIT :most) AS new)"  # noqa: S608
_REFRESH_SQL = text(_STATE_SQL.text + ", " + _NEW_COUNT + " AS new")
# The new rows with the snapshot they were read in (one statement sees one snapshot).
_NEW_PINGS_SQL = text(
    "SELECT (SELECT pg_current_snapshot()::text) AS seen, person_id, creation_time, "
    "ST_X(space_time) AS x, ST_Y(space_time) AS y, ST_Z(space_time) AS z "
    "FROM location WHERE " + _NEW_SINCE + " LIMIT :most"
)
# The small part is merged into the bulk (by a full load) when it holds this share of it (or this many
# pings); more new pings than that at once are a full load rather than a refresh (a bulk import).
MERGE_SHARE = 0.05
MERGE_AT_LEAST = 20_000
MAX_REFRESH_ROWS = MERGE_AT_LEAST


@dataclass(frozen=True)
class Loaded:
    """An index and what the database looked like when it was made (to tell what changed since)."""

    snapshot: ContactsSnapshot
    seen: str
    partitions: str
    deleted: int
    # Still right, but to be replaced by a full load (grown large in its small part, or a person deleted).
    stale: bool = False


class TooManyPings(Exception):
    """More pings than the index may hold (``CONTACTS_INDEX_MAX_PINGS``)."""


def decode_copy(chunks: list[bytes], rows: int) -> Filed:
    """The pings of a whole binary COPY of ``_COPY_SQL`` (see :class:`_Decoder`)."""
    decoder = _Decoder(rows)
    for chunk in chunks:
        decoder.feed(chunk)
    return decoder.finish()


class _Decoder:
    """Decodes a binary COPY stream of fixed-length rows, as it arrives, into the index's stored columns
    (:class:`~connection_api.contacts_index.Filed`), preallocated for the rows counted."""

    def __init__(self, rows: int) -> None:
        self._time = np.empty(rows, np.int64)
        self._offset = np.empty((rows, 3), np.int32)
        self._person = np.empty(rows, np.int32)
        self._fine = np.empty(rows, np.int16)
        # One entry per run of pings in the same 50 m cube: its numbers and where it starts.
        self._runs: list[Int64s] = []
        self._run_starts: list[Int64s] = []
        self._last: Int64s | None = None
        self._rows = 0
        self._pending = bytearray()
        self._header_seen = False

    def feed(self, chunk: bytes | bytearray | memoryview) -> None:
        self._pending += chunk
        # The server sends a message per row: decoded a few thousand at a time, not one by one.
        if len(self._pending) >= _DECODE_AT:
            self._decode_pending()

    def _decode_pending(self) -> None:
        if not self._header_seen:
            if len(self._pending) < _HEADER_LENGTH:
                return
            if not self._pending.startswith(_SIGNATURE):
                raise ValueError("not a binary COPY stream")
            extension = int.from_bytes(self._pending[_HEADER_LENGTH - 4 : _HEADER_LENGTH], "big")
            del self._pending[: _HEADER_LENGTH + extension]
            self._header_seen = True
        whole = len(self._pending) // _ROW.itemsize
        if whole:
            self._decode(np.frombuffer(self._pending, _ROW, count=whole))
            del self._pending[: whole * _ROW.itemsize]

    def _decode(self, rows: np.ndarray[Any, np.dtype[Any]]) -> None:
        lengths = {"person": 4, "time": 8, "x": 8, "y": 8, "z": 8}
        if (rows["fields"] != len(_FIELDS)).any() or any((rows[f"{n}_length"] != w).any() for n, w in lengths.items()):
            raise ValueError("a COPY row is not (int4, timestamptz, float8, float8, float8), all NOT NULL")
        at = slice(self._rows, self._rows + len(rows))
        if at.stop > len(self._time):
            raise ValueError("the COPY stream holds more rows than counted")
        coarse, self._offset[at], self._fine[at] = compact(np.stack([rows["x"], rows["y"], rows["z"]], axis=1))
        self._person[at] = rows["person"]
        self._time[at] = rows["time"]
        # The order the index relies on, by cube, then time, checked with the previous chunk's last row.
        ordered = np.column_stack([coarse, self._time[at]])
        if self._last is not None:
            ordered = np.vstack([self._last, ordered])
        steps = np.diff(ordered, axis=0)
        moved = steps != 0
        first_move = steps[np.arange(len(steps)), moved.argmax(axis=1)]
        if (moved.any(axis=1) & (first_move < 0)).any():
            raise ValueError("the COPY stream is not in order of cube, then time")
        # Where a new cube begins.
        begins = np.flatnonzero(moved[:, :3].any(axis=1)) + (0 if self._last is not None else 1)
        if self._last is None:
            begins = np.concatenate([[0], begins])
        self._runs.append(coarse[begins])
        self._run_starts.append(begins + at.start)
        self._last = ordered[-1:]
        self._rows = at.stop

    def finish(self) -> Filed:
        self._decode_pending()
        if bytes(self._pending) != _TRAILER:
            raise ValueError("the COPY stream ended early")
        if self._rows != len(self._time):
            raise ValueError(f"the COPY stream held {self._rows} rows, {len(self._time)} were counted")
        numbers = np.concatenate(self._runs) if self._runs else np.empty((0, 3), np.int64)
        starts = np.concatenate([*self._run_starts, [self._rows]]).astype(np.int64)
        return Filed(self._time, self._offset, self._person, numbers, starts, self._fine)


def libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL (``postgresql+psycopg://``) as psycopg takes it."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class ContactsFeed:
    """Loads the index and brings it up to date from the read engine (and one psycopg connection for COPY)."""

    def __init__(self, engine: AsyncEngine, database_url: str, max_pings: int) -> None:
        self._engine = engine
        self._url = libpq_url(database_url)
        self._max_pings = max_pings

    async def load(self) -> Loaded:
        """Every ping, in one snapshot. Raises :class:`TooManyPings`."""
        began = time.monotonic()
        async with await psycopg.AsyncConnection.connect(self._url) as connection:
            await connection.set_isolation_level(psycopg.IsolationLevel.REPEATABLE_READ)
            await connection.set_read_only(True)
            async with connection.transaction():
                state = await (await connection.execute(_STATE_SQL.text)).fetchone()
                assert state is not None
                rows = await (await connection.execute(_COUNT_SQL)).fetchone()
                count = int(rows[0]) if rows else 0
                if count > self._max_pings:
                    raise TooManyPings(f"{count} pings, more than the {self._max_pings} the index may hold")
                ids = [row[0] for row in await (await connection.execute(_PERSONS_SQL)).fetchall()]
                decoder = _Decoder(count)
                async with connection.cursor().copy(_COPY_SQL) as copy:
                    async for chunk in copy:
                        decoder.feed(chunk)
                filed = decoder.finish()
        read = time.monotonic()
        # Filing a million pings by 6.25 m cube takes a fraction of a second of numpy: off the event loop.
        bulk = await asyncio.to_thread(PingIndex, filed)
        del filed
        snapshot = ContactsSnapshot({person: number for number, person in enumerate(ids)}, ids, bulk)
        logger.info(
            "contacts index loaded: %d pings of %d persons, %.1f MB, read in %.2f s, filed in %.2f s",
            len(bulk),
            len(ids),
            bulk.nbytes / 2**20,
            read - began,
            time.monotonic() - read,
        )
        return Loaded(snapshot, state[0], state[1], int(state[2]))

    async def refresh(self, loaded: Loaded) -> Loaded | None:
        """``loaded`` with every ping stored since it was made; None when it can no longer be brought up to
        date (the partitions changed, or a bulk import arrived) and a full load must replace it.
        :attr:`Loaded.stale` when it is still right but a full load should replace it soon."""
        # Each statement on its own (no transaction to begin and end): a round trip each.
        async with self._engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            bound = {"seen": loaded.seen, "most": MAX_REFRESH_ROWS + 1}
            state = (await connection.execute(_REFRESH_SQL, bound)).one()
            if state.partitions != loaded.partitions or state.new > MAX_REFRESH_ROWS:
                return None
            seen = state.seen
            rows: Sequence[Row[Any]] = []
            if state.new:
                # Read in a later snapshot than the count: it then sees those rows and maybe more, and is
                # the one remembered. Rows stored between the two are read now, not lost.
                rows = (await connection.execute(_NEW_PINGS_SQL, bound)).all()
                if len(rows) > MAX_REFRESH_ROWS:
                    return None
                if rows:
                    seen = rows[0].seen
        # A deleted person's pings are never shown (their name is gone), but must leave memory too.
        stale = loaded.stale or state.deleted != loaded.deleted
        snapshot = loaded.snapshot
        if rows:
            snapshot = self._with_new_pings(snapshot, rows)
            stale = stale or len(snapshot.recent_pings) >= max(MERGE_AT_LEAST, MERGE_SHARE * len(snapshot.bulk))
        return Loaded(snapshot, seen, loaded.partitions, int(state.deleted), stale)

    @staticmethod
    def _with_new_pings(snapshot: ContactsSnapshot, rows: Sequence[Row[Any]]) -> ContactsSnapshot:
        persons, ids = snapshot.persons, snapshot.ids
        for row in rows:
            if row.person_id not in persons:
                # Numbers only grow: a search running on an earlier snapshot still finds its own.
                persons[row.person_id] = len(ids)
                ids.append(row.person_id)
        new = Pings(
            np.array([to_micros(row.creation_time) for row in rows], np.int64),
            np.array([(row.x, row.y, row.z) for row in rows], np.float64),
            np.array([persons[row.person_id] for row in rows], np.int32),
        )
        recent = Pings.concat([snapshot.recent_pings, new])
        return ContactsSnapshot(persons, ids, snapshot.bulk, PingIndex.of(recent), recent)


class ContactsIndex:
    """The index a request reads: loaded in the background at start, refreshed before each search, loaded
    again in the background when it grew large or a person was deleted, and replaced by SQL (None) while
    it cannot be used: before its first load, while it is loaded again, after the partitions changed, or
    when it would not fit."""

    def __init__(self, feed: ContactsFeed) -> None:
        self._feed = feed
        self._loaded: Loaded | None = None
        self._lock = asyncio.Lock()
        self._loading: asyncio.Task[None] | None = None
        self._disabled: str | None = None
        self._loaded_once = False

    async def current(self) -> ContactsSnapshot | None:
        """The index, up to date with the database; None while the search must use SQL."""
        if self._disabled is not None:
            return None
        async with self._lock:
            if self._loaded is not None:
                self._loaded = await self._feed.refresh(self._loaded)
            if self._loaded is not None and self._loaded.stale and not self._is_loading():
                # Let go of it first: two indexes at once would not fit a service's memory. SQL answers
                # for the few seconds of the load.
                self._loaded = None
            if self._loaded is None:
                self._start_loading()
            self._observe()
            return None if self._loaded is None else self._loaded.snapshot

    @property
    def ready(self) -> bool:
        """Loaded once (or not to be used at all). A later full load does not make it unready: SQL answers
        meanwhile, as it can."""
        return self._disabled is not None or self._loaded_once

    def start(self) -> None:
        self._start_loading()

    def _is_loading(self) -> bool:
        return self._loading is not None and not self._loading.done()

    def _start_loading(self) -> None:
        if not self._is_loading():
            self._loading = asyncio.create_task(self._load())

    async def _load(self) -> None:
        began = time.monotonic()
        try:
            loaded = await self._feed.load()
        except TooManyPings as exc:
            logger.warning("contacts are answered by SQL only: %s", exc)
            LOADS.labels("too_many_pings").inc()
            self._disabled = str(exc)
            return
        except Exception:
            # Tried again by the next request; meanwhile SQL answers.
            logger.exception("loading the contacts index failed")
            LOADS.labels("failed").inc()
            return
        LOADS.labels("loaded").inc()
        LOAD_SECONDS.set(time.monotonic() - began)
        async with self._lock:
            self._loaded = loaded
            self._loaded_once = True
        self._observe()

    def _observe(self) -> None:
        snapshot = None if self._loaded is None else self._loaded.snapshot
        INDEXED_PINGS.set(0 if snapshot is None else sum(len(part) for part in snapshot.parts))
        INDEX_BYTES.set(0 if snapshot is None else sum(part.nbytes for part in snapshot.parts))

    async def close(self) -> None:
        if self._loading is not None:
            self._loading.cancel()
