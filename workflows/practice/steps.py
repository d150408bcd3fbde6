"""The escalation's steps (DOMAIN.md steps 1 to 11): what each does when its turn comes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.activity_io import (
        ActivityName,
        AssignInput,
        AssignResult,
        AssignVisitInput,
        AssignVisitResult,
        CheckContactsInput,
        CheckContactsResult,
        LetterInput,
        LocalMomentsInput,
        LocalMomentsResult,
        ReleaseConversationInput,
        ReminderInput,
        SentResult,
    )
    from domain.calendar import at_rome, end_of_rome_day, rome_date
    from domain.contact_rules import may_contact, next_window_start, spread_reminder, spread_slot
    from domain.court_calendar import demand_deadline, letter_pay_by
    from domain.judicial import Residence
    from domain.money import format_euros
    from domain.practice import (
        CHANNEL_NAMES,
        AuthorizationCmd,
        CallOutcome,
        DebtorKind,
        Outcome,
        Phase,
        Status,
    )
    from domain.practice_state.state import Awaiting, Event
    from domain.strategy import Step, texts_by_language

from workflows.practice import court, waits
from workflows.practice.effects import Interrupted, Practice
from workflows.practice.versions import (
    CORRESPONDENT_UNASSIGNED,
    DEMAND_TERM_ON_COURT_CALENDAR,
    OPINION_REMINDERS_CAPPED,
    PRE_DUE_IN_DEBTOR_ZONE,
    PRE_DUE_SPREAD,
    RECORD_LOCALLY,
)

VISIT_UNASSIGNED = "Home visit waits for a foreign correspondent: none covers the debtor's country"
# the admin's choice (UpdateName.ASSIGN_VISIT): no name, no country in the history
VISIT_ASSIGNED_BY_ADMIN = "Home visit assigned by the admin"
# pre-due reminders go out at 09:00 where the debtor lives (Rome in Italy), plus the practice's
# offset of up to PracticeInput.reminder_spread_minutes
REMINDER_CLOCK = time(9, 0)
LATE_REMINDER = timedelta(hours=12)
LAWYER_RETRY_MAX = timedelta(days=7)

STEP_LABELS = {
    Step.PRE_DUE_REMINDERS: "pre-due reminders",
    Step.CONTACT_CHECK: "debtor analysis and contact check",
    Step.REMINDER_LETTER: "reminder letter",
    Step.PHONE_PHASE: "phone phase",
    Step.SECOND_LETTER: "second letter",
    Step.SKIP_TRACING: "skip tracing",
    Step.HOME_VISIT: "home visit",
    Step.LEGAL_NOTICE: "notice of legal action",
    Step.FORMAL_DEMAND: "formal demand",
    Step.LEGAL_OPINION: "lawyer's opinion",
    Step.AUTHORIZATION: "creditor's authorisation",
}


async def run_step(p: Practice, step: Step) -> None:
    p.state.escalation.current = step
    occurrence = p.state.escalation.occurrences.get(step, 0) + 1
    p.state.escalation.occurrences[step] = occurrence
    key = f"{p.inp.practice_id}:{step.value}:{occurrence}"
    p.state.wait.next_step = None
    p.state.wait.next_action_at = None
    p.state.wait.waiting_for = None
    await p.refresh_balance()  # letters print today's total
    p.event("step_started", f"Step: {STEP_LABELS[step]}", step=step)
    if workflow.patched(RECORD_LOCALLY):
        # written with whatever the step does first (an activity, a wait): the step's start
        # and, say, its parking on a timer are one write, not two
        p.state.timeline.unrecorded = True
    else:
        await p.flush()

    handler = {
        Step.PRE_DUE_REMINDERS: pre_due,
        Step.CONTACT_CHECK: contact_check,
        Step.REMINDER_LETTER: reminder_letter,
        Step.PHONE_PHASE: phone_phase,
        Step.SECOND_LETTER: second_letter,
        Step.SKIP_TRACING: skip_tracing,
        Step.HOME_VISIT: home_visit,
        Step.LEGAL_NOTICE: legal_notice,
        Step.FORMAL_DEMAND: formal_demand,
        Step.LEGAL_OPINION: legal_opinion,
        Step.AUTHORIZATION: authorization,
    }[step]
    p.state.escalation.skipped = False
    if step in (Step.LEGAL_OPINION, Step.AUTHORIZATION):
        await demand_term(p, step.value)
    await handler(p, key)
    p.state.escalation.action_done = True
    if p.state.status == Status.CLOSED or p.state.escalation.skipped:
        return  # a step that did nothing imposes no wait on the debtor's file
    await waits.wait_after(p, step)


def due_now(p: Practice) -> int:
    today = rome_date(workflow.now())
    ahead = sum(i.amount_cents for i in p.inp.invoices if i.due_date >= today)
    return max(p.state.money.balance - ahead, 0) if ahead else p.state.money.balance


def skip(p: Practice, reason: str) -> None:
    p.state.escalation.skipped = True
    p.event("step_skipped", reason)


# step 1: reminders before the due date, and on the day
async def pre_due(p: Practice, key: str) -> None:
    p.state.phase = Phase.PRE_DUE
    await pre_due_reminders(p, key)
    due_dates = sorted({i.due_date for i in p.inp.invoices})
    # collection starts the day after the last due date, the debtor's (the wait after this
    # step is the grace)
    last_day = await due_day_moments(p, due_dates[-1:])
    await waits.sleep_until(p, last_day[due_dates[-1]][2], "out_of_court")
    p.state.phase = Phase.OUT_OF_COURT
    p.event(
        "phase_changed",
        "Due date passed unpaid: out-of-court collection begins",
        phase=Phase.OUT_OF_COURT,
    )


async def due_day_moments(
    p: Practice,
    days: list[date],
    lead: timedelta = timedelta(0),
    spread: timedelta = timedelta(0),
) -> dict[date, tuple[datetime, datetime, datetime]]:
    """{day: (the early reminder's moment, `lead` before the reminders' clock; the clock on the
    day; the midnight ending it)} where the debtor lives, the two reminders spread by the
    practice's offset of up to `spread` (domain.contact_rules.spread_reminder). In Italy Rome's,
    computed here; abroad an activity reads the debtor's zone, hours and holidays (the workflow
    never holds them). Practices started before, or that had their moments in Rome, keep
    Rome's."""
    if (
        not days
        or p.inp.residence == Residence.ITALY
        or not workflow.patched(PRE_DUE_IN_DEBTOR_ZONE)
    ):
        moments: dict[date, tuple[datetime, datetime, datetime]] = {}
        for day in days:
            before, clock = spread_reminder(
                at_rome(day, REMINDER_CLOCK), lead, p.inp.practice_id, spread
            )
            moments[day] = (before, clock, end_of_rome_day(day))
        return moments
    spread_minutes = int(spread.total_seconds()) // 60
    local: LocalMomentsResult = await p.activity(
        ActivityName.LOCAL_MOMENTS,
        LocalMomentsInput(
            practice_id=p.inp.practice_id,
            days=days,
            clock=REMINDER_CLOCK,
            spread_minutes=spread_minutes,
            lead_seconds=int(lead.total_seconds()) if spread_minutes else 0,
        ),
        result_type=LocalMomentsResult,
    )
    early = local.before or [clock - lead for clock in local.at_clock]
    return dict(zip(days, zip(early, local.at_clock, local.day_ends, strict=True), strict=True))


