"""The database schema, as SQLAlchemy Core tables.

The persistence service owns the schema (its Alembic migrations create it and it is the only
writer); the read APIs use the same table definitions for their queries.
"""

from datetime import UTC, datetime

from geoalchemy2 import Geography, Geometry
from sqlalchemy import BigInteger, Column, Computed, DateTime, ForeignKey, Index, MetaData, Table, Text, Uuid, func

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

# ``location.grid_cell``: the cell of a fixed latitude/longitude grid the ping lies in, one twenty-thousandth
# of a degree square (about 5.5 m north-south, 5.6 m x cos(latitude) east-west), as one number: row (from the
# latitude) * GRID_ROW_STRIDE + column (from the longitude, taken round the antimeridian). With the time it
# keys the btree the proximity queries search. Why: migration 0003.
GRID_CELLS_PER_DEGREE = 20_000
GRID_ROW_STRIDE = 1 << 23
GRID_COLUMNS = 360 * GRID_CELLS_PER_DEGREE
GRID_LAST_ROW = 180 * GRID_CELLS_PER_DEGREE
GRID_CELL_SQL = (
    "(floor(ST_Y(coordinate::geometry) * 20000)::bigint + 1800000) * 8388608 "
    "+ mod(floor(ST_X(coordinate::geometry) * 20000)::bigint + 3600000, 7200000)"
)

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
    Column("creation_time", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True)),
    Column(
        "space_time",
        Geometry(geometry_type="POINTZM", srid=SPACE_TIME_SRID, dimension=4, spatial_index=False),
        Computed(SPACE_TIME_SQL, persisted=True),
    ),
    Column("grid_cell", BigInteger, Computed(GRID_CELL_SQL, persisted=True), nullable=False),
    Index("ix_location_person_time", "person_id", "creation_time"),
    # The pings of a grid cell in a stretch of time: the proximity queries' search.
    Index("ix_location_grid_cell_time", "grid_cell", "creation_time"),
)
