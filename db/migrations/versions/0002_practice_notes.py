"""practice notes: free text written with commands, kept out of workflow histories

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 03:56:00.197111
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "practice_notes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("practice_id", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["practice_id"], ["practices.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("practice_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_practice_notes_practice_id"), ["practice_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("practice_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_practice_notes_practice_id"))
    op.drop_table("practice_notes")
