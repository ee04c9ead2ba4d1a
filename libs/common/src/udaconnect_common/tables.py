"""The database schema, as SQLAlchemy Core tables.

The persistence service owns the schema (its Alembic migrations create it and it is the only
writer); the read APIs use the same table definitions for their queries.
"""

from datetime import UTC, datetime

from geoalchemy2 import Geography, Geometry
from sqlalchemy import Column, Computed, DateTime, ForeignKey, Index, MetaData, Table, Text, Uuid, func

metadata = MetaData()

# ``location.space_time``: the ping in Earth-centred, Earth-fixed metres (EPSG:4978; X, Y, Z) with its
# time as M, in seconds since SPACE_TIME_EPOCH. Why, and why this epoch: migration 0002.
SPACE_TIME_SRID = 4978
SPACE_TIME_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
SPACE_TIME_SQL = (
    "ST_Force4D(ST_Transform(ST_Force3DZ(coordinate::geometry), 4978), 0.0, "
    "EXTRACT(epoch FROM creation_time - TIMESTAMPTZ '2024-01-01 00:00:00+00'))"
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
    # geography, not geometry: distances in metres on the WGS84 spheroid, and an index that
    # ST_DWithin(geography, geography, metres) can use without a cast. Longitude is X, latitude is Y.
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
    Index("ix_location_person_time", "person_id", "creation_time"),
    # Pings near a point in space and time: a 4-D box search (the proximity queries).
    Index(
        "ix_location_space_time",
        "space_time",
        postgresql_using="gist",
        postgresql_ops={"space_time": "gist_geometry_ops_nd"},
    ),
)
