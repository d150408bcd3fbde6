"""Users and their API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.auth import Principal, Role, require
from api.deps import SessionDep, TemporalDep
from api.schemas import (
    UserCountriesChange,
    UserCountriesSet,
    UserCreate,
    UserCreated,
    UserOut,
    UserRoleChange,
)
from api.services import users as service
from api.services import visits
from api.views import user_out

router = APIRouter(prefix="/users", tags=["users"])

Admin = Annotated[Principal, require(Role.ADMIN)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserCreated)
async def create_user(
    body: UserCreate, session: SessionDep, temporal: TemporalDep, principal: Admin
) -> UserCreated:
    """Creates a user and returns its API key. The key is shown only here: store it now.

    A foreign correspondent takes at once the home visits that waited for one (nobody
    assigned, the debtor in one of its countries): `visits_assigned` says how many."""
    user, key = await service.create_user(session, body)
    assigned = await visits.pick_up_waiting(session, temporal, principal, user)
    return UserCreated(**user_out(user).model_dump(), key=key, visits_assigned=assigned)


@router.get("", response_model=list[UserOut])
async def list_users(
    session: SessionDep,
    _principal: Admin,
    role: Annotated[Role | None, Query(description="Only users with this role.")] = None,
) -> list[UserOut]:
    """Users without their keys (only hashes are stored, and those are never returned)."""
    return [user_out(u) for u in await service.list_users(session, role)]


@router.put("/{user_id}/role", response_model=UserOut)
async def change_role(
    user_id: str, body: UserRoleChange, session: SessionDep, _principal: Admin
) -> UserOut:
    """A new role: admin, operator or lawyer. 404 unknown user; 422 for the bootstrap admin
    (it answers to RECUPERO_ADMIN_KEY) or a change to creditor or field agent."""
    return user_out(await service.change_role(session, user_id, body.role))


@router.put("/{user_id}/countries", response_model=UserCountriesSet)
async def set_countries(
    user_id: str,
    body: UserCountriesChange,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Admin,
) -> UserCountriesSet:
    """A foreign correspondent's countries (replacing its list). 404 unknown user; 422 for a
    user that is not a correspondent, an unknown code or IT. An active correspondent takes at
    once the home visits waiting in its countries (`visits_assigned` says how many)."""
    user = await service.set_countries(session, user_id, body.countries)
    assigned = await visits.pick_up_waiting(session, temporal, principal, user)
    return UserCountriesSet(**user_out(user).model_dump(), visits_assigned=assigned)


@router.post("/{user_id}/deactivate", response_model=UserOut)
async def deactivate(user_id: str, session: SessionDep, _principal: Admin) -> UserOut:
    """The user's API key and console login stop working at once. 404 unknown user; 422 for
    the bootstrap admin."""
    return user_out(await service.deactivate(session, user_id))