def reminder_spread(p: Practice) -> timedelta:
    """The spread of the pre-due reminders' moments: the input's (set at the hand-over from the
    settings), for practices started with the spread (PRE_DUE_SPREAD); none for those whose
    reminders were timed at 09:00 sharp, or whose input has no spread (no marker then)."""
    minutes = p.inp.reminder_spread_minutes
    if minutes <= 0 or not workflow.patched(PRE_DUE_SPREAD):
        return timedelta(0)
    return timedelta(minutes=minutes)


async def pre_due_reminders(p: Practice, key: str, background: bool = False) -> None:
    """The reminders before each due date still ahead, and on the day. In the `background`
    (some invoices were overdue at the hand-over and are being collected meanwhile) the
    waits are the task's own, and a reminder whose moment comes while a pause holds (a
    dispute, a promise, a deal, which covers the whole balance) or after the closure is
    skipped."""
    remind = p.strategy.setting(Step.PRE_DUE_REMINDERS).enabled
    lead = p.strategy.duration("pre_due_reminder_lead")
    due_dates = sorted({i.due_date for i in p.inp.invoices})
    ahead = [d for d in due_dates if d >= rome_date(workflow.now())]
    spread = reminder_spread(p) if remind and ahead else timedelta(0)
    moments = await due_day_moments(p, ahead, lead, spread) if remind else {}
    for n, due in enumerate(ahead):
        amount = sum(i.amount_cents for i in p.inp.invoices if i.due_date == due)
        clock = at_rome(due, REMINDER_CLOCK)
        before, clock = moments[due][:2] if remind else (clock - lead, clock)
        for moment, at in (
            ("before", before),
            ("due_today", clock),
        ):
            if not remind or rome_date(workflow.now()) > due:
                continue
            if moment == "before" and rome_date(workflow.now()) >= due:
                continue  # handed over too late for the early reminder: the day's one is enough
            if f"{due}:{moment}" in p.state.escalation.reminders_sent:
                continue  # resumed after a pause: never remind twice for the same moment
            if not background:
                await waits.sleep_until(p, at, "pre_due_reminder")
            else:
                if not may_contact(at):
                    # a Sunday or holiday: wait here for the window, so that the contact
                    # rules never defer it (a deferral would show on the practice as what
                    # the escalation beside this task waits for)
                    at = spread_slot(next_window_start(at), p.inp.practice_id, spread)
                if at > workflow.now():
                    await workflow.sleep(at - workflow.now())
            if background and p.interrupted():
                if p.is_closed():
                    return
                p.state.escalation.reminders_sent.append(f"{due}:{moment}")
                p.event("reminder_skipped", f"Reminder '{moment}' skipped: a pause holds")
                await p.flush()
                continue
            if workflow.now() - at > LATE_REMINDER:
                # its moment passed (handed over late, or during a pause): a reminder at an
                # odd hour helps nobody, the next one or the letter will follow
                p.event("reminder_skipped", f"Reminder '{moment}' skipped: its time passed")
                continue
            reminder_key = f"{key}:{n}:{moment}"
            try:
                email = p.state.channels.email and (
                    await waits.clear_to_contact(p, reminder_key, "email") is not None
                )
                sms = p.state.channels.phone and (
                    await waits.clear_to_contact(p, reminder_key, "sms") is not None
                )
                if not (email or sms):
                    p.event("reminder_skipped", "No e-mail or SMS possible: reminder not sent")
                    continue
                p.before_contact()
            except Interrupted:
                if not background:
                    raise
                p.state.escalation.reminders_sent.append(f"{due}:{moment}")
                p.event("reminder_skipped", f"Reminder '{moment}' skipped: a pause holds")
                await p.flush()
                continue
            result = await p.send(
                "reminder",
                ActivityName.SEND_REMINDER,
                ReminderInput(
                    practice_id=p.inp.practice_id,
                    idempotency_key=reminder_key,
                    moment=moment,
                    due_date=due,
                    amount_cents=min(amount, p.state.money.balance),
                    email=email,
                    sms=sms,
                ),
            )
            p.state.escalation.reminders_sent.append(f"{due}:{moment}")
            if result is None:
                continue
            p.event(
                "reminder_sent",
                f"Reminder {'before the due date' if moment == 'before' else 'on the due date'}"
                f" {due.isoformat()} sent ({', '.join(result.deliveries) or 'no channel'})",
                moment=moment,
                due_date=due.isoformat(),
            )
            if background:
                await p.flush()  # the escalation may be parked on a long wait


