"""card payments through Stripe Checkout (api/services/card_payments.py): one row per Checkout
Session, its amount and what Stripe's signed webhook said

Revision ID: 0012_card_payments
Revises: 0011_debtor_links
Create Date: 2026-12-06 05:35:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_card_payments"
down_revision = "0011_debtor_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "card_payments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("practice_id", sa.String(length=32), nullable=False),
        sa.Column("stripe_session_id", sa.String(length=255), nullable=False),
        sa.Column("checkout_url", sa.Text(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("started_by_kind", sa.String(length=20), nullable=False),
        sa.Column("started_by_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stripe_payment_intent", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["practice_id"], ["practices.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stripe_session_id"),
    )
    with op.batch_alter_table("card_payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_card_payments_practice_id"), ["practice_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("card_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_payments_practice_id"))
    op.drop_table("card_payments")
