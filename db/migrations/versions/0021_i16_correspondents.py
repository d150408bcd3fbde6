"""issue 16 (debtors abroad): a foreign correspondent's countries, as a field agent's provinces

users.countries: the ISO 3166-1 alpha-2 codes of the countries a foreign correspondent covers
(role "correspondent"); empty for every other user, so every existing one.

Revision ID: 0021_i16_correspondents
Revises: 0020_i15_contact_costs
Create Date: 2026-12-06 19:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_i16_correspondents"
down_revision = "0020_i15_contact_costs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("countries", sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("countries")