# step 2
async def contact_check(p: Practice, key: str) -> None:
    result: CheckContactsResult = await p.activity(
        ActivityName.CHECK_CONTACTS,
        CheckContactsInput(practice_id=p.inp.practice_id),
        result_type=CheckContactsResult,
    )
    # the check only narrows: a channel found wrong while it ran stays wrong
    for name in CHANNEL_NAMES:
        if not getattr(result.channels, name):
            setattr(p.state.channels, name, False)
    findings = "; ".join(result.findings) or "nothing to note"
    p.emit([Event("contacts_checked", f"Debtor analysis: {findings}", p.state.channel_data())])


# steps 3, 5, 8: letters
async def reminder_letter(p: Practice, key: str) -> None:
    await send_letter(
        p,
        key,
        "reminder_letter",
        "Reminder letter",
        pay_by=letter_term(p, Step.REMINDER_LETTER),
    )


async def second_letter(p: Practice, key: str) -> None:
    await send_letter(
        p,
        key,
        "second_letter",
        "Second reminder letter",
        pay_by=letter_term(p, Step.SECOND_LETTER),
    )


async def legal_notice(p: Practice, key: str) -> None:
    await send_letter(
        p,
        key,
        "legal_notice",
        "Notice of legal action",
        pay_by=letter_term(p, Step.LEGAL_NOTICE),
    )


