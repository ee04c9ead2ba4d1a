"""deleted_person: tombstones of deleted persons

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Deleting a person removes their row and every ping (the foreign key cascades). A tombstone keeps only the
id and when: a ping or the person's own creation still on its way through Kafka (or replayed by a client
retrying an old request) is then refused instead of bringing them back. The id is a random UUID, not
personal data; nothing else of the person is kept.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deleted_person",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("deleted_person")
