"""Users: create (with an API key), list, change role, a correspondent's countries, deactivate.

The /users router and the console's users page call these; validation errors are raised with
`api.errors.invalid` (FastAPI's 422 shape), which the console shows next to the field."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import ADMIN_USER_ID, hash_key, new_key
from api.errors import invalid, not_found
from api.roles import Role
from api.schemas import ONLY_CORRESPONDENTS_COUNTRIES, UserCreate
from db.models import ConsoleSession, Creditor, User

# roles whose user carries its scope from creation: a creditor, provinces, countries
MADE_WITH_SCOPE = (Role.CREDITOR, Role.FIELD_AGENT, Role.FOREIGN_CORRESPONDENT)
ROLE_NEEDS_SCOPE = (
    "a creditor, field agent or foreign correspondent user is created with its creditor, "
    "provinces or countries"
)


async def create_user(session: AsyncSession, body: UserCreate) -> tuple[User, str]:
    """Adds the user (committed) and returns it with its API key, which is stored hashed only."""
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
        countries=list(body.countries),
        key_hash=hash_key(key),
    )
    session.add(user)
    await session.commit()
    return user, key


async def list_users(session: AsyncSession, role: Role | None = None) -> list[User]:
    query = select(User).order_by(User.role, User.name, User.id)
    if role is not None:
        query = query.where(User.role == role.value)
    return list(await session.scalars(query))


async def _changeable(session: AsyncSession, user_id: str) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise not_found("user")
    if user.id == ADMIN_USER_ID:
        # the bootstrap admin answers to RECUPERO_ADMIN_KEY: demoting or deactivating it would
        # be undone at the next start (ensure_admin_key), so it is refused now
        raise invalid(["path", "user_id"], "the bootstrap admin cannot be changed")
    return user


async def change_role(session: AsyncSession, user_id: str, role: Role) -> User:
    """A new role; only to admin, operator or lawyer, which carry no creditor or territory (a
    creditor's, field agent's or correspondent's user is made anew with its creditor, provinces
    or countries)."""
    user = await _changeable(session, user_id)
    if role in MADE_WITH_SCOPE and user.role != role.value:
        raise invalid(["body", "role"], ROLE_NEEDS_SCOPE)
    if role not in MADE_WITH_SCOPE:
        user.creditor_id = None
        user.provinces = []
        user.countries = []
    user.role = role.value
    # a session carries the old role's pages open: the user logs in again
    await session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
    await session.commit()
    return user


async def set_countries(session: AsyncSession, user_id: str, countries: list[str]) -> User:
    """A foreign correspondent's countries (already validated: UserCountriesChange). The
    visits it was assigned stay its own; the next assignments follow the new countries."""
    user = await session.get(User, user_id)
    if user is None:
        raise not_found("user")
    if user.role != Role.FOREIGN_CORRESPONDENT.value:
        raise invalid(["body", "countries"], ONLY_CORRESPONDENTS_COUNTRIES)
    user.countries = list(countries)
    await session.commit()
    return user


async def deactivate(session: AsyncSession, user_id: str) -> User:
    """The user can no longer call the API or log in; their console sessions end now."""
    user = await _changeable(session, user_id)
    user.active = False
    await session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
    await session.commit()
    return user
