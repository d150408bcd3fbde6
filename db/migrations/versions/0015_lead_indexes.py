"""indexes for the scrape's gauges at a large portfolio: deliveries (status, channel) for the
outbox backlog, conversation_days.day for today's conversations

Revision ID: 0015_lead_indexes
Revises: 0014_i14_print_batches
Create Date: 2026-12-06 07:35:00.000000
"""

from alembic import op

revision = "0015_lead_indexes"
down_revision = "0014_i14_print_batches"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deliveries_status_channel", "deliveries", ["status", "channel"])
    op.create_index("ix_conversation_days_day", "conversation_days", ["day"])


def downgrade() -> None:
    op.drop_index("ix_conversation_days_day", table_name="conversation_days")
    op.drop_index("ix_deliveries_status_channel", table_name="deliveries")
