"""Users and their API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.auth import Principal, Role, require
from api.deps import SessionDep
from api.schemas import UserCreate, UserCreated, UserOut
from api.services import users as service
from api.views import user_out

router = APIRouter(prefix="/users", tags=["users"])

Admin = Annotated[Principal, require(Role.ADMIN)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserCreated)
async def create_user(body: UserCreate, session: SessionDep, _principal: Admin) -> UserCreated:
    """Creates a user and returns its API key. The key is shown only here: store it now."""
    user, key = await service.create_user(session, body)
    return UserCreated(**user_out(user).model_dump(), key=key)


@router.get("", response_model=list[UserOut])
async def list_users(
    session: SessionDep,
    _principal: Admin,
    role: Annotated[Role | None, Query(description="Only users with this role.")] = None,
) -> list[UserOut]:
    """Users without their keys (only hashes are stored, and those are never returned)."""
    return [user_out(u) for u in await service.list_users(session, role)]
