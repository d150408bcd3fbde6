"""The agency's own settings the admin edits through the API: what each kind of contact costs
(a letter, an SMS, an e-mail, a call), which prices the contacts in an experiment's results
(GET /creditors/{id}/experiments/{eid}/results: cost per euro recovered). The console's
settings page calls the same service (api/services/lab_results.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.auth import Principal, Role, require
from api.deps import SessionDep
from api.schemas_lab import ContactCostsModel
from api.services import lab_results

router = APIRouter(prefix="/settings", tags=["settings"])

Admin = Annotated[Principal, require(Role.ADMIN)]


@router.get("/contact-costs", response_model=ContactCostsModel)
async def get_contact_costs(session: SessionDep, _admin: Admin) -> ContactCostsModel:
    """Cents per contact by kind; 0 for a kind never set."""
    return ContactCostsModel(**await lab_results.unit_costs(session))


@router.put("/contact-costs", response_model=ContactCostsModel)
async def put_contact_costs(
    body: ContactCostsModel, session: SessionDep, admin: Admin
) -> ContactCostsModel:
    """Sets every kind's cost in integer cents (0 or more). The next results read use them."""
    saved = await lab_results.save_unit_costs(session, body.model_dump(), admin)
    return ContactCostsModel(**saved)
