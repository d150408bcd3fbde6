"""The links to a practice's debtor page (issue 13), for the admin and the practice's creditor:
the list (never the tokens: only their hashes are stored) and revoking them all, e.g. when a
letter went to the wrong address. A revoked link shows the same "does not work" page as an
unknown one; the debtor's open sessions on it end with it. The next letter issues a new one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.access import load_practice
from api.auth import Principal, Role, require
from api.deps import NowDep, SessionDep
from api.services import debtor_links
from db.models import DebtorLink

router = APIRouter(
    prefix="/practices/{practice_id}/debtor-links",
    tags=["debtor-links"],
    responses={
        403: {"description": "Wrong role, or another creditor's practice."},
        404: {"description": "Unknown practice."},
    },
)

Manager = Annotated[Principal, require(Role.ADMIN, Role.CREDITOR)]


class DebtorLinkOut(BaseModel):
    id: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    locked_until: datetime | None
    works: bool = Field(description="Neither expired nor revoked.")


class RevokedOut(BaseModel):
    revoked: int = Field(description="How many working links were revoked.")


def _out(link: DebtorLink, now: datetime) -> DebtorLinkOut:
    return DebtorLinkOut(
        id=link.id,
        created_at=link.created_at,
        expires_at=link.expires_at,
        revoked_at=link.revoked_at,
        locked_until=link.locked_until,
        works=debtor_links.works(link, now),
    )


@router.get("", response_model=list[DebtorLinkOut])
async def list_links(
    practice_id: str, session: SessionDep, principal: Manager, now: NowDep
) -> list[DebtorLinkOut]:
    """The practice's links, newest first, without their tokens."""
    practice = await load_practice(session, principal, practice_id)
    return [_out(link, now) for link in await debtor_links.links_of(session, practice.id)]


@router.post("/revoke", response_model=RevokedOut)
async def revoke(
    practice_id: str, session: SessionDep, principal: Manager, now: NowDep
) -> RevokedOut:
    """Revokes every working link of the practice."""
    practice = await load_practice(session, principal, practice_id)
    return RevokedOut(revoked=await debtor_links.revoke_all(session, practice.id, now))
