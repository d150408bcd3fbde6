"""Who is calling, and the role checks: API keys for machines, console sessions for people.

Every API request carries `Authorization: Bearer rk_...`. Only the key's SHA-256 is stored, so a
copy of the database does not hand out working keys. The admin key comes from RECUPERO_ADMIN_KEY,
or is generated once into `<data dir>/admin.key`.

The web console (api/console) identifies a person by a server-side session (ConsoleSession) whose
random id is the only thing in the cookie. Both ways end in the same `Principal`, and both check
roles with `_check_role`, so a role may do the same things in the console as through the API.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import NowDep, SessionDep, SettingsDep
from api.roles import Role as Role  # the routers take it from here with Principal
from config import Settings
from db.models import ConsoleSession, User
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
    principal = principal_of(user)
    # FastAPI awaits an async dependency in the request's own task: the endpoint, and
    # send_update within it, see this caller (point 10: the commands name who sent them)
    _CALLER.set(principal)
    return principal


def principal_of(user: User) -> Principal:
    return Principal(
        id=user.id,
        role=Role(user.role),
        name=user.name,
        creditor_id=user.creditor_id,
        provinces=frozenset(user.provinces or ()),
    )


_CALLER: ContextVar[Principal | None] = ContextVar("recupero_caller", default=None)


# a request acting for someone without a user row: the debtor on their own page (api/debtor)
_ACTOR: ContextVar[Actor | None] = ContextVar("recupero_request_actor", default=None)


def act_as(actor: Actor) -> None:
    """Called by a dependency (in the request's task, like authenticate()): the commands the
    request sends name `actor`."""
    _ACTOR.set(actor)


def calling_actor() -> Actor | None:
    """The authenticated caller of the current request as an actor (id and role), if any."""
    actor = _ACTOR.get()
    if actor is not None:
        return actor
    principal = _CALLER.get()
    return None if principal is None else user_actor(principal.id, principal.role.value)


def _check_role(principal: Principal, allowed: frozenset[Role]) -> Principal:
    """The one role check of the API and the console."""
    if principal.role not in allowed:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail=f"role {principal.role.value} may not do this; allowed: "
            + ", ".join(sorted(r.value for r in allowed)),
        )
    return principal


def require(*roles: Role) -> Any:
    """`Annotated[Principal, require(...)]`: admits only these roles, 403 for the others."""
    allowed = frozenset(roles)

    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        return _check_role(principal, allowed)

    return Depends(check)


# --- the console's people: passwords and sessions ---------------------------------------------

SESSION_COOKIE = "recupero_session"

# argon2id with the library's defaults (RFC 9106's low-memory profile); check_needs_rehash lets
# a later change of parameters upgrade hashes at the next login
password_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return password_hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # the same work as a real check, so a missing account does not answer faster
        password_hasher.hash(password)
        return False
    try:
        return password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class LoginRequired(Exception):
    """No valid console session: the console answers with its login page."""


@dataclass(frozen=True)
class ConsoleLogin:
    """The console session of a request and its user."""

    session: ConsoleSession
    user: User


async def load_console_login(
    db: AsyncSession, request: Request, settings: Settings, now: datetime
) -> ConsoleLogin | None:
    """The request's session if it is alive, its last-seen time moved to now; an expired one
    (idle or absolute timeout) or one of a deactivated user is deleted. Looked up once per
    request (the CSRF check and the role check both ask)."""
    cached: ConsoleLogin | None | bool = getattr(request.state, "console_login", False)
    if cached is not False:
        return cached if isinstance(cached, ConsoleLogin) else None
    login = await _load_console_login(db, request, settings, now)
    request.state.console_login = login
    return login


async def _load_console_login(
    db: AsyncSession, request: Request, settings: Settings, now: datetime
) -> ConsoleLogin | None:
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    row = await db.get(ConsoleSession, session_id)
    if row is None:
        return None
    user = await db.get(User, row.user_id)
    idle = timedelta(minutes=settings.session_idle_minutes)
    if user is None or not user.active or now >= row.expires_at or now - row.last_seen_at > idle:
        await db.delete(row)
        await db.commit()
        return None
    row.last_seen_at = now
    await db.commit()
    return ConsoleLogin(session=row, user=user)


async def current_console_login(
    request: Request, db: SessionDep, settings: SettingsDep, now: NowDep
) -> ConsoleLogin:
    """A logged-in person (password and, if enrolled, the TOTP code), else LoginRequired."""
    login = await load_console_login(db, request, settings, now)
    if login is None or not login.session.verified:
        raise LoginRequired()
    return login


# the roles that act for money (the agency's whole book, a creditor's): two-factor login is
# recommended to them, and with Settings.two_factor_required it is a must
TWO_FACTOR_ROLES = frozenset({Role.ADMIN, Role.CREDITOR})


class EnrolmentRequired(Exception):
    """The person must turn on two-factor login first: the console sends them to it."""


def check_enrolment(user: User, settings: Settings) -> None:
    if (
        settings.two_factor_required
        and Role(user.role) in TWO_FACTOR_ROLES
        and user.totp_secret is None
    ):
        raise EnrolmentRequired()


async def session_principal(
    login: Annotated[ConsoleLogin, Depends(current_console_login)], settings: SettingsDep
) -> Principal:
    """current_principal's twin for the console: the same Principal, from the session."""
    check_enrolment(login.user, settings)
    principal = principal_of(login.user)
    _CALLER.set(principal)  # a console action's commands name the person, as the API's do
    return principal


def console_require(*roles: Role) -> Any:
    """`Annotated[Principal, console_require(...)]`: require() for console pages."""
    allowed = frozenset(roles)

    async def check(principal: Annotated[Principal, Depends(session_principal)]) -> Principal:
        return _check_role(principal, allowed)

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
