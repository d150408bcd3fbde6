"""Users and their API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from api.auth import Principal, Role, hash_key, new_key, require
from api.deps import SessionDep
from api.errors import invalid
from api.schemas import UserCreate, UserCreated, UserOut
from api.views import user_out
from db.models import Creditor, User

router = APIRouter(prefix="/users", tags=["users"])

Admin = Annotated[Principal, require(Role.ADMIN)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserCreated)
async def create_user(body: UserCreate, session: SessionDep, _principal: Admin) -> UserCreated:
    """Creates a user and returns its API key. The key is shown only here: store it now."""
    if body.creditor_id is not None and await session.get(Creditor, body.creditor_id) is None:
        raise invalid(["body", "creditor_id"], "no creditor with this id")
    key = new_key()
    user = User(
        role=body.role.value,
        name=body.name,
        email=body.email,
        phone=body.phone,
        creditor_id=body.creditor_id,
        provinces=list(body.provinces),
        key_hash=hash_key(key),
    )
    session.add(user)
    await session.commit()
    return UserCreated(**user_out(user).model_dump(), key=key)


@router.get("", response_model=list[UserOut])
async def list_users(
    session: SessionDep,
    _principal: Admin,
    role: Annotated[Role | None, Query(description="Only users with this role.")] = None,
) -> list[UserOut]:
    """Users without their keys (only hashes are stored, and those are never returned)."""
    query = select(User).order_by(User.role, User.name, User.id)
    if role is not None:
        query = query.where(User.role == role.value)
    return [user_out(u) for u in await session.scalars(query)]
