"""Work lists and assignments: tasks for operators, field agents, lawyers and creditors, and the
choice of the field agent (or, for a debtor abroad, the foreign correspondent) and the lawyer
who take a practice on."""

from __future__ import annotations

import logging
from typing import Any, cast

from sqlalchemy import Select, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.context import ActivityContext, load_practice
from db.models import Practice, Task, User, utcnow
from domain.activity_io import (
    ActivityName,
    AssignInput,
    AssignResult,
    AssignVisitInput,
    AssignVisitResult,
    CloseTasksInput,
    OpenTaskInput,
    OpenTaskResult,
)
from domain.countries import residence_for_country
from domain.judicial import Residence
from domain.practice import Status

log = logging.getLogger(__name__)

OPEN = "open"
FIELD_AGENT = "field_agent"
CORRESPONDENT = "correspondent"  # api.roles.Role.FOREIGN_CORRESPONDENT
CLOSED_STATUSES = ("done", "cancelled")


async def _counts(session: AsyncSession, stmt: Select[str | None, int]) -> dict[str, int]:
    """{user id: count} from a (user id, count) GROUP BY query."""
    return {user_id: n for user_id, n in (await session.execute(stmt)) if user_id is not None}


class WorklistActivities(ActivityContext):
    async def _task_id(self, idempotency_key: str) -> str | None:
        async with self.db.session() as session:
            found: str | None = (
                await session.execute(
                    select(Task.id).where(Task.idempotency_key == idempotency_key)
                )
            ).scalar_one_or_none()
            return found

    @activity.defn(name=ActivityName.OPEN_TASK)
    async def open_task(self, input: OpenTaskInput) -> OpenTaskResult:
        existing = await self._task_id(input.idempotency_key)
        if existing is not None:
            return OpenTaskResult(task_id=existing)
        task = Task(
            idempotency_key=input.idempotency_key,
            practice_id=input.practice_id,
            kind=input.kind,
            status=OPEN,
            assignee_id=input.assignee_id,
            attempt=input.attempt,
            detail=input.detail,
            due_at=input.due_at,
        )
        try:
            async with self.db.session() as session, session.begin():
                session.add(task)
        except IntegrityError:
            winner = await self._task_id(input.idempotency_key)
            if winner is None:  # not the key: the practice itself is missing
                raise
            return OpenTaskResult(task_id=winner)
        log.info("task %s (%s) opened for practice %s", task.id, input.kind, input.practice_id)
        return OpenTaskResult(task_id=task.id)

    @activity.defn(name=ActivityName.CLOSE_TASKS)
    async def close_tasks(self, input: CloseTasksInput) -> None:
        if input.status not in CLOSED_STATUSES:
            raise ApplicationError(
                f"a task closes as {' or '.join(CLOSED_STATUSES)}, not {input.status!r}",
                type="InvalidInput",
                non_retryable=True,
            )
        stmt = update(Task).where(Task.practice_id == input.practice_id, Task.status == OPEN)
        if input.kind is not None:
            stmt = stmt.where(Task.kind == input.kind)
        # only open tasks are touched, so a retry leaves the first closing time and outcome alone
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                stmt.values(status=input.status, closed_at=utcnow(), outcome=input.outcome)
            )
        log.info(
            "practice %s: %d %s task(s) closed as %s",
            input.practice_id,
            cast(CursorResult[Any], result).rowcount,
            input.kind or "open",
            input.status,
        )

    async def _current(
        self, practice_id: str, column: str, role: str
    ) -> tuple[Practice, str | None]:
        """The practice and its assignee in `column` when that user is still an active `role`."""
        async with self.db.session() as session:
            practice = await load_practice(session, practice_id)
            user_id = getattr(practice, column)
            if user_id is None:
                return practice, None
            user = await session.get(User, user_id)
        if user is not None and user.active and user.role == role:
            return practice, user_id
        return practice, None

    async def _claim(
        self, practice_id: str, column: str, previous: str | None, user_id: str
    ) -> str:
        """Records the choice unless a concurrent attempt recorded another first; returns the
        assignee the practice ends up with."""
        current = getattr(Practice, column)
        async with self.db.session() as session, session.begin():
            claimed = await session.execute(
                update(Practice)
                .where(
                    Practice.id == practice_id,
                    current.is_(None) if previous is None else current == previous,
                )
                .values({column: user_id})
                .execution_options(synchronize_session=False)
            )
            if cast(CursorResult[Any], claimed).rowcount == 1:
                return user_id
            winner: str = (
                await session.execute(select(current).where(Practice.id == practice_id))
            ).scalar_one()
            return winner

    async def _active(self, role: str) -> list[User]:
        """The active users of a role, oldest first (the first of equals takes the work)."""
        async with self.db.session() as session:
            users = await session.scalars(
                select(User)
                .where(User.role == role, User.active.is_(True))
                .order_by(User.created_at, User.id)
            )
            return list(users)

    async def _least_busy(self, covering: list[User]) -> tuple[User, int]:
        """The one of `covering` with the fewest open visits, and that number."""
        async with self.db.session() as session:
            load = await _counts(
                session,
                select(Task.assignee_id, func.count())
                .where(
                    Task.kind == "visit",
                    Task.status == OPEN,
                    Task.assignee_id.in_([a.id for a in covering]),
                )
                .group_by(Task.assignee_id),
            )
        # min() keeps the first of equals, and `covering` is oldest first
        chosen = min(covering, key=lambda a: load.get(a.id, 0))
        return chosen, load.get(chosen.id, 0)

    @activity.defn(name=ActivityName.ASSIGN_FIELD_AGENT)
    async def assign_field_agent(self, input: AssignInput) -> AssignResult:
        """The visit's assignee: a field agent covering the debtor's province in Italy; abroad
        a foreign correspondent covering its country. A debtor outside the EU always goes to a
        correspondent (none: the result says so, and the visit waits for the admin); one in
        another EU country only where the agency gave a correspondent that country (else it is
        as before: no field agent covers it). Nothing here names the country in the result:
        it goes into the workflow's history."""
        async with self.db.session() as session:
            practice = await load_practice(session, input.practice_id)
        country = (practice.country or "IT").strip().upper()
        if country != "IT":
            correspondents = await self._active(CORRESPONDENT)
            # countries is a JSON list: filtered here, the same on SQLite and PostgreSQL
            covering = [c for c in correspondents if country in (c.countries or [])]
            if covering or residence_for_country(country) == Residence.NON_EU:
                return await self._assign_correspondent(input.practice_id, covering)

        practice, current = await self._current(input.practice_id, "field_agent_id", FIELD_AGENT)
        if current is not None:
            return AssignResult(user_id=current, reason="already assigned")
        # the debtor's current address: skip tracing or a change of contacts updates the
        # practice's province, while the workflow's input is the hand-over's
        province = (practice.province or input.province or "").strip().upper()
        agents = await self._active(FIELD_AGENT)
        # provinces is a JSON list: filtered here, the same on SQLite and PostgreSQL
        covering = [a for a in agents if province in {p.strip().upper() for p in a.provinces or []}]
        if not covering:
            log.info("practice %s: no field agent covers %s", input.practice_id, province)
            return AssignResult(user_id=None, reason=f"no field agent covers province {province}")
        chosen, open_visits = await self._least_busy(covering)
        assigned = await self._claim(
            input.practice_id, "field_agent_id", practice.field_agent_id, chosen.id
        )
        log.info("practice %s: field agent %s assigned", input.practice_id, assigned)
        return AssignResult(
            user_id=assigned, reason=f"covers province {province}, {open_visits} open visits"
        )

    async def _assign_correspondent(self, practice_id: str, covering: list[User]) -> AssignResult:
        practice, current = await self._current(practice_id, "field_agent_id", CORRESPONDENT)
        if current is not None and current in {c.id for c in covering}:
            return AssignResult(user_id=current, reason="already assigned", correspondent=True)
        if not covering:
            log.info("practice %s: no foreign correspondent covers its country", practice_id)
            return AssignResult(
                user_id=None,
                reason="no foreign correspondent covers the debtor's country",
                correspondent=True,
            )
        chosen, open_visits = await self._least_busy(covering)
        assigned = await self._claim(
            practice_id, "field_agent_id", practice.field_agent_id, chosen.id
        )
        log.info("practice %s: foreign correspondent %s assigned", practice_id, assigned)
        return AssignResult(
            user_id=assigned,
            reason=f"covers the debtor's country, {open_visits} open visits",
            correspondent=True,
        )

    @activity.defn(name=ActivityName.ASSIGN_VISIT)
    async def assign_visit(self, input: AssignVisitInput) -> AssignVisitResult:
        """The admin's choice of the open visit's assignee (UpdateName.ASSIGN_VISIT): the task's
        `assignee_id` and the practice's `field_agent_id` in one transaction. The API checked the
        user; a retry finds them set and changes nothing."""
        async with self.db.session() as session, session.begin():
            task = (
                await session.scalars(
                    select(Task)
                    .where(
                        Task.practice_id == input.practice_id,
                        Task.kind == "visit",
                        Task.status == OPEN,
                    )
                    .order_by(Task.created_at.desc(), Task.id)
                    .limit(1)
                )
            ).first()
            if task is None:
                log.info("practice %s: no open visit to assign", input.practice_id)
                return AssignVisitResult(assigned=False)
            practice = await load_practice(session, input.practice_id)
            unchanged = (
                task.assignee_id == input.user_id and practice.field_agent_id == input.user_id
            )
            task.assignee_id = input.user_id
            practice.field_agent_id = input.user_id
        log.info("practice %s: visit %s assigned to %s", input.practice_id, task.id, input.user_id)
        return AssignVisitResult(assigned=True, unchanged=unchanged)

    @activity.defn(name=ActivityName.ASSIGN_LAWYER)
    async def assign_lawyer(self, input: AssignInput) -> AssignResult:
        practice, current = await self._current(input.practice_id, "lawyer_id", "lawyer")
        if current is not None:
            return AssignResult(user_id=current, reason="already assigned")

        async with self.db.session() as session:
            lawyers = (
                (
                    await session.execute(
                        select(User)
                        .where(User.role == "lawyer", User.active.is_(True))
                        .order_by(User.created_at, User.id)
                    )
                )
                .scalars()
                .all()
            )
            if not lawyers:
                log.info("practice %s: no lawyer registered", input.practice_id)
                return AssignResult(user_id=None, reason="no lawyer registered")
            load = await _counts(
                session,
                select(Practice.lawyer_id, func.count())
                .where(
                    Practice.lawyer_id.in_([lw.id for lw in lawyers]),
                    Practice.status != Status.CLOSED.value,
                )
                .group_by(Practice.lawyer_id),
            )
        chosen = min(lawyers, key=lambda lw: load.get(lw.id, 0))
        assigned = await self._claim(input.practice_id, "lawyer_id", practice.lawyer_id, chosen.id)
        log.info("practice %s: lawyer %s assigned", input.practice_id, assigned)
        return AssignResult(user_id=assigned, reason=f"{load.get(chosen.id, 0)} open practices")