def letter_term(p: Practice, step: Step) -> date | None:
    """The day a letter asks the debtor to pay by: the last day before the practice acts
    again, the strategy's wait after the letter (the letter prints the term acted on)."""
    return letter_pay_by(workflow.now(), p.strategy.wait_after(step))


async def send_letter(
    p: Practice,
    key: str,
    kind: str,
    label: str,
    pay_by: date | None = None,
    pec_copy: bool = False,
) -> SentResult | None:
    """The letter goes to the post (and PEC) at once; its e-mail copy waits for the contact
    hours. Both calls carry the same key, so the copy attaches the very same document."""
    p.before_contact()
    # the amount printed, whatever a payment does meanwhile: what is due, not the invoices
    # still ahead of their due date (they have their own pre-due reminders)
    balance = due_now(p)
    letter = LetterInput(
        practice_id=p.inp.practice_id,
        idempotency_key=f"{key}:{kind}",
        kind=kind,
        balance_cents=balance,
        email_copy=False,
        pec_copy=pec_copy,
        text_override=p.strategy.letter_texts.get(kind),
        # the creditor's texts in other languages (issue 16): only the activity's input grows,
        # the commands are the same, so running histories replay unchanged
        text_overrides=texts_by_language(p.strategy.letter_texts, kind),
        pay_by=pay_by,
        lawyer_id=p.state.escalation.lawyer_id,
        post=p.state.channels.address,
    )
    result = await p.send(label, ActivityName.SEND_LETTER, letter)
    if result is None:
        return None
    p.state.escalation.letters_sent += 1
    p.event(
        "letter_sent",
        f"{label} sent for {format_euros(balance)} "
        f"({', '.join(result.deliveries) or 'no channel'})",
        letter=kind,
        document_id=result.document_id,
        balance_cents=balance,
    )
    if p.state.channels.email and await waits.clear_to_contact(p, letter.idempotency_key, "email"):
        copy = await p.send(
            f"{label} (e-mail copy)",
            ActivityName.SEND_LETTER,
            replace(letter, email_copy=True, pec_copy=False, post=False),
        )
        if copy is not None:
            p.event("email_copy_sent", f"{label}: copy sent by e-mail", letter=kind)
    return result


# step 4
async def phone_phase(p: Practice, key: str) -> None:
    attempts = p.strategy.call_attempts
    if not p.state.channels.phone:
        p.state.escalation.phone_failed = True
        skip(p, "No valid phone number: phone phase skipped")
        return
    reached = False
    # attempts made before a pause count: resuming never calls more than call_attempts times
    for attempt in range(p.state.escalation.calls_made + 1, attempts + 1):
        p.state.escalation.calls_made = attempt
        p.state.answers.call = None
        timeout = p.strategy.duration("call_outcome_timeout")
        grant = await waits.clear_to_contact(p, f"{key}:call:{attempt}", "call")
        if grant is None:
            break  # the debtor opted out of calls
        await p.open_task(
            f"{key}:call:{attempt}",
            "call",
            attempt=attempt,
            detail=f"{attempt}/{attempts}",
            awaiting=Awaiting.CALL,
        )
        p.event("call_queued", f"Call queued for operators (attempt {attempt}/{attempts})")
        outcome = await waits.await_answer(
            p,
            Awaiting.CALL,
            f"call outcome (attempt {attempt}/{attempts})",
            timeout,
            lambda: p.state.answers.call,
        )
        await p.close_tasks(
            "call",
            "done" if outcome else "cancelled",
            outcome.outcome.value if outcome else "timed out",
        )
        if outcome is None:
            p.event("call_outcome", "No outcome recorded in time: counted as unanswered")
            result = CallOutcome.NO_ANSWER
        else:
            result = outcome.outcome
        if result in (CallOutcome.NO_ANSWER, CallOutcome.WRONG_NUMBER):
            # nobody was spoken to: the day's conversation is not used up
            await p.activity(
                ActivityName.RELEASE_CONVERSATION,
                ReleaseConversationInput(practice_id=p.inp.practice_id, idempotency_key=grant),
            )
        if result == CallOutcome.WRONG_NUMBER:
            break
        if result != CallOutcome.NO_ANSWER:
            reached = True
            break
        if attempt < attempts:
            retry = p.strategy.duration("call_retry_interval")
            p.state.wait.next_step = "phone_phase"
            p.state.wait.next_action_at = workflow.now() + retry
            p.state.wait.waiting_for = None
            await p.flush()
            await waits.wait(p, retry)
    p.state.escalation.phone_failed = not reached
    p.state.escalation.calls_made = 0


