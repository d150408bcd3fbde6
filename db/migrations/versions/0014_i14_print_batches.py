"""issue 14: the day's print batch closed at the cut-off (print_batches, print_batch_items)

Revision ID: 0014_i14_print_batches
Revises: 0013_debtor_preferences
Create Date: 2026-12-06 07:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_i14_print_batches"
down_revision = "0013_debtor_preferences"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "print_batches",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cutoff_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day"),
    )
    op.create_table(
        "print_batch_items",
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["print_batches.id"]),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"]),
        sa.PrimaryKeyConstraint("batch_id", "position"),
        sa.UniqueConstraint("delivery_id"),
    )


def downgrade() -> None:
    op.drop_table("print_batch_items")
    op.drop_table("print_batches")
