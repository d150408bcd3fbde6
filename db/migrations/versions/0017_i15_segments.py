"""issue 15, segments and steps: named strategies, segment rules, champion/challenger experiments

strategy_versions.name: each creditor's strategies are named; the versions saved so far are the
creditor's "default" strategy (the one PUT /creditors/{id}/strategy edits, still mirrored in
creditors.strategy / strategy_version), so the unique key becomes (creditor, name, version).
segment_versions: a creditor's ordered segment rules, each save a version. experiments: the
champion/challenger experiments. practices: how the strategy was chosen at hand-over (named
strategy, segments' version and rule, experiment and arm); None for practices handed over before.

Revision ID: 0017_i15_segments
Revises: 0016_i14_privacy
Create Date: 2026-12-06 08:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_i15_segments"
down_revision = "0016_i14_privacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("strategy_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name", sa.String(length=40), nullable=False, server_default="default")
        )
        batch_op.drop_constraint("uq_strategy_version", type_="unique")
        batch_op.create_unique_constraint(
            "uq_strategy_name_version", ["creditor_id", "name", "version"]
        )
    op.create_table(
        "segment_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("creditor_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("default_strategy", sa.String(length=40), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_by_id", sa.String(length=64), nullable=True),
        sa.Column("saved_by_role", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["creditor_id"], ["creditors.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("creditor_id", "version", name="uq_segment_version"),
    )
    op.create_index(
        "ix_segment_versions_creditor_id", "segment_versions", ["creditor_id"], unique=False
    )
    op.create_table(
        "experiments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("creditor_id", sa.String(length=32), nullable=False),
        sa.Column("segment", sa.String(length=40), nullable=False),
        sa.Column("arms", sa.JSON(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.String(length=64), nullable=True),
        sa.Column("created_by_role", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["creditor_id"], ["creditors.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_experiments_creditor_id", "experiments", ["creditor_id"], unique=False)
    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("strategy_name", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("segments_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("segment_rule", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("experiment_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("experiment_arm", sa.String(length=20), nullable=True))
        batch_op.create_index("ix_practices_experiment_id", ["experiment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.drop_index("ix_practices_experiment_id")
        batch_op.drop_column("experiment_arm")
        batch_op.drop_column("experiment_id")
        batch_op.drop_column("segment_rule")
        batch_op.drop_column("segments_version")
        batch_op.drop_column("strategy_name")
    op.drop_index("ix_experiments_creditor_id", table_name="experiments")
    op.drop_table("experiments")
    op.drop_index("ix_segment_versions_creditor_id", table_name="segment_versions")
    op.drop_table("segment_versions")
    # only the default strategies fit the old key (creditor, version)
    op.execute("DELETE FROM strategy_versions WHERE name <> 'default'")
    with op.batch_alter_table("strategy_versions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_strategy_name_version", type_="unique")
        batch_op.create_unique_constraint("uq_strategy_version", ["creditor_id", "version"])
        batch_op.drop_column("name")
