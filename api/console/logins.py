"""Logging people in: passwords with lockout, sessions, one-time invitations, TOTP.

Kept apart from the routes so the bootstrap (cli.py) and tests use the same functions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import pyotp
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import ADMIN_USER_ID, hash_password, password_matches
from config import Settings
from db.models import ConsoleSession, Invitation, User
from db.session import Database
from domain.identifiers import normalize_email

MIN_PASSWORD_LENGTH = 12
TOTP_ISSUER = "Recupero"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class LoginOutcome(StrEnum):
    OK = "ok"
    NEEDS_CODE = "needs_code"
    WRONG = "wrong"
    LOCKED = "locked"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    session: ConsoleSession | None = None


def email_key(email: str) -> str:
    """How e-mails are compared for logging in: the API's normalisation (which keeps the local
    part's case), then case-folded: nobody expects Mario.Rossi@ and mario.rossi@ to differ."""
    try:
        return normalize_email(email.strip()).lower()
    except ValueError:
        return email.strip().lower()


async def _user_by_email(db: AsyncSession, email: str) -> User | None:
    found = await db.scalars(
        select(User)
        .where(
            func.lower(User.email) == email_key(email),
            User.active,
            User.password_hash.is_not(None),
        )
        .order_by(User.created_at)
    )
    return found.first()


async def log_in(
    db: AsyncSession, settings: Settings, email: str, password: str, now: datetime
) -> LoginResult:
    """Checks the password; a locked account is refused before the check (so guessing goes on
    failing while locked), and the N-th wrong password in a row locks it for M minutes."""
    user = await _user_by_email(db, email)
    if user is None:
        password_matches(None, password)
        return LoginResult(LoginOutcome.WRONG)
    if user.locked_until is not None and user.locked_until > now:
        return LoginResult(LoginOutcome.LOCKED)
    if not password_matches(user.password_hash, password):
        user.failed_logins += 1
        outcome = LoginOutcome.WRONG
        if user.failed_logins >= settings.login_max_failures:
            user.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
            user.failed_logins = 0
            outcome = LoginOutcome.LOCKED
        await db.commit()
        return LoginResult(outcome)
    user.failed_logins = 0
    user.locked_until = None
    session = await start_session(db, settings, user, now, verified=user.totp_secret is None)
    return LoginResult(LoginOutcome.OK if session.verified else LoginOutcome.NEEDS_CODE, session)


async def start_session(
    db: AsyncSession, settings: Settings, user: User, now: datetime, *, verified: bool
) -> ConsoleSession:
    session = ConsoleSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        verified=verified,
        created_at=now,
        expires_at=now + timedelta(hours=settings.session_absolute_hours),
        last_seen_at=now,
    )
    db.add(session)
    await db.commit()
    return session


def code_matches(secret: str, code: str) -> bool:
    # one step either side: a phone's clock a few seconds off still logs in
    return pyotp.TOTP(secret).verify(code.strip().replace(" ", ""), valid_window=1)


async def verify_second_factor(
    db: AsyncSession,
    settings: Settings,
    session: ConsoleSession,
    user: User,
    code: str,
    now: datetime,
) -> ConsoleSession | None:
    """The TOTP step: the fully logged-in session, or None (a wrong code counts toward the
    lockout like a wrong password)."""
    if user.totp_secret and code_matches(user.totp_secret, code):
        # a new id once fully logged in: the half-logged-in one may have been seen
        await db.delete(session)
        user.failed_logins = 0
        return await start_session(db, settings, user, now, verified=True)
    user.failed_logins += 1
    if user.failed_logins >= settings.login_max_failures:
        user.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
        user.failed_logins = 0
        await db.delete(session)
    await db.commit()
    return None


async def end_session(db: AsyncSession, session_id: str) -> None:
    await db.execute(delete(ConsoleSession).where(ConsoleSession.id == session_id))
    await db.commit()


async def invite(db: AsyncSession, settings: Settings, user: User, now: datetime) -> str:
    """A new one-time invitation token for `user` (earlier unused ones stop working)."""
    await db.execute(
        update(Invitation)
        .where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    db.add(
        Invitation(
            token_hash=token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(hours=settings.invitation_hours),
        )
    )
    await db.commit()
    return token


async def open_invitation(
    db: AsyncSession, token: str, now: datetime
) -> tuple[Invitation, User] | None:
    invitation = await db.get(Invitation, token_hash(token))
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= now:
        return None
    user = await db.get(User, invitation.user_id)
    if user is None or not user.active:
        return None
    return invitation, user


async def accept_invitation(
    db: AsyncSession,
    invitation: Invitation,
    user: User,
    password: str,
    email: str | None,
    now: datetime,
) -> None:
    user.password_hash = hash_password(password)
    if email:
        user.email = email
    user.failed_logins = 0
    user.locked_until = None
    invitation.used_at = now
    # a password set anew ends every session of the old one
    await db.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
    await db.commit()


def invitation_url(settings: Settings, token: str) -> str:
    base = settings.public_url or f"http://{settings.api_host}:{settings.api_port}"
    return f"{base}/console/invitation/{token}"


async def ensure_admin_invitation(db: Database, settings: Settings) -> str | None:
    """On a start where the admin has no console password yet: a fresh invitation link for it
    (the earlier ones stop working), for `recupero run` to print. None once the password is
    set: the admin then logs in with it."""
    async with db.session() as session:
        admin = await session.get(User, ADMIN_USER_ID)
        if admin is None or admin.password_hash is not None:
            return None
        token = await invite(session, settings, admin, datetime.now(UTC))
    return invitation_url(settings, token)
