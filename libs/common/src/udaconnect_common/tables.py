"""The database schema, as SQLAlchemy Core tables.

The persistence service owns the schema (its Alembic migrations create it and it is the only
writer); the read APIs use the same table definitions for their queries.
"""

from geoalchemy2 import Geography
from sqlalchemy import Column, DateTime, ForeignKey, Index, MetaData, Table, Text, Uuid, func

metadata = MetaData()

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
    Index("ix_location_person_time", "person_id", "creation_time"),
    Index("ix_location_coordinate_time", "coordinate", "creation_time", postgresql_using="gist"),
)
