"""location, deleted_person: the transaction that stored each row, so a reader can follow what is new

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

The connection API keeps every ping in memory for contacts over a whole event (connection_api
``contacts_feed``) and must learn which rows were stored since it last looked. Neither the id (random)
nor ``received_at`` (set by the API, committed in any order) can say so. The storing transaction can:
a row is new to a reader that last saw snapshot S if its transaction is not visible in S, and every
transaction older than S's oldest running one is (``pg_visible_in_snapshot``). So ``stored_xact`` holds
``pg_current_xact_id()`` (64 bits, never wraps), indexed where set.

Rows already stored keep NULL: the column is added without a default, then given one, so the table is
not rewritten; a reader loads those rows in full at its start anyway. Rows moved into a day's partition
from the default one get a new transaction: the reader rebuilds when the set of partitions changes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("location", "deleted_person")


def upgrade() -> None:
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ADD COLUMN stored_xact xid8")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN stored_xact SET DEFAULT pg_current_xact_id()")
        op.execute(f"CREATE INDEX ix_{table}_stored_xact ON {table} (stored_xact) WHERE stored_xact IS NOT NULL")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP INDEX ix_{table}_stored_xact")
        op.execute(f"ALTER TABLE {table} DROP COLUMN stored_xact")
