"""The table definitions the services query agree with the migrations that create the tables."""

import importlib.util
from pathlib import Path
from types import ModuleType

from udaconnect_common import cubes, tables

VERSIONS = Path(__file__).parents[2] / "services/persistence/src/persistence_service/migrations/versions"


def _migration(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, VERSIONS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_space_time_is_computed_the_same_in_the_migration_and_the_queries() -> None:
    migration = _migration("0002_location_space_time")
    assert migration.SPACE_TIME_SQL == tables.SPACE_TIME_SQL
    # The epoch the queries convert times with is the one the column is built with.
    assert tables.SPACE_TIME_EPOCH.isoformat(sep=" ") in tables.SPACE_TIME_SQL.replace("00:00:00+00", "00:00:00+00:00")
    computed = tables.location_table.c.space_time.computed
    assert computed is not None
    assert str(computed.sqltext) == tables.SPACE_TIME_SQL


def test_the_cubes_are_computed_the_same_in_the_migration_and_the_queries() -> None:
    migration = _migration("0004_location_earth_cubes")
    assert migration.EARTH_CUBE_FUNCTION_SQL == cubes.EARTH_CUBE_FUNCTION_SQL
    assert {size.column: cubes.cube_sql(size) for size in (cubes.FINE, cubes.COARSE)} == migration.CUBE_COLUMNS
    for size in (cubes.FINE, cubes.COARSE):
        computed = tables.location_table.c[size.column].computed
        assert computed is not None
        assert str(computed.sqltext) == cubes.cube_sql(size)
