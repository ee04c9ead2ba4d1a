"""The migrations run both ways on a database of their own, and keep the rows already stored."""

import math

import psycopg
import pytest
from alembic import command
from alembic.script import ScriptDirectory

from persistence_service.migrate import alembic_config
from udaconnect_common.cubes import COARSE, FINE, cube_of
from udaconnect_devstack.stack import OWNER, OWNER_PASSWORD, READER, READER_PASSWORD, LocalStack

pytestmark = pytest.mark.integration

DATABASE = "udaconnect_migrations"
PERSON = "0b8f7c1e-4c1a-4b8e-9f4e-6a2d3c5b7a91"
PING = "0b8f7c1e-4c1a-4b8e-9f4e-6a2d3c5b7a92"
# Moscone Center, San Francisco: longitude is X, latitude is Y.
LATITUDE, LONGITUDE = 37.78403, -122.40103


def _indexes(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as connection:
        rows = connection.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'location'").fetchall()
    return {str(row[0]) for row in rows}


def test_migrations_downgrade_and_upgrade_again_keeping_the_stored_pings(stack: LocalStack) -> None:
    stack.postgres.ensure_database(DATABASE, OWNER, OWNER_PASSWORD, READER, READER_PASSWORD)
    config = alembic_config(stack.postgres.dsn(OWNER, OWNER_PASSWORD, DATABASE))
    dsn = stack.postgres.libpq_dsn(OWNER, OWNER_PASSWORD, DATABASE)

    command.upgrade(config, "0002")
    with psycopg.connect(dsn) as connection:
        connection.execute(
            "INSERT INTO person (id, first_name, last_name, company_name) VALUES (%s, 'Ada', 'Lovelace', 'Analytical')",
            (PERSON,),
        )
        connection.execute(
            "INSERT INTO location (id, person_id, coordinate, creation_time) "
            "VALUES (%s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, '2026-06-01T10:00:00Z')",
            (PING, PERSON, LONGITUDE, LATITUDE),
        )

    # 0004 files the pings already stored under their cubes, as the Python arithmetic does.
    command.upgrade(config, "head")
    with psycopg.connect(dsn) as connection:
        row = connection.execute("SELECT cube_fine, cube_coarse FROM location WHERE id = %s", (PING,)).fetchone()
    assert row == (cube_of(LATITUDE, LONGITUDE, FINE), cube_of(LATITUDE, LONGITUDE, COARSE))
    indexes = _indexes(dsn)
    assert {"ix_location_cube_fine_time", "ix_location_cube_coarse_time", "ix_location_person_time"} <= indexes
    assert "ix_location_space_time" not in indexes
    assert "ix_location_grid_cell_time" not in indexes

    with psycopg.connect(dsn) as connection:
        assert connection.execute("SELECT to_regclass('deleted_person')").fetchone() == ("deleted_person",)
    command.downgrade(config, "0004")
    with psycopg.connect(dsn) as connection:
        assert connection.execute("SELECT to_regclass('deleted_person')").fetchone() == (None,)
    command.downgrade(config, "0003")
    assert "ix_location_grid_cell_time" in _indexes(dsn)
    with psycopg.connect(dsn) as connection:
        row = connection.execute(
            "SELECT grid_cell / 8388608, grid_cell %% 8388608 FROM location WHERE id = %s", (PING,)
        ).fetchone()
    assert row == (math.floor(LATITUDE * 20_000) + 1_800_000, math.floor(LONGITUDE * 20_000) + 3_600_000)
    command.downgrade(config, "0002")
    assert "ix_location_space_time" in _indexes(dsn)
    assert "ix_location_grid_cell_time" not in _indexes(dsn)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    with psycopg.connect(dsn) as connection:
        assert connection.execute("SELECT count(*) FROM location").fetchone() == (0,)
        head = ScriptDirectory.from_config(config).get_current_head()
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == (head,)
