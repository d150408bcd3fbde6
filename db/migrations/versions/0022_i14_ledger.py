"""issue 14 (one ledger): ledger_lines, the typed payments, costs, reductions and write-offs the
workflow books (domain/ledger.py), built once here from the events of the practices recorded
before (db/ledger_backfill.py), so their statements and reports stay what they were.

Revision ID: 0022_i14_ledger
Revises: 0021_i16_correspondents
Create Date: 2026-12-06 19:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

from db.ledger_backfill import backfill_ledger

revision = "0022_i14_ledger"
down_revision = "0021_i16_correspondents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_lines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("practice_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("invoice_number", sa.Text(), nullable=True),
        sa.Column("cost_kind", sa.String(length=30), nullable=True),
        sa.Column("actor_kind", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["practice_id"], ["practices.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("practice_id", "seq", name="uq_ledger_seq"),
    )
    op.create_index("ix_ledger_lines_practice_id", "ledger_lines", ["practice_id"], unique=False)
    op.create_index("ix_ledger_lines_kind_day", "ledger_lines", ["kind", "day"], unique=False)
    backfill_ledger(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_ledger_lines_kind_day", table_name="ledger_lines")
    op.drop_index("ix_ledger_lines_practice_id", table_name="ledger_lines")
    op.drop_table("ledger_lines")
