"""the practices list's keyset pages (api/services/practice_pages.py): (creditor_id, created_at,
id) and (created_at, id) for every creditor's list, both carrying the other filters' columns, and
(creditor_id, status, created_at, id)

Revision ID: 0010_portfolio_index
Revises: 0009_console
Create Date: 2026-12-06 05:10:00.000000
"""

from alembic import op

revision = "0010_portfolio_index"
down_revision = "0009_console"
branch_labels = None
depends_on = None

# the portfolio's other filters, carried by the indexes so that they and the count need no
# table row (db/models.py's PORTFOLIO, copied: a migration does not follow later model changes)
FILTERS = ["status", "phase", "outcome", "debtor_kind", "claim_cents"]
INDEXES = {
    "ix_practices_creditor_created": ["creditor_id", "created_at", "id", *FILTERS],
    "ix_practices_creditor_status_created": ["creditor_id", "status", "created_at", "id"],
    "ix_practices_created_id": ["created_at", "id", *FILTERS],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "practices", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="practices")
