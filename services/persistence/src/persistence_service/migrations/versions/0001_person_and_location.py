"""person and location tables

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Creating these needs a superuser; the local runner and the database operator create them first,
    # so here they are a check that they exist.
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "person",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("first_name", sa.Text, nullable=False),
        sa.Column("last_name", sa.Text, nullable=False),
        sa.Column("company_name", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_person_name_order", "person", ["last_name", "first_name", "id"])
    op.create_table(
        "location",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("person_id", sa.Uuid, sa.ForeignKey("person.id", ondelete="CASCADE"), nullable=False),
        sa.Column("coordinate", Geography(geometry_type="POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("creation_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True)),
    )
    # The person's own pings in a time range (connection queries, location lists).
    op.create_index("ix_location_person_time", "location", ["person_id", "creation_time"])
    # Everyone's pings near a point *and* in a time range, in one index (btree_gist makes the
    # timestamp GiST-indexable): what the connection query's inner side needs.
    op.create_index("ix_location_coordinate_time", "location", ["coordinate", "creation_time"], postgresql_using="gist")


def downgrade() -> None:
    op.drop_table("location")
    op.drop_table("person")
