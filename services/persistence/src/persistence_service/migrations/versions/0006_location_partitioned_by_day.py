"""location: partitioned by day of creation_time, so that retention drops whole days

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Retention (``LOCATION_RETENTION_DAYS``) must not be a row-by-row DELETE over millions of pings: each UTC
day of pings is a partition of its own (``location_dYYYYMMDD``), and an expired day is one DROP TABLE.

* ``ensure_location_partition(day)`` creates a day's partition (the persistence service calls it before it
  stores pings of a day it has not seen). Pings written without it (by hand, by a tool) land in the
  default partition, ``location_default``; when their day gets its partition they move into it, since a
  partition cannot be attached over rows the default holds for its range.
* ``drop_location_partitions_before(horizon)`` drops every day partition that ended by ``horizon`` and
  deletes the default partition's older rows; it returns the names dropped.

The primary key becomes (id, creation_time): a unique key of a partitioned table must hold its partition
key. The persistence service still stores an id once (it checks the id within a day of the ping's time,
see ``store.py``). The indexes are the same, now one per partition; a query bounded in time reads only the
partitions of its times.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "id, person_id, coordinate, creation_time, received_at"

# No format(): a percent sign would meet the driver's placeholders on the way; quote_ident and
# quote_literal say the same.
ENSURE_PARTITION_SQL = f"""CREATE FUNCTION ensure_location_partition(day date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    name text := 'location_d' || to_char(day, 'YYYYMMDD');
    low text := quote_literal(day::timestamp AT TIME ZONE 'UTC');
    high text := quote_literal((day + 1)::timestamp AT TIME ZONE 'UTC');
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE 'CREATE TABLE ' || quote_ident(name)
        || ' (LIKE location INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS)';
    -- The day's bounds as a constraint first: ATTACH then need not scan the new table to prove them.
    EXECUTE 'ALTER TABLE ' || quote_ident(name) || ' ADD CONSTRAINT ' || quote_ident(name || '_bounds')
        || ' CHECK (creation_time >= ' || low || ' AND creation_time < ' || high || ')';
    EXECUTE 'WITH moved AS (DELETE FROM location_default WHERE creation_time >= ' || low
        || ' AND creation_time < ' || high || ' RETURNING {COLUMNS}) INSERT INTO ' || quote_ident(name)
        || ' ({COLUMNS}) SELECT {COLUMNS} FROM moved';
    EXECUTE 'ALTER TABLE location ATTACH PARTITION ' || quote_ident(name)
        || ' FOR VALUES FROM (' || low || ') TO (' || high || ')';
    EXECUTE 'ALTER TABLE ' || quote_ident(name) || ' DROP CONSTRAINT ' || quote_ident(name || '_bounds');
    RETURN true;
EXCEPTION WHEN duplicate_table OR unique_violation THEN
    -- Another writer made it meanwhile.
    RETURN false;
END
$$"""

DROP_PARTITIONS_SQL = """CREATE FUNCTION drop_location_partitions_before(horizon timestamptz) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    part text;
BEGIN
    FOR part IN
        SELECT child.relname FROM pg_inherits JOIN pg_class child ON child.oid = pg_inherits.inhrelid
        WHERE pg_inherits.inhparent = 'location'::regclass AND child.relname ~ '^location_d[0-9]{8}$'
          AND (to_date(substr(child.relname, 11), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC' <= horizon
        ORDER BY child.relname
    LOOP
        -- IF EXISTS: another persistence replica may have dropped it a moment ago.
        EXECUTE 'DROP TABLE IF EXISTS ' || quote_ident(part);
        RETURN NEXT part;
    END LOOP;
    -- Only pings that never had a day partition are deleted row by row: a handful.
    DELETE FROM location_default WHERE creation_time < horizon;
END
$$"""

INDEXES = {
    "ix_location_person_time": "(person_id, creation_time)",
    "ix_location_cube_fine_time": "(cube_fine, creation_time)",
    "ix_location_cube_coarse_time": "(cube_coarse, creation_time)",
}


def upgrade() -> None:
    op.execute(
        "CREATE TABLE location_by_day (LIKE location INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS) "
        "PARTITION BY RANGE (creation_time)"
    )
    op.execute("ALTER TABLE location RENAME TO location_unpartitioned")
    op.execute("ALTER TABLE location_by_day RENAME TO location")
    op.execute("CREATE TABLE location_default PARTITION OF location DEFAULT")
    op.execute(ENSURE_PARTITION_SQL)
    op.execute(DROP_PARTITIONS_SQL)
    op.execute(
        "SELECT ensure_location_partition(day) FROM "
        "(SELECT DISTINCT (creation_time AT TIME ZONE 'UTC')::date AS day FROM location_unpartitioned) AS days"
    )
    op.execute(f"INSERT INTO location ({COLUMNS}) SELECT {COLUMNS} FROM location_unpartitioned")
    op.execute("DROP TABLE location_unpartitioned")
    # Keys and indexes after the copy: built once per partition instead of row by row.
    op.execute("ALTER TABLE location ADD CONSTRAINT location_pkey PRIMARY KEY (id, creation_time)")
    op.execute(
        "ALTER TABLE location ADD CONSTRAINT location_person_id_fkey "
        "FOREIGN KEY (person_id) REFERENCES person (id) ON DELETE CASCADE"
    )
    for name, columns in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON location {columns}")


def downgrade() -> None:
    op.execute(
        "CREATE TABLE location_single (LIKE location INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS)"
    )
    op.execute(f"INSERT INTO location_single ({COLUMNS}) SELECT {COLUMNS} FROM location")
    op.execute("DROP TABLE location")
    op.execute("DROP FUNCTION drop_location_partitions_before(timestamptz)")
    op.execute("DROP FUNCTION ensure_location_partition(date)")
    op.execute("ALTER TABLE location_single RENAME TO location")
    op.execute("ALTER TABLE location ADD CONSTRAINT location_pkey PRIMARY KEY (id)")
    op.execute(
        "ALTER TABLE location ADD CONSTRAINT location_person_id_fkey "
        "FOREIGN KEY (person_id) REFERENCES person (id) ON DELETE CASCADE"
    )
    for name, columns in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON location {columns}")
