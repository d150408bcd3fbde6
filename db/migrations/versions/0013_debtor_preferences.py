"""issue 13: the debtor's preferred time of day (debtor_contact_preferences), and notes the
debtor writes themselves (practice_notes.author_id may be null)

Revision ID: 0013_debtor_preferences
Revises: 0012_card_payments
Create Date: 2026-12-06 05:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_debtor_preferences"
down_revision = "0012_card_payments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "debtor_contact_preferences",
        sa.Column("debtor_key", sa.String(length=64), nullable=False),
        sa.Column("preferred_window", sa.String(length=20), nullable=False),
        sa.Column("practice_id", sa.String(length=32), nullable=True),
        sa.Column("author_id", sa.String(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["practice_id"], ["practices.id"]),
        sa.PrimaryKeyConstraint("debtor_key"),
    )
    with op.batch_alter_table("practice_notes", schema=None) as batch_op:
        batch_op.alter_column("author_id", existing_type=sa.String(length=32), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("practice_notes", schema=None) as batch_op:
        batch_op.alter_column("author_id", existing_type=sa.String(length=32), nullable=False)
    op.drop_table("debtor_contact_preferences")
