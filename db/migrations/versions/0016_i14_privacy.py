"""issue 14: personal data that ends. A creditor's retention period (creditors.retention_days),
when a practice closed and when its debtor's data was erased (practices.closed_at, erased_at),
the debtors' erasure requests (erasure_requests) and who read whose data (access_log).

Practices closed before this migration get closed_at from their "closed" event (the
workflow's own time), or their last update when the event is missing.

Revision ID: 0016_i14_privacy
Revises: 0015_lead_indexes
Create Date: 2026-12-06 07:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_i14_privacy"
down_revision = "0015_lead_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("creditors", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retention_days", sa.Integer(), server_default="3653", nullable=False)
        )
    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_practices_creditor_closed", ["creditor_id", "closed_at"], unique=False
        )
    op.execute(
        "UPDATE practices SET closed_at = COALESCE("
        "(SELECT MIN(events.at) FROM events"
        " WHERE events.practice_id = practices.id AND events.kind = 'closed'),"
        " practices.updated_at) WHERE practices.status = 'closed'"
    )
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("practice_id", sa.String(length=32), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_kind", sa.String(length=20), nullable=False),
        sa.Column("recorded_by_id", sa.String(length=64), nullable=True),
        sa.Column("recorded_by_role", sa.String(length=20), nullable=True),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("erased", sa.JSON(), nullable=False),
        sa.Column("kept", sa.JSON(), nullable=False),
        sa.Column("keep_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["practice_id"], ["practices.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_erasure_requests_practice_id", "erasure_requests", ["practice_id"], unique=False
    )
    op.create_index(
        "ix_erasure_requests_requested_at", "erasure_requests", ["requested_at"], unique=False
    )
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("practice_id", sa.String(length=32), nullable=False),
        sa.Column("what", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_access_log_at", "access_log", ["at"], unique=False)
    op.create_index("ix_access_log_practice_id", "access_log", ["practice_id", "id"], unique=False)
    op.create_index("ix_access_log_user_id", "access_log", ["user_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_access_log_user_id", table_name="access_log")
    op.drop_index("ix_access_log_practice_id", table_name="access_log")
    op.drop_index("ix_access_log_at", table_name="access_log")
    op.drop_table("access_log")
    op.drop_index("ix_erasure_requests_requested_at", table_name="erasure_requests")
    op.drop_index("ix_erasure_requests_practice_id", table_name="erasure_requests")
    op.drop_table("erasure_requests")
    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.drop_index("ix_practices_creditor_closed")
        batch_op.drop_column("erased_at")
        batch_op.drop_column("closed_at")
    with op.batch_alter_table("creditors", schema=None) as batch_op:
        batch_op.drop_column("retention_days")
