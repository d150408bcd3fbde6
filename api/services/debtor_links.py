"""The links to the debtor's own page (issue 13): issuing, resolving, revoking, the second step's
lockout and one-time codes, and the debtor's sessions.

Only the token's SHA-256 is stored. A link issued by a letter, an e-mail or an SMS is derived
from the sending activity's idempotency key with HMAC(secret, key): a retried activity puts the
same link in the same document without the token ever crossing Temporal (the activity issues it
itself) or being stored in clear. Each new letter issues a new link; the older ones keep working
until they expire (the strategy's debtor_link_validity) or are revoked, so an earlier letter the
debtor still has in hand does not go dead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from config import Settings
from db.models import DebtorLink, DebtorSession, Practice
from domain.durations import parse_duration
from domain.identifiers import normalize_tax_code, normalize_vat_number

DEFAULT_VALIDITY = "P90D"
MAX_FAILURES = 5  # wrong second steps in a row before the link is locked...
LOCK_MINUTES = 15  # ...for this long
CODE_MINUTES = 10  # a one-time code works this long
IDLE_MINUTES = 30  # a debtor's session ends after this long without a request
SECRET_FILE = "debtor-link-secret"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_secret(settings: Settings) -> bytes:
    """RECUPERO_DEBTOR_LINK_SECRET, else a random secret created once in the data directory."""
    if settings.debtor_link_secret:
        return settings.debtor_link_secret.encode("utf-8")
    path = Path(settings.data_dir) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: two processes starting together keep the first one's secret
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode("utf-8")


def derive_token(secret: bytes, idempotency_key: str) -> str:
    digest = hmac.new(secret, f"debtor-link:{idempotency_key}".encode(), hashlib.sha256).digest()
    # 24 bytes (192 bits, as secrets.token_urlsafe(24)): 32 characters, short enough for an SMS
    return base64.urlsafe_b64encode(digest[:24]).decode("ascii")


def link_url(settings: Settings, token: str) -> str:
    base = settings.public_url or f"http://{settings.api_host}:{settings.api_port}"
    return f"{base}/d/{token}"


def validity_of(practice: Practice) -> timedelta:
    value = (practice.strategy or {}).get("debtor_link_validity") or DEFAULT_VALIDITY
    try:
        return parse_duration(str(value))
    except ValueError:
        return parse_duration(DEFAULT_VALIDITY)


async def issue(
    db: AsyncSession,
    practice: Practice,
    now: datetime,
    *,
    idempotency_key: str | None = None,
    secret: bytes | None = None,
) -> tuple[DebtorLink, str]:
    """A link for `practice` and its token. With an idempotency key (and the secret) the same
    key gives the same link, however often it is asked for; without, a random token."""
    if idempotency_key is not None:
        if secret is None:
            raise ValueError("an idempotent link needs the secret")
        token = derive_token(secret, idempotency_key)
        existing = await db.scalar(
            select(DebtorLink).where(DebtorLink.idempotency_key == idempotency_key)
        )
        if existing is not None:
            return existing, token
    else:
        token = secrets.token_urlsafe(24)
    link = DebtorLink(
        practice_id=practice.id,
        token_hash=token_hash(token),
        idempotency_key=idempotency_key,
        created_at=now,
        expires_at=now + validity_of(practice),
        failed_attempts=0,
    )
    db.add(link)
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        winner = await db.scalar(
            select(DebtorLink).where(DebtorLink.token_hash == token_hash(token))
        )
        if winner is None:
            raise
        return winner, token
    return link, token


async def resolve(db: AsyncSession, token: str, now: datetime) -> DebtorLink | None:
    """The link, while it works; None for an unknown, expired or revoked token alike (the page
    says the same for all three, so a guess learns nothing)."""
    if not token or len(token) > 200:
        return None
    link = await db.scalar(select(DebtorLink).where(DebtorLink.token_hash == token_hash(token)))
    if link is None or not works(link, now):
        return None
    return link


def works(link: DebtorLink, now: datetime) -> bool:
    return link.revoked_at is None and link.expires_at > now


async def revoke_all(db: AsyncSession, practice_id: str, now: datetime) -> int:
    """Revokes every working link of the practice (their sessions end with them)."""
    result = await db.execute(
        update(DebtorLink)
        .where(DebtorLink.practice_id == practice_id, DebtorLink.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await db.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def links_of(db: AsyncSession, practice_id: str) -> list[DebtorLink]:
    found = await db.scalars(
        select(DebtorLink)
        .where(DebtorLink.practice_id == practice_id)
        .order_by(DebtorLink.created_at.desc(), DebtorLink.id)
    )
    return list(found)


# --- the second step --------------------------------------------------------------------------


class StepOutcome(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"


def locked(link: DebtorLink, now: datetime) -> bool:
    return link.locked_until is not None and link.locked_until > now


async def _failure(db: AsyncSession, link: DebtorLink, now: datetime) -> StepOutcome:
    link.failed_attempts += 1
    outcome = StepOutcome.WRONG
    if link.failed_attempts >= MAX_FAILURES:
        link.locked_until = now + timedelta(minutes=LOCK_MINUTES)
        link.failed_attempts = 0
        link.code_hash = None
        outcome = StepOutcome.LOCKED
    await db.commit()
    return outcome


def _identifier(value: str) -> str:
    text = "".join(value.split()).upper()
    for normalize in (normalize_tax_code, normalize_vat_number):
        try:
            return normalize(text)
        except ValueError:
            continue
    # a number abroad (DE136695976, a US EIN 04-2103594) as stored: letters and digits
    return "".join(ch for ch in text if ch.isalnum()).removeprefix("IT")


def identity_matches(practice: Practice, answer: str) -> bool:
    """The answer against the debtor's codice fiscale or partita IVA, both normalised."""
    given = _identifier(answer)
    known = [_identifier(v) for v in (practice.debtor_tax_code, practice.debtor_vat_number) if v]
    # compare_digest on each: the time taken does not say how much of it was right
    return bool(given) and any(hmac.compare_digest(given.encode(), k.encode()) for k in known if k)