# step 6
async def skip_tracing(p: Practice, key: str) -> None:
    # the letters got nowhere (one came back, or there is no usable address) and neither did
    # the phone (never reached, a wrong number, or no number at all)
    letter_failed = p.state.escalation.letter_came_back or not p.state.channels.address
    phone_failed = p.state.escalation.phone_failed or not p.state.channels.phone
    if not (letter_failed and phone_failed):
        skip(p, "Skip tracing not needed: the letters or the phone got through")
        return
    p.state.answers.trace = None
    await p.open_task(
        f"{key}:trace", "trace", detail="letter and calls got nothing", awaiting=Awaiting.TRACE
    )
    p.event("trace_requested", "Skip tracing requested: looking for new contacts")
    result = await waits.await_answer(
        p,
        Awaiting.TRACE,
        "skip tracing result",
        p.strategy.duration("trace_timeout"),
        lambda: p.state.answers.trace,
    )
    await p.close_tasks(
        "trace",
        "done" if result else "cancelled",
        "found" if result and result.found else "not found",
    )
    if result is None:
        p.event("trace_result", "Skip tracing not completed in time")


# step 7
async def home_visit(p: Practice, key: str) -> None:
    if not p.state.channels.address:
        skip(p, "Home visit skipped: the address is known to be wrong")
        return
    assigned: AssignResult = await p.activity(
        ActivityName.ASSIGN_FIELD_AGENT,
        AssignInput(
            practice_id=p.inp.practice_id,
            idempotency_key=f"{key}:agent",
            province=p.inp.province,
        ),
        result_type=AssignResult,
    )
    unassigned = assigned.user_id is None
    if unassigned and not (assigned.correspondent and workflow.patched(CORRESPONDENT_UNASSIGNED)):
        skip(p, f"Home visit skipped: {assigned.reason}")
        return
    # a debtor abroad without a correspondent for its country: the visit waits on the admin's
    # list of unassigned visits (the admin has one invited, or records the outcome itself)
    p.state.escalation.field_agent_id = assigned.user_id
    p.state.answers.visit = None
    await p.open_task(f"{key}:visit", "visit", assignee=assigned.user_id, awaiting=Awaiting.VISIT)
    if assigned.user_id is None:
        p.event("visit_unassigned", VISIT_UNASSIGNED)
    else:
        # the province is the debtor's current one, as the assignment chose it (the notice
        # reads it from the practice; the hand-over's province may be out of date after skip
        # tracing)
        await p.notify(f"{key}:notify-agent", assigned.user_id, "visit_assigned")
        who = "a foreign correspondent" if assigned.correspondent else "a field agent"
        p.event(
            "visit_assigned",
            f"Home visit assigned to {who} ({assigned.reason})",
            field_agent_id=assigned.user_id,
        )
    outcome = await waits.await_answer(
        p,
        Awaiting.VISIT,
        "home visit outcome",
        p.strategy.duration("visit_outcome_timeout"),
        lambda: p.state.answers.visit,
    )
    await p.close_tasks(
        "visit",
        "done" if outcome else "cancelled",
        outcome.outcome.value if outcome else "timed out",
    )
    if outcome is None:
        p.event("visit_outcome", "No visit outcome recorded in time")


async def assign_visit(p: Practice, user_id: str, key: str) -> bool | None:
    """The awaited home visit given to `user_id` (UpdateName.ASSIGN_VISIT): the open visit task
    and the practice's field agent in the read model, then the state, the timeline and a notice
    to the new assignee, as the step's own assignment does. `key` is unique to this command (its
    update id), so a retried notice is sent once. True: assigned; False: the visit was no longer
    open; None: the user had it already (nothing changes, nobody is told again)."""
    result: AssignVisitResult = await p.activity(
        ActivityName.ASSIGN_VISIT,
        AssignVisitInput(practice_id=p.inp.practice_id, user_id=user_id),
        result_type=AssignVisitResult,
    )
    if not result.assigned:
        return False
    if result.unchanged and p.state.escalation.field_agent_id == user_id:
        return None
    p.state.escalation.field_agent_id = user_id
    p.event("visit_assigned", VISIT_ASSIGNED_BY_ADMIN, field_agent_id=user_id)
    await p.notify(f"{p.inp.practice_id}:visit-assign:{key}", user_id, "visit_assigned")
    await p.flush()
    return True


