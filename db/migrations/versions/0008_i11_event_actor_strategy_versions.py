"""issue 11 points 10 and 15: events name their actor; strategies keep versions; consumer credit

practices.consumer_credit: the debt is consumer credit (Directive (EU) 2023/2225).

events.actor_kind / actor_id / actor_role: who caused the event (ids and roles only).
strategy_versions: every strategy a creditor saved; creditors.strategy_version is the current
one, practices.strategy_version the one a practice runs. A creditor that had saved a strategy
gets it as version 1 (saved_at: the creditor's creation, saved_by unknown), and its practices
are left without a version (they may run an older one, which was not kept).

Revision ID: 0008_i11_money
Revises: 0007
Create Date: 2026-12-06 03:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_i11_money"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_kind", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("actor_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("actor_role", sa.String(length=20), nullable=True))
    with op.batch_alter_table("creditors", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("strategy_version", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("strategy_version", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("consumer_credit", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "strategy_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("creditor_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.JSON(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_by_id", sa.String(length=64), nullable=True),
        sa.Column("saved_by_role", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["creditor_id"], ["creditors.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("creditor_id", "version", name="uq_strategy_version"),
    )
    with op.batch_alter_table("strategy_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_strategy_versions_creditor_id"), ["creditor_id"], unique=False
        )
    # a strategy saved before versions were kept becomes version 1
    creditors = sa.table(
        "creditors",
        sa.column("id", sa.String),
        sa.column("strategy", sa.JSON),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("strategy_version", sa.Integer),
    )
    versions = sa.table(
        "strategy_versions",
        sa.column("creditor_id", sa.String),
        sa.column("version", sa.Integer),
        sa.column("strategy", sa.JSON),
        sa.column("saved_at", sa.DateTime(timezone=True)),
    )
    conn = op.get_bind()
    for row in conn.execute(
        sa.select(creditors.c.id, creditors.c.strategy, creditors.c.created_at)
    ):
        if row.strategy:
            conn.execute(
                versions.insert().values(
                    creditor_id=row.id, version=1, strategy=row.strategy, saved_at=row.created_at
                )
            )
            conn.execute(
                creditors.update().where(creditors.c.id == row.id).values(strategy_version=1)
            )


def downgrade() -> None:
    with op.batch_alter_table("strategy_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_strategy_versions_creditor_id"))
    op.drop_table("strategy_versions")
    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.drop_column("consumer_credit")
        batch_op.drop_column("strategy_version")
    with op.batch_alter_table("creditors", schema=None) as batch_op:
        batch_op.drop_column("strategy_version")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("actor_role")
        batch_op.drop_column("actor_id")
        batch_op.drop_column("actor_kind")
