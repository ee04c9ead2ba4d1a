"""location.cube_fine, location.cube_coarse: cells the same size everywhere on Earth

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

The latitude/longitude grid of 0003 has cells 5.5 m north-south but only 5.6 m x cos(latitude) east-west:
slivers near a pole, so a search there listed hundreds of thousands of cells and one ping at latitude
89.99999 sent every query of its person into the statement timeout. Anyone who can post a location could
do that.

These columns file each ping under an axis-aligned cube of Earth-centred, Earth-fixed space (the X, Y, Z
of ``space_time``), numbered floor(coordinate / size) on each axis and packed into one bigint: cubes of
6.25 m for searches up to 25 m, of 50 m beyond. A cube is as big at the pole as on the equator, and the
antimeridian is not an edge at all, so every place on Earth costs a search the same. A btree on
(cube, creation_time) per size keeps each cube's pings in time order, as the grid's did.

``earth_cube`` is ``udaconnect_common.cubes.cube_of`` in SQL: the ellipsoid's formula on the ping's
latitude and longitude, with no PROJ call, so the two columns cost a writer little.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept literally here (migrations do not import application code, which may change later); the same
# text is ``udaconnect_common.cubes.EARTH_CUBE_FUNCTION_SQL`` and the columns' ``CUBE_*_SQL``, checked
# equal by a test.
EARTH_CUBE_FUNCTION_SQL = """CREATE FUNCTION earth_cube(coordinate geography, size double precision) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT (floor((6378137.0 / sqrt(1.0 - 0.0066943799901413165 * sin(radians(ST_Y(coordinate::geometry))) ^ 2)) * cos(radians(ST_Y(coordinate::geometry))) * cos(radians(ST_X(coordinate::geometry))) / size)::bigint + 1048576) * 4398046511104
 + (floor((6378137.0 / sqrt(1.0 - 0.0066943799901413165 * sin(radians(ST_Y(coordinate::geometry))) ^ 2)) * cos(radians(ST_Y(coordinate::geometry))) * sin(radians(ST_X(coordinate::geometry))) / size)::bigint + 1048576) * 2097152
 + (floor((6378137.0 / sqrt(1.0 - 0.0066943799901413165 * sin(radians(ST_Y(coordinate::geometry))) ^ 2)) * 0.9933056200098587 * sin(radians(ST_Y(coordinate::geometry))) / size)::bigint + 1048576)
$$"""  # noqa: E501
CUBE_COLUMNS = {"cube_fine": "earth_cube(coordinate, 6.25)", "cube_coarse": "earth_cube(coordinate, 50.0)"}

GRID_CELL_SQL = (
    "(floor(ST_Y(coordinate::geometry) * 20000)::bigint + 1800000) * 8388608 "
    "+ mod(floor(ST_X(coordinate::geometry) * 20000)::bigint + 3600000, 7200000)"
)


def upgrade() -> None:
    op.execute(EARTH_CUBE_FUNCTION_SQL)
    # One rewrite of the table for all three changes.
    changes = [
        f"ADD COLUMN {column} bigint NOT NULL GENERATED ALWAYS AS ({expression}) STORED"
        for column, expression in CUBE_COLUMNS.items()
    ]
    op.execute(f"ALTER TABLE location {', '.join(changes)}, DROP COLUMN grid_cell")
    for column in CUBE_COLUMNS:
        op.create_index(f"ix_location_{column}_time", "location", [column, "creation_time"])


def downgrade() -> None:
    op.execute(
        "ALTER TABLE location DROP COLUMN cube_fine, DROP COLUMN cube_coarse, "
        f"ADD COLUMN grid_cell bigint NOT NULL GENERATED ALWAYS AS ({GRID_CELL_SQL}) STORED"
    )
    op.create_index("ix_location_grid_cell_time", "location", ["grid_cell", "creation_time"])
    op.execute("DROP FUNCTION earth_cube(geography, double precision)")
