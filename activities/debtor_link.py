"""The link to the debtor's own page (api/debtor) that every letter, e-mail and SMS carries.

Issued here, inside the activity that renders or sends, and put only into the document or the
message: the token never crosses Temporal (payloads, history) nor a log. Keyed by the sending
activity's idempotency key, so a retry carries the same link (api.services.debtor_links derives
the token from it)."""

from __future__ import annotations

from datetime import UTC, datetime

import segno

from api.services import debtor_links
from config import Settings
from db.models import Practice
from db.session import Database


async def debtor_link(
    db: Database, settings: Settings, practice: Practice, idempotency_key: str
) -> str:
    """The page's short address for this letter or message: {public_url}/d/{token}."""
    async with db.session() as session:
        _, token = await debtor_links.issue(
            session,
            practice,
            datetime.now(UTC),
            idempotency_key=f"{idempotency_key}:debtor-link",
            secret=debtor_links.link_secret(settings),
        )
    return debtor_links.link_url(settings, token)


def link_qr_data_uri(url: str) -> str:
    """The link as a QR code (PNG data URI) for the letter, beside the payment's."""
    uri: str = segno.make(url, error="m", micro=False).png_data_uri(scale=8, border=4)
    return uri
