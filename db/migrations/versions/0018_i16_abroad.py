"""issue 16 (debtors abroad): the debtor's region, language and time zone on practices; tax and
VAT numbers of other countries need up to 20 characters

Revision ID: 0018_i16_abroad
Revises: 0017_i15_segments
Create Date: 2026-12-06 07:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_i16_abroad"
down_revision = "0017_i15_segments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # every practice so far is an Italian debtor's: Italian, in Rome, without a region
    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("region", sa.String(length=100), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("language", sa.String(length=8), server_default="it", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "time_zone", sa.String(length=64), server_default="Europe/Rome", nullable=False
            )
        )
        batch_op.alter_column(
            "debtor_tax_code",
            existing_type=sa.String(length=16),
            type_=sa.String(length=20),
            existing_nullable=True,
        )
        batch_op.alter_column(
            "debtor_vat_number",
            existing_type=sa.String(length=11),
            type_=sa.String(length=20),
            existing_nullable=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.alter_column(
            "debtor_vat_number",
            existing_type=sa.String(length=20),
            type_=sa.String(length=11),
            existing_nullable=True,
        )
        batch_op.alter_column(
            "debtor_tax_code",
            existing_type=sa.String(length=20),
            type_=sa.String(length=16),
            existing_nullable=True,
        )
        batch_op.drop_column("time_zone")
        batch_op.drop_column("language")
        batch_op.drop_column("region")
