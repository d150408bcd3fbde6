"""the debtor's own page (issue 13): the links carried by letters, e-mails and SMS (only the
token's hash), and the debtor's sessions after the second step

Revision ID: 0011_debtor_links
Revises: 0010_portfolio_index
Create Date: 2026-12-06 05:35:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_debtor_links"
down_revision = "0010_portfolio_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "debtor_links",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("practice_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["practice_id"], ["practices.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index("ix_debtor_links_practice_id", "debtor_links", ["practice_id"])
    op.create_table(
        "debtor_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("link_id", sa.String(length=32), nullable=False),
        sa.Column("practice_id", sa.String(length=32), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["debtor_links.id"]),
        sa.ForeignKeyConstraint(["practice_id"], ["practices.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_debtor_sessions_link_id", "debtor_sessions", ["link_id"])
    op.create_index("ix_debtor_sessions_practice_id", "debtor_sessions", ["practice_id"])


def downgrade() -> None:
    op.drop_index("ix_debtor_sessions_practice_id", table_name="debtor_sessions")
    op.drop_index("ix_debtor_sessions_link_id", table_name="debtor_sessions")
    op.drop_table("debtor_sessions")
    op.drop_index("ix_debtor_links_practice_id", table_name="debtor_links")
    op.drop_table("debtor_links")
