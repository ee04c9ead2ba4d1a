"""The database schema, as SQLAlchemy Core tables.

The persistence service owns the schema (its Alembic migrations create it and it is the only
writer); the read APIs use the same table definitions for their queries.
"""

from datetime import UTC, datetime

from geoalchemy2 import Geography, Geometry
from sqlalchemy import BigInteger, Column, Computed, DateTime, ForeignKey, Index, MetaData, Table, Text, Uuid, func

from udaconnect_common.cubes import COARSE, FINE, cube_sql

metadata = MetaData()

# ``location.space_time``: the ping in Earth-centred, Earth-fixed metres (EPSG:4978; X, Y, Z) with its
# time as M, in seconds since SPACE_TIME_EPOCH (migration 0002). The proximity queries' exact check is the
# straight-line distance between two of these (M is not used since migration 0003).
SPACE_TIME_SRID = 4978
SPACE_TIME_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
SPACE_TIME_SQL = (
    "ST_Force4D(ST_Transform(ST_Force3DZ(coordinate::geometry), 4978), 0.0, "
    "EXTRACT(epoch FROM creation_time - TIMESTAMPTZ '2024-01-01 00:00:00+00'))"
)

# ``location.cube_fine`` and ``location.cube_coarse``: the Earth-centred cubes (6.25 m and 50 m) the ping
# lies in, each keying a btree with the time: the proximity queries' search (``udaconnect_common.cubes``,
# migration 0004).
CUBE_FINE_SQL = cube_sql(FINE)
CUBE_COARSE_SQL = cube_sql(COARSE)

person_table = Table(
    "person",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("first_name", Text, nullable=False),
    Column("last_name", Text, nullable=False),
    Column("company_name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Keyset paging of GET /api/persons walks this order.
    Index("ix_person_name_order", "last_name", "first_name", "id"),
)

location_table = Table(
    "location",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("person_id", Uuid, ForeignKey("person.id", ondelete="CASCADE"), nullable=False),
    # The ping as the phone sent it, on the WGS84 spheroid. Longitude is X, latitude is Y.
    Column(
        "coordinate",
        Geography(geometry_type="POINT", srid=4326, spatial_index=False),
        nullable=False,
    ),
    # Part of the key: the table is partitioned by day of creation_time (migration 0006).
    Column("creation_time", DateTime(timezone=True), primary_key=True),
    Column("received_at", DateTime(timezone=True)),
    Column(
        "space_time",
        Geometry(geometry_type="POINTZM", srid=SPACE_TIME_SRID, dimension=4, spatial_index=False),
        Computed(SPACE_TIME_SQL, persisted=True),
    ),
    Column(FINE.column, BigInteger, Computed(CUBE_FINE_SQL, persisted=True), nullable=False),
    Column(COARSE.column, BigInteger, Computed(CUBE_COARSE_SQL, persisted=True), nullable=False),
    Index("ix_location_person_time", "person_id", "creation_time"),
    # The pings of a cube in a stretch of time: the proximity queries' search, one per size.
    Index("ix_location_cube_fine_time", FINE.column, "creation_time"),
    Index("ix_location_cube_coarse_time", COARSE.column, "creation_time"),
)
