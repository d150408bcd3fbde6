"""contact rules: contact log, conversation days (the unique-constraint guard of the daily and
weekly conversation limits) and debtor opt-outs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 04:06:53.190524
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_log",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("debtor_key", sa.String(length=64), nullable=False),
        sa.Column("practice_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practices.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("contact_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_contact_log_debtor_key"), ["debtor_key"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contact_log_practice_id"), ["practice_id"], unique=False
        )

    op.create_table(
        "debtor_opt_outs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("debtor_key", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("practice_id", sa.String(length=32), nullable=True),
        sa.Column("author_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practices.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("debtor_key", "channel", name="uq_debtor_opt_out"),
    )
    with op.batch_alter_table("debtor_opt_outs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_debtor_opt_outs_debtor_key"), ["debtor_key"], unique=False
        )

    op.create_table(
        "conversation_days",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("debtor_key", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("week_slot", sa.Integer(), nullable=False),
        sa.CheckConstraint("week_slot >= 1 AND week_slot <= 3", name="ck_conversation_week_slot"),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact_log.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contact_id"),
        sa.UniqueConstraint("debtor_key", "day", name="uq_conversation_day"),
        sa.UniqueConstraint("debtor_key", "week", "week_slot", name="uq_conversation_week_slot"),
    )


def downgrade() -> None:
    op.drop_table("conversation_days")
    with op.batch_alter_table("debtor_opt_outs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_debtor_opt_outs_debtor_key"))

    op.drop_table("debtor_opt_outs")
    with op.batch_alter_table("contact_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_log_practice_id"))
        batch_op.drop_index(batch_op.f("ix_contact_log_debtor_key"))
        batch_op.drop_index(batch_op.f("ix_contact_log_at"))

    op.drop_table("contact_log")
