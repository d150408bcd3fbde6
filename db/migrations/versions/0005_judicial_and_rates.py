"""judicial phase and rates: the court deadlines, the judicial snapshot on the practice, and the
interest rates the admin adds

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-24 04:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("judicial", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("judicial_version", sa.Integer(), nullable=False, server_default="0")
        )

    op.create_table(
        "deadlines",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("practice_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("lawyer_id", sa.String(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["practice_id"], ["practices.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("practice_id", "kind", "start", name="uq_deadline_practice_kind_start"),
    )
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deadlines_practice_id"), ["practice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deadlines_last_day"), ["last_day"], unique=False)
        batch_op.create_index(batch_op.f("ix_deadlines_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_deadlines_lawyer_id"), ["lawyer_id"], unique=False)

    op.create_table(
        "rate_periods",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=True),
        sa.Column("rate", sa.Numeric(precision=6, scale=3), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rate_periods", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_periods_kind"), ["kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rate_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_periods_kind"))
    op.drop_table("rate_periods")
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deadlines_lawyer_id"))
        batch_op.drop_index(batch_op.f("ix_deadlines_status"))
        batch_op.drop_index(batch_op.f("ix_deadlines_last_day"))
        batch_op.drop_index(batch_op.f("ix_deadlines_practice_id"))
    op.drop_table("deadlines")
    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.drop_column("judicial_version")
        batch_op.drop_column("judicial")
