"""location.space_time: each ping as a point in space and time, with an N-dimensional GiST index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

The proximity queries ask "which pings lie within D metres *and* within a time range (or window) of
this ping". The composite GiST of 0001 (geography, timestamp) is organised by space only, so in a dense
venue every lookup walked each spot's pings of the whole event, and every candidate paid a geodesic
distance on the spheroid. ``space_time`` holds the ping in Earth-centred, Earth-fixed coordinates
(EPSG:4978, metres; X, Y, Z) with the time as M, and one 4-D GiST (``gist_geometry_ops_nd``) answers
"near in space and in time" with a box test, leaving a Euclidean distance for the exact check.

Why the straight-line (chord) distance is exact enough: between points on the WGS84 ellipsoid it is
shorter than the geodesic by about d^3 / (24 R^2), under a micrometre for the 500 m maximum distance.

M is seconds since 2024-01-01 UTC, not since 1970: the index stores its boxes in single precision,
whose step at 1.7e9 (seconds since 1970) is 128 s, and near 1e8 is 8 s; the boxes are rounded outwards
and the exact time check is on ``creation_time``, so the epoch only sharpens the index, it never
changes an answer.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept literally here (migrations do not import application code, which may change later); the
# same expression is ``udaconnect_common.tables.SPACE_TIME_SQL``, checked equal by a test.
SPACE_TIME_SQL = (
    "ST_Force4D(ST_Transform(ST_Force3DZ(coordinate::geometry), 4978), 0.0, "
    "EXTRACT(epoch FROM creation_time - TIMESTAMPTZ '2024-01-01 00:00:00+00'))"
)


def upgrade() -> None:
    # A generated column: every writer (the persistence service, a bulk COPY) gets it right for free.
    # Adding it rewrites the table once.
    op.execute(
        "ALTER TABLE location ADD COLUMN space_time geometry(PointZM, 4978) "
        f"GENERATED ALWAYS AS ({SPACE_TIME_SQL}) STORED"
    )
    op.execute("CREATE INDEX ix_location_space_time ON location USING gist (space_time gist_geometry_ops_nd)")
    # Replaced by the index above; keeping it would only slow every insert.
    op.drop_index("ix_location_coordinate_time", table_name="location")


def downgrade() -> None:
    op.create_index("ix_location_coordinate_time", "location", ["coordinate", "creation_time"], postgresql_using="gist")
    op.drop_index("ix_location_space_time", table_name="location")
    op.drop_column("location", "space_time")
