"""graph-only models: uploaded with their weights left out (external references)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 02:45:00

Every model stored before this revision was self-contained (external data was refused), so
existing rows take ``false``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A literal default keeps SQLite on ALTER TABLE ADD COLUMN: an expression default (sa.false())
    # makes batch mode copy the table, and dropping the old one cascades to the measurements.
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("graph_only", sa.Boolean(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_column("graph_only")
