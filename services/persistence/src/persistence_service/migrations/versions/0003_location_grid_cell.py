"""location.grid_cell: a fixed grid of space, searched with a btree on (cell, time)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

The proximity queries search "pings near these pings, in this stretch of time". The 4-D GiST of 0002
answered it, but each search cost 0.1 to 0.3 ms even when it found nothing, and a box covering a venue
for two minutes read 900 index pages: its boxes overlap heavily in a crowd, and the index grows in time
order with no sorted build. A page of connections needs dozens of such searches per stretch of time.

``grid_cell`` is the cell of a fixed latitude/longitude grid (1/20,000 of a degree: 5.5 m north-south,
4.4 m east-west at 38 degrees) the ping lies in. A btree on (grid_cell, creation_time) holds each cell's
pings in time order, so "the pings of these cells in these two minutes" is one descent per cell (a few
microseconds) followed by exactly the rows wanted. The queries list the cells within the distance of the
person's pings, then check each candidate exactly (straight-line distance on ``space_time``).

The grid's cells get narrower east-west towards the poles; the queries widen their search to match, so
an answer is exact everywhere, only slower within a few kilometres of a pole. The column wraps round
the antimeridian (longitude 180 is column 0, as -180 is).

The GiST goes: the btree replaces it for every query, and a GiST is the costliest index to insert into.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept literally here (migrations do not import application code, which may change later); the
# same expression is ``udaconnect_common.tables.GRID_CELL_SQL``, checked equal by a test.
GRID_CELL_SQL = (
    "(floor(ST_Y(coordinate::geometry) * 20000)::bigint + 1800000) * 8388608 "
    "+ mod(floor(ST_X(coordinate::geometry) * 20000)::bigint + 3600000, 7200000)"
)


def upgrade() -> None:
    # Generated, like space_time: every writer (the persistence service, a bulk COPY) gets it right.
    op.execute(
        f"ALTER TABLE location ADD COLUMN grid_cell bigint NOT NULL GENERATED ALWAYS AS ({GRID_CELL_SQL}) STORED"
    )
    op.create_index("ix_location_grid_cell_time", "location", ["grid_cell", "creation_time"])
    op.drop_index("ix_location_space_time", table_name="location")


def downgrade() -> None:
    op.execute("CREATE INDEX ix_location_space_time ON location USING gist (space_time gist_geometry_ops_nd)")
    op.drop_index("ix_location_grid_cell_time", table_name="location")
    op.drop_column("location", "grid_cell")
