"""The practice workflow's patch ids (workflow.patched): practices started before a change
replay the old commands. Every id stays as long as a practice started before it may run."""

from temporalio import workflow

# Patch ids (workflow.patched): practices started before a change replay the old commands.
# The read model is written by a local activity (it was a normal activity), and the hand-over's
# event is written with the first step's record (it had a write of its own). One id for both
# changes, which shipped together: every patch id costs each new practice a marker and a
# search-attribute upsert on the server.
RECORD_LOCALLY = "record-practice-as-local-activity"
# The formal demand's term comes from the court calendar (a last day on a Sunday or a public
# holiday moves to the next working day, artt. 1187, 2963 c.c.); it was `now + term`. Asked only
# on the formal demand's path, so that practices that never get there pay nothing for it.
DEMAND_TERM_ON_COURT_CALENDAR = "demand_term_on_court_calendar"
# A dispute suspends whichever of escalation / promise / deal is in charge (domain/pauses.py) and
# tells a running plan to suspend; before, it dropped a promise and its rejection resumed the
# escalation beside a running plan.
PAUSES_COMPOSE = "pauses-compose"
# Invoices overdue at the hand-over are collected at once, while those not yet due get their
# pre-due reminders beside the escalation; before, everything waited for the last due date.
COLLECT_OVERDUE_NOW = "collect-overdue-now"
# When the court steps end (a lost opposition, a negative pignoramento, stopped, ...) the practice
# asks the creditor to close it as uncollectable or keep it under watch; before, it waited forever.
END_DECISION = "end-decision"
# An open dispute reminds the creditor to decide (and shows until when it waits); before, it
# waited without a date.
DISPUTE_REMINDERS = "dispute-reminders"
# The lawyer is reminded of an opinion `strategy.opinion_reminders` times, then the request goes
# to the admin's list (an `opinion_overdue` task) and the reminders stop (they repeated forever).
OPINION_REMINDERS_CAPPED = "opinion-reminders-capped"
# A visit reported as moved (VisitOutcome.MOVED): the debtor's address is marked wrong, or, with
# the new address the agent learned, usable again as after skip tracing. Before, no such outcome.
VISIT_OUTCOMES_V2 = "visit-outcomes-v2"
# Issue 16: a debtor abroad's visit goes to a foreign correspondent; when none covers the
# debtor's country the visit task is opened unassigned (the admin's list) and waited for, where
# before the step was skipped. Asked only then, so that other practices pay no marker.
CORRESPONDENT_UNASSIGNED = "correspondent-unassigned-visit"
# Issue 16: the pre-due reminders of a debtor abroad go out at 09:00 of its own time zone and
# collection starts at the end of its own due day (an activity reads the zone: the workflow
# never holds it); before, Rome's. Asked only for a debtor abroad with reminders ahead.
PRE_DUE_IN_DEBTOR_ZONE = "pre-due-in-debtor-zone"
# Issue 17: the pre-due reminders of a day go out at 09:00 plus the practice's offset of up to
# PracticeInput.reminder_spread_minutes (domain.contact_rules.spread_reminder); before, at 09:00
# sharp. Asked only for a practice with a spread and reminders ahead.
PRE_DUE_SPREAD = "pre-due-spread"
# The court steps that end otherwise than by returning (cancelled before they could catch it,
# terminated by hand, failed) end the court phase with that outcome, and the creditor decides as
# after any end; before, the watcher died with the child's error and the practice waited for an
# end that never came (a stop waited for ever). Asked only when the child ends so.
JUDICIAL_ABNORMAL_END = "judicial-abnormal-end"

# The steps run in the order the creditor's strategy lists them (domain/strategy.py keeps the
# order the law binds); before, always in STEP_ORDER. Asked only for a practice whose order
# differs from the default.
STEPS_IN_CREDITORS_ORDER = "steps-in-creditors-order"

# Issue 14: a repayment plan is started with ParentClosePolicy.ABANDON (was REQUEST_CANCEL), so
# that it outlives the run that started it when the practice continues as new; the practice
# cancels it itself when it closes. Asked at each plan's start.
PLANS_OUTLIVE_RUN = "plans-outlive-run"
# Issue 14: the practice continues as new at a safe point once its history reaches
# PracticeInput.history_bound or the server suggests it. Asked only then, so that practices
# whose history stays short pay no marker.
CONTINUE_AS_NEW = "practice-continue-as-new"


class PatchedVersions:
    """domain.practice_state.Versions from this workflow's history (workflow.patched)."""

    def pauses_compose(self) -> bool:
        return workflow.patched(PAUSES_COMPOSE)

    def visit_outcomes_v2(self) -> bool:
        return workflow.patched(VISIT_OUTCOMES_V2)


# Issue 14: the court steps are started with ParentClosePolicy.ABANDON (was REQUEST_CANCEL) and
# the practice's history bound, their workflow id kept in CourtState.workflow_id: they outlive the
# run that started them, a continued run learns their end from their `judicial_ended` signal, and
# the practice cancels them by id. Asked at the court steps' start, only for a practice with a
# bound.
COURT_STEPS_OUTLIVE_RUN = "court-steps-outlive-run"
# Issue 14: a repayment plan gets the practice's history bound (it continues as new itself) and is
# cancelled by its workflow id (a cancel through the child handle misses a continued plan on the
# real server). Asked at each plan's start, only for a practice with a bound.
PLANS_BOUNDED = "plans-history-bound"