# step 9
async def formal_demand(p: Practice, key: str) -> None:
    await ensure_lawyer(p, key)
    term = p.strategy.duration("demand_term")
    if term >= timedelta(days=1) and workflow.patched(DEMAND_TERM_ON_COURT_CALENDAR):
        # in days on the court calendar: a last day on a holiday moves to the next one
        deadline = demand_deadline(rome_date(workflow.now()), term)
        pay_by = deadline.last_day
        p.state.escalation.demand_expires_at = deadline.ends_at
    else:
        expires = workflow.now() + term
        pay_by = rome_date(expires)
        # a term in days runs to the end of its last day in Rome; a shorter one (a demo)
        # exactly
        p.state.escalation.demand_expires_at = (
            end_of_rome_day(pay_by) if term >= timedelta(days=1) else expires
        )
    p.state.escalation.demand_term_recorded = False
    await send_letter(
        p,
        key,
        "formal_demand",
        f"Formal demand (term {p.strategy.demand_term}, pay by {pay_by.isoformat()})",
        pay_by=pay_by,
        pec_copy=p.inp.debtor_kind == DebtorKind.BUSINESS and p.state.channels.pec,
    )
    p.state.escalation.action_done = True
    await demand_term(p, p.state.escalation.following() or "judicial")


async def demand_term(p: Practice, next_step: str) -> None:
    """The formal demand's term runs out before anything after it happens, even when a pause
    interrupted it (art. 1454 c.c.: the debtor has the whole term)."""
    expires = p.state.escalation.demand_expires_at
    if expires is None or p.state.escalation.demand_term_recorded:
        return
    await waits.sleep_until(p, expires, next_step)
    p.state.escalation.demand_term_recorded = True
    p.event(
        "demand_term_expired",
        f"Formal demand term expired on {rome_date(expires).isoformat()}",
    )


async def ensure_lawyer(p: Practice, key: str) -> None:
    waiting = p.state.wait
    waiting.lawyer_retry = timedelta(days=1)
    while p.state.escalation.lawyer_id is None:
        assigned: AssignResult = await p.activity(
            ActivityName.ASSIGN_LAWYER,
            AssignInput(practice_id=p.inp.practice_id, idempotency_key=f"{key}:lawyer"),
            result_type=AssignResult,
        )
        if assigned.user_id is not None:
            p.state.escalation.lawyer_id = assigned.user_id
            p.event("lawyer_assigned", "Lawyer assigned", lawyer_id=assigned.user_id)
            return
        if waiting.lawyer_retry == timedelta(days=1):
            p.event("waiting", f"Formal demand waits: {assigned.reason}")
        # an agency without a lawyer yet: look again, daily at first then weekly, rather
        # than skip the demand (and without growing the history every day for years)
        waiting.waiting_for = "a lawyer to be registered"
        waiting.next_action_at = workflow.now() + waiting.lawyer_retry
        await p.flush()
        await waits.wait(p, waiting.lawyer_retry)
        waiting.lawyer_retry = min(waiting.lawyer_retry * 2, LAWYER_RETRY_MAX)


# step 10
async def legal_opinion(p: Practice, key: str) -> None:
    await ensure_lawyer(p, key)
    assert p.state.escalation.lawyer_id is not None
    p.state.answers.opinion = None
    await p.open_task(
        f"{key}:opinion",
        "opinion",
        assignee=p.state.escalation.lawyer_id,
        awaiting=Awaiting.OPINION,
    )
    p.event("opinion_requested", "Lawyer's opinion requested")
    waiting = p.state.wait
    waiting.reminders = 0
    overdue = False
    # the lawyer may answer while a reminder is going out: the answer stays welcome
    waiting.awaiting = Awaiting.OPINION
    try:
        while True:
            await p.notify(
                f"{key}:opinion-request:{waiting.reminders}",
                p.state.escalation.lawyer_id,
                "opinion_request",
                reminder=waiting.reminders,
                balance_cents=p.state.money.balance,
            )
            opinion = await waits.await_answer(
                p,
                Awaiting.OPINION,
                "the lawyer's opinion",
                p.strategy.duration("opinion_timeout"),
                lambda: p.state.answers.opinion,
                release=False,
            )
            if opinion is not None:
                break
            if waiting.reminders >= p.strategy.opinion_reminders and workflow.patched(
                OPINION_REMINDERS_CAPPED
            ):
                await opinion_overdue(p, key, waiting.reminders)
                overdue = True
                break
            waiting.reminders += 1
            p.event("opinion_reminder", f"Lawyer reminded of the opinion ({waiting.reminders})")
    finally:
        p.release_answer()
    await p.close_tasks("opinion", "done", "given")
    if overdue:
        await p.close_tasks("opinion_overdue", "done", "given")


