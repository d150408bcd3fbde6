"""The debtor links service (api/services/debtor_links.py): issue, resolve, expiry, revocation,
the second step's lockout and one-time codes, sessions; the token never stored in clear."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from api.auth import calling_actor
from api.debtor.access import act_as_debtor
from api.services import debtor_links
from api.services.debtor_links import StepOutcome
from db.models import DebtorLink, Practice
from db.session import Database
from domain.actor import ActorKind
from tests.factories import TAX_CODE, create_creditor, create_practice

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
SECRET = b"a-test-secret"


async def _practice(database: Database) -> Practice:
    creditor = await create_creditor(database)
    return await create_practice(database, creditor)


async def test_a_link_resolves_to_its_practice_and_only_its_hash_is_stored(
    database: Database,
) -> None:
    practice = await _practice(database)
    async with database.session() as session:
        link, token = await debtor_links.issue(session, practice, NOW)
        assert len(token) >= 32
        assert (await debtor_links.resolve(session, token, NOW)) is not None
        stored = (await session.scalars(select(DebtorLink))).all()
        assert all(token not in (row.token_hash, row.idempotency_key or "") for row in stored)
        assert link.token_hash == debtor_links.token_hash(token)
        # the strategy's default validity: 90 days
        assert link.expires_at == NOW + timedelta(days=90)
        assert await debtor_links.resolve(session, token + "x", NOW) is None
        assert await debtor_links.resolve(session, "", NOW) is None


async def test_the_strategy_sets_the_validity_and_an_expired_link_is_gone(
    database: Database,
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    async with database.session() as session:
        row = await session.get(Practice, practice.id)
        assert row is not None
        row.strategy = {**(row.strategy or {}), "debtor_link_validity": "P7D"}
        await session.commit()
        link, token = await debtor_links.issue(session, row, NOW)
        assert link.expires_at == NOW + timedelta(days=7)
        assert await debtor_links.resolve(session, token, NOW + timedelta(days=6)) is not None
        assert await debtor_links.resolve(session, token, NOW + timedelta(days=7)) is None


async def test_the_same_key_gives_the_same_link_and_a_new_key_a_new_one(
    database: Database,
) -> None:
    practice = await _practice(database)
    async with database.session() as session:
        first, token = await debtor_links.issue(
            session, practice, NOW, idempotency_key="k:1", secret=SECRET
        )
        again, token_again = await debtor_links.issue(
            session, practice, NOW, idempotency_key="k:1", secret=SECRET
        )
        other, other_token = await debtor_links.issue(
            session, practice, NOW, idempotency_key="k:2", secret=SECRET
        )
        assert (again.id, token_again) == (first.id, token)
        assert other.id != first.id and other_token != token
        # the older link keeps working after a new one
        assert await debtor_links.resolve(session, token, NOW) is not None


async def test_revoking_ends_every_link_and_its_sessions(database: Database) -> None:
    practice = await _practice(database)
    async with database.session() as session:
        link, token = await debtor_links.issue(session, practice, NOW)
        _, token_2 = await debtor_links.issue(session, practice, NOW)
        debtor_session = await debtor_links.start_session(session, link, NOW)
        assert await debtor_links.revoke_all(session, practice.id, NOW) == 2
        assert await debtor_links.resolve(session, token, NOW) is None
        assert await debtor_links.resolve(session, token_2, NOW) is None
        assert await debtor_links.load_session(session, debtor_session.id, NOW) is None


async def test_five_wrong_answers_lock_the_link_for_fifteen_minutes(database: Database) -> None:
    practice = await _practice(database)
    async with database.session() as session:
        link, _ = await debtor_links.issue(session, practice, NOW)
        for _ in range(4):
            outcome = await debtor_links.check_identity(session, link, practice, "XXX", NOW)
            assert outcome == StepOutcome.WRONG
        assert (
            await debtor_links.check_identity(session, link, practice, "XXX", NOW)
            == StepOutcome.LOCKED
        )
        assert link.locked_until == NOW + timedelta(minutes=15)
        # locked: even the right answer is refused until then
        assert (
            await debtor_links.check_identity(session, link, practice, TAX_CODE, NOW)
            == StepOutcome.LOCKED
        )
        later = NOW + timedelta(minutes=15)
        # normalised: lower case and spaces are the same codice fiscale
        spaced = " ".join(TAX_CODE.lower()[i : i + 4] for i in range(0, 16, 4))
        assert (
            await debtor_links.check_identity(session, link, practice, spaced, later)
            == StepOutcome.OK
        )


async def test_a_one_time_code_works_once_and_for_ten_minutes(database: Database) -> None:
    practice = await _practice(database)
    async with database.session() as session:
        link, _ = await debtor_links.issue(session, practice, NOW)
        code = await debtor_links.new_code(session, link, NOW)
        assert len(code) == 6 and code.isdigit()
        assert link.code_hash is not None and code not in link.code_hash
        late = NOW + timedelta(minutes=10)
        assert await debtor_links.check_code(session, link, code, late) == StepOutcome.WRONG
        code = await debtor_links.new_code(session, link, NOW)
        assert await debtor_links.check_code(session, link, code, NOW) == StepOutcome.OK
        assert await debtor_links.check_code(session, link, code, NOW) == StepOutcome.WRONG


async def test_a_session_ends_after_thirty_idle_minutes(database: Database) -> None:
    practice = await _practice(database)
    async with database.session() as session:
        link, _ = await debtor_links.issue(session, practice, NOW)
        started = await debtor_links.start_session(session, link, NOW)
        at_29 = NOW + timedelta(minutes=29)
        access = await debtor_links.load_session(session, started.id, at_29)
        assert access is not None and access.practice_id == practice.id
        # the request at 29 minutes renewed it
        assert await debtor_links.load_session(session, started.id, at_29 + timedelta(minutes=29))
        gone = at_29 + timedelta(minutes=29 + 30)
        assert await debtor_links.load_session(session, started.id, gone) is None


async def test_the_debtor_acts_as_the_debtor() -> None:
    act_as_debtor()
    actor = calling_actor()
    assert actor is not None and actor.kind == ActorKind.DEBTOR and actor.id is None