async def check_identity(
    db: AsyncSession, link: DebtorLink, practice: Practice, answer: str, now: datetime
) -> StepOutcome:
    """A locked link refuses before checking (guessing goes on failing while locked)."""
    if locked(link, now):
        return StepOutcome.LOCKED
    if not identity_matches(practice, answer):
        return await _failure(db, link, now)
    link.failed_attempts = 0
    await db.commit()
    return StepOutcome.OK


async def new_code(db: AsyncSession, link: DebtorLink, now: datetime) -> str:
    """A 6-digit one-time code for the link (the previous one stops working), stored hashed."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    link.code_hash = _code_hash(link, code)
    link.code_expires_at = now + timedelta(minutes=CODE_MINUTES)
    await db.commit()
    return code


def _code_hash(link: DebtorLink, code: str) -> str:
    # salted with the link's id: a million codes cannot be precomputed once for every link
    return hashlib.sha256(f"{link.id}:{code}".encode()).hexdigest()


async def check_code(db: AsyncSession, link: DebtorLink, code: str, now: datetime) -> StepOutcome:
    if locked(link, now):
        return StepOutcome.LOCKED
    code = "".join(code.split())
    valid = (
        link.code_hash is not None
        and link.code_expires_at is not None
        and link.code_expires_at > now
        and hmac.compare_digest(link.code_hash, _code_hash(link, code))
    )
    if not valid:
        return await _failure(db, link, now)
    link.code_hash = None  # one time
    link.code_expires_at = None
    link.failed_attempts = 0
    await db.commit()
    return StepOutcome.OK


# --- sessions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DebtorAccess:
    """A verified debtor: the session, its link and the one practice it opens."""

    session: DebtorSession
    link: DebtorLink

    @property
    def practice_id(self) -> str:
        return self.link.practice_id


async def start_session(db: AsyncSession, link: DebtorLink, now: datetime) -> DebtorSession:
    session = DebtorSession(
        id=secrets.token_urlsafe(32),
        link_id=link.id,
        practice_id=link.practice_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
    )
    db.add(session)
    await db.commit()
    return session


async def load_session(db: AsyncSession, session_id: str, now: datetime) -> DebtorAccess | None:
    """The session while it and its link work; an idle or dead one is deleted."""
    if not session_id or len(session_id) > 64:
        return None
    session = await db.get(DebtorSession, session_id)
    if session is None:
        return None
    link = await db.get(DebtorLink, session.link_id)
    idle = now - session.last_seen_at >= timedelta(minutes=IDLE_MINUTES)
    if link is None or not works(link, now) or idle:
        await db.delete(session)
        await db.commit()
        return None
    session.last_seen_at = now
    await db.commit()
    return DebtorAccess(session=session, link=link)


async def end_session(db: AsyncSession, session_id: str) -> None:
    session = await db.get(DebtorSession, session_id)
    if session is not None:
        await db.delete(session)
        await db.commit()