async def opinion_overdue(p: Practice, key: str, reminders: int) -> None:
    """No opinion after the strategy's reminders: the request goes to the admin's list
    (GET /worklists/overdue-opinions), the lawyer is not reminded again, and the practice
    waits for the opinion (the admin chases it or has another lawyer assigned)."""
    await p.open_task(
        f"{key}:opinion-overdue",
        "opinion_overdue",
        detail=f"no opinion after {reminders} reminder(s)",
        awaiting=Awaiting.OPINION,
    )
    p.event(
        "opinion_overdue",
        f"No opinion after {reminders} reminder(s): the request is on the admin's list of "
        "overdue opinions, the lawyer is not reminded again",
        reminders=reminders,
    )
    p.state.wait.waiting_for = "the lawyer's opinion (overdue: on the admin's list)"
    p.state.wait.next_step = None
    p.state.wait.next_action_at = None
    await p.flush()
    await waits.wait(p, None, lambda: p.state.answers.opinion is not None)


# step 11
async def authorization(p: Practice, key: str) -> None:
    p.state.answers.authorization = None
    await p.open_task(f"{key}:authorization", "authorization", awaiting=Awaiting.AUTHORIZATION)
    p.event("authorization_requested", "Creditor asked to authorise legal action")
    interval = p.strategy.duration("authorization_reminder_interval")
    waiting = p.state.wait
    waiting.deadline = deadline = workflow.now() + p.strategy.duration("authorization_timeout")
    opinion = p.state.answers.opinion
    waiting.reminders = 0
    answer: AuthorizationCmd | None = None
    waiting.awaiting = Awaiting.AUTHORIZATION
    try:
        while True:
            await p.notify(
                f"{key}:authorization-request:{waiting.reminders}",
                "creditor",
                "authorization_request",
                reminder=waiting.reminders,
                balance_cents=p.state.money.balance,
                recommend_action=opinion.recommend_action if opinion else None,
                action=opinion.action if opinion else None,
            )
            remaining = deadline - workflow.now()
            if p.state.answers.authorization is not None or remaining <= timedelta(0):
                answer = p.state.answers.authorization
                break
            answer = await waits.await_answer(
                p,
                Awaiting.AUTHORIZATION,
                "the creditor's authorisation",
                min(interval, remaining),
                lambda: p.state.answers.authorization,
                release=False,
            )
            if answer is not None or workflow.now() >= deadline:
                break
            waiting.reminders += 1
            p.event("authorization_reminder", f"Creditor reminded ({waiting.reminders})")
    finally:
        p.release_answer()
    await p.close_tasks(
        "authorization",
        "done" if answer else "cancelled",
        ("authorized" if answer.authorized else "declined") if answer else "no answer",
    )
    if p.state.status == Status.CLOSED:
        return  # paid or withdrawn while the answer was being filed
    if answer is None:
        p.close(Outcome.RETURNED, "Creditor did not answer in time: practice returned")
    elif not answer.authorized:
        p.close(Outcome.RETURNED, "Creditor declined legal action: practice returned")
    else:
        p.state.phase = Phase.JUDICIAL
        # the decreto ingiuntivo claims interest and the compensation, whatever was waived
        # out of court
        p.state.money.claims_interest = True
        await p.refresh_balance()
        p.event("phase_changed", "Legal action authorised: judicial phase", phase=Phase.JUDICIAL)
        # the court steps need a lawyer even when the strategy skipped the demand and opinion
        await ensure_lawyer(p, key)
        await court.start_judicial(p)
        if p.state.escalation.lawyer_id:
            await p.notify(f"{key}:authorized", p.state.escalation.lawyer_id, "authorized")
