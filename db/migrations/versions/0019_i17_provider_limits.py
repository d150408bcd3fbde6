"""issue 17 (provider limits): a token bucket per provider shared by every worker, and the
deliveries a provider's outage or rate limit parked (why, and when the next try is)

Revision ID: 0019_i17_provider_limits
Revises: 0018_i16_abroad
Create Date: 2026-12-06 19:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_i17_provider_limits"
down_revision = "0018_i16_abroad"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider_buckets",
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("counted_at", sa.Float(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("provider"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_reason", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("retry_at")
        batch_op.drop_column("retry_reason")
    op.drop_table("provider_buckets")
