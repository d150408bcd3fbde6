"""API keys and roles.

Every request carries `Authorization: Bearer rk_...`. Only the key's SHA-256 is stored, so a copy
of the database does not hand out working keys. The admin key comes from RECUPERO_ADMIN_KEY, or
is generated once into `<data dir>/admin.key`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from api.deps import SessionDep
from api.roles import Role as Role  # the routers take it from here with Principal
from config import Settings
from db.models import User
from db.session import Database
from domain.actor import Actor
from domain.actor import user as user_actor

log = logging.getLogger(__name__)

KEY_PREFIX = "rk_"
ADMIN_USER_ID = "admin"
ADMIN_KEY_FILE = "admin.key"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: enough to decide access without another query."""

    id: str
    role: Role
    name: str
    creditor_id: str | None
    provinces: frozenset[str]


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="API key",
    description="`Authorization: Bearer rk_...`; keys are issued by POST /users (shown once).",
)

_UNAUTHORIZED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="missing or unknown API key",
    headers={"WWW-Authenticate": "Bearer"},
)


async def current_principal(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise _UNAUTHORIZED
    user = await session.scalar(
        select(User).where(User.key_hash == hash_key(credentials.credentials), User.active)
    )
    if user is None:
        raise _UNAUTHORIZED
    principal = Principal(
        id=user.id,
        role=Role(user.role),
        name=user.name,
        creditor_id=user.creditor_id,
        provinces=frozenset(user.provinces or ()),
    )
    # FastAPI awaits an async dependency in the request's own task: the endpoint, and
    # send_update within it, see this caller (point 10: the commands name who sent them)
    _CALLER.set(principal)
    return principal


_CALLER: ContextVar[Principal | None] = ContextVar("recupero_caller", default=None)


def calling_actor() -> Actor | None:
    """The authenticated caller of the current request as an actor (id and role), if any."""
    principal = _CALLER.get()
    return None if principal is None else user_actor(principal.id, principal.role.value)


def require(*roles: Role) -> Any:
    """`Annotated[Principal, require(...)]`: admits only these roles, 403 for the others."""
    allowed = frozenset(roles)

    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN,
                detail=f"role {principal.role.value} may not do this; allowed: "
                + ", ".join(sorted(r.value for r in allowed)),
            )
        return principal

    return Depends(check)


def _read_or_create_key_file(settings: Settings) -> tuple[str, bool]:
    """The generated admin key and whether it was created now."""
    path = settings.data_dir / ADMIN_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    key = new_key()
    try:
        # O_EXCL: two processes starting together (api and cli) must not write two different keys
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        existing = path.read_text(encoding="utf-8").strip()
        if not existing.startswith(KEY_PREFIX):
            raise RuntimeError(
                f"{path} does not hold an API key; delete it to make a new one"
            ) from None
        return existing, False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    os.chmod(path, 0o600)  # the umask can only narrow O_CREAT's mode; make it exact
    return key, True


async def ensure_admin_key(db: Database, settings: Settings) -> str | None:
    """Makes sure the user "admin" exists and answers to the configured admin key.

    With RECUPERO_ADMIN_KEY set, that key is used and None is returned (whoever set it knows it).
    Without it, a key is generated once into `<data dir>/admin.key` (mode 600) and reused on
    later starts; the key is returned only on the start that created it, so the CLI prints it
    once and never echoes a secret on every restart.
    """
    created = False
    if settings.admin_key:
        key = settings.admin_key
    else:
        key, created = _read_or_create_key_file(settings)
    key_hash = hash_key(key)
    async with db.session() as session:
        admin = await session.get(User, ADMIN_USER_ID)
        if admin is None:
            session.add(
                User(id=ADMIN_USER_ID, role=Role.ADMIN.value, name="admin", key_hash=key_hash)
            )
        else:
            # a changed RECUPERO_ADMIN_KEY replaces the old one: the old key stops working
            admin.key_hash = key_hash
            admin.role = Role.ADMIN.value
            admin.active = True
        await session.commit()
    if created:
        log.info("generated the admin API key into %s", settings.data_dir / ADMIN_KEY_FILE)
    return key if created else None
