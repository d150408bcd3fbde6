"""issue 15, the lab's results: what a letter, an SMS, an e-mail and a call cost the agency

contact_unit_costs: one row per kind of contact, in cents, set by the admin; the experiments'
results divide the contacts' cost by the amount recovered.

Revision ID: 0020_i15_contact_costs
Revises: 0019_i17_provider_limits
Create Date: 2026-12-06 19:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_i15_contact_costs"
down_revision = "0019_i17_provider_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_unit_costs",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.String(length=64), nullable=True),
        sa.Column("updated_by_role", sa.String(length=20), nullable=True),
        sa.CheckConstraint("cents >= 0", name="ck_contact_unit_cost_cents"),
        sa.PrimaryKeyConstraint("kind"),
    )


def downgrade() -> None:
    op.drop_table("contact_unit_costs")
