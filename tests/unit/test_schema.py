"""The table definitions the services query agree with the migrations that create the tables."""

import importlib.util
from pathlib import Path
from types import ModuleType

from udaconnect_common import tables

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


def test_grid_cell_is_computed_the_same_in_the_migration_and_the_queries() -> None:
    migration = _migration("0003_location_grid_cell")
    assert migration.GRID_CELL_SQL == tables.GRID_CELL_SQL
    computed = tables.location_table.c.grid_cell.computed
    assert computed is not None
    assert str(computed.sqltext) == tables.GRID_CELL_SQL
    # The constants the queries decompose a cell with are the ones the expression builds it with.
    assert f"* {tables.GRID_CELLS_PER_DEGREE})" in tables.GRID_CELL_SQL
    assert f"* {tables.GRID_ROW_STRIDE}" in tables.GRID_CELL_SQL
    assert f"{tables.GRID_COLUMNS})" in tables.GRID_CELL_SQL
    assert f"+ {tables.GRID_LAST_ROW // 2})" in tables.GRID_CELL_SQL
