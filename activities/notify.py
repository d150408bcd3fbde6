"""notify: messages to the agency's side of a practice (the creditor, a field agent, a lawyer),
never to the debtor. A recipient without an e-mail address still gets the message, as a
notification row in the outbox that the API shows.

The workflow names a template and passes ids, amounts and flags; the wording is written here from
templates/notifications/<template>.subject.txt.j2 and .body.txt.j2 with the practice's reference,
the creditor's name and the balance read from the database, so none of them enters the history.
Amounts the workflow passes (it knows them before the read model does) win over the database's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.context import ActivityContext, PracticeFile, load_practice_file
from activities.deliveries import Message, add_to_result, write_outbox
from db.models import User
from domain.activity_io import ActivityName, NotifyInput, SentResult
from domain.practice import Outcome

log = logging.getLogger(__name__)

CREDITOR = "creditor"

Param = str | int | bool | None

# The parameters each template reads, with the type each must have. One left out (or None) takes
# its default: the database's value for amounts and the province, 0 reminders, no opinion, and
# NotifyInput.outcome for the outcome.
TEMPLATES: dict[str, dict[str, type]] = {
    "visit_assigned": {"province": str},
    "opinion_request": {"reminder": int, "balance_cents": int},
    "authorization_request": {
        "reminder": int,
        "balance_cents": int,
        "recommend_action": bool,
        "action": str,
    },
    "authorized": {},
    "closed": {"outcome": str, "paid_cents": int, "balance_cents": int},
    # the court steps: a deadline coming up, and what happened (to the lawyer)
    "judicial_deadline": {"deadline": str, "last_day": str, "rule": str},
    # a deal outside the creditor's bounds, waiting for its decision
    "proposal_request": {"reminder": int, "balance_cents": int, "summary": str},
    "judicial_event": {"event": str, "last_day": str},
    # the court steps ended with nothing left to do: close as uncollectable or keep under watch
    "end_decision_request": {"reminder": int, "balance_cents": int},
    # an open dispute, waiting for the creditor's decision (all contact with the debtor stopped)
    "dispute_request": {"reminder": int, "balance_cents": int},
}

DEADLINE_WORDS = {
    "decree_service": "notifica del decreto ingiuntivo (art. 644 c.p.c.)",
    "opposition": "termine per l'opposizione al decreto ingiuntivo (art. 641 c.p.c.)",
    "precetto_term": "termine del precetto: esecuzione possibile dal giorno successivo",
    "precetto_lapse": "inizio dell'esecuzione prima che il precetto perda efficacia (art. 481)",
}

EVENT_WORDS = {
    "decree_lapsed": "il decreto ingiuntivo non è stato notificato in tempo ed è divenuto "
    "inefficace (art. 644 c.p.c.): occorre un nuovo ricorso",
    "decree_final": "il termine per l'opposizione è scaduto senza opposizione: il decreto è "
    "definitivo ed esecutivo",
    "precetto_lapsed": "il precetto ha perso efficacia senza che l'esecuzione sia iniziata "
    "(art. 481 c.p.c.): occorre un nuovo precetto",
    "stopped": "le azioni giudiziali sono state interrotte (pagamento, accordo o decisione del "
    "mandante): non procedere oltre",
}

OUTCOME_WORDS = {
    Outcome.PAID: "pagata",
    Outcome.WITHDRAWN: "revocata dal mandante",
    Outcome.RETURNED: "restituita al mandante",
    Outcome.DISPUTE_UPHELD: "contestazione accolta",
    Outcome.SETTLED: "chiusa a saldo e stralcio",
    Outcome.DECEASED: "chiusa per decesso del debitore",
    Outcome.INSOLVENCY: "chiusa per procedura concorsuale: il mandante insinui il credito al "
    "passivo presso il curatore",
    Outcome.UNABLE_TO_PAY: "chiusa per accertata incapienza del debitore",
    Outcome.UNCOLLECTABLE: "chiusa come inesigibile: il saldo residuo è stato stralciato",
}

ACTION_WORDS = {
    "decreto_ingiuntivo": "il ricorso per decreto ingiuntivo",
    "atto_di_citazione": "l'atto di citazione",
    "precetto": "l'atto di precetto",
}


def _invalid(message: str) -> ApplicationError:
    """A workflow sending what no template reads is a programming error: it fails visibly and is
    not retried (a retry would send the same input again)."""
    return ApplicationError(message, type="InvalidInput", non_retryable=True)


def checked_params(template: str, params: dict[str, Param]) -> dict[str, Param]:
    """The template's parameters that were given, type-checked; others are ignored (a newer
    workflow may send more than this worker reads)."""
    expected = TEMPLATES.get(template)
    if expected is None:
        raise _invalid(f"unknown notification template {template!r}; known: {', '.join(TEMPLATES)}")
    checked: dict[str, Param] = {}
    for name, kind in expected.items():
        value = params.get(name)
        if value is None:
            continue
        # bool is an int to Python, but a flag is not an amount or a count
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise _invalid(
                f"notification {template}: parameter {name} must be {kind.__name__}, "
                f"not {type(value).__name__}"
            )
        checked[name] = value
    return checked


def _action_words(action: str | None) -> str | None:
    if not action:
        return None
    return ACTION_WORDS.get(action, action.replace("_", " "))


def _outcome_words(template: str, outcome: str | None) -> str | None:
    if outcome is None:
        return None
    try:
        return OUTCOME_WORDS[Outcome(outcome)]
    except ValueError:
        raise _invalid(
            f"notification {template}: unknown outcome {outcome!r}; "
            f"known: {', '.join(o.value for o in Outcome)}"
        ) from None


@dataclass
class Recipient:
    tag: str  # "creditor:<id>" or "user:<id>": the key suffix, and the recipient of a notification
    email: str | None


class NotifyActivities(ActivityContext):
    async def _recipients(self, file: PracticeFile, to: str) -> list[Recipient]:
        if to == CREDITOR:
            creditor = file.creditor
            if creditor.email:
                return [Recipient(f"creditor:{creditor.id}", creditor.email)]
            async with self.db.session() as session:
                users = (
                    (
                        await session.execute(
                            select(User)
                            .where(
                                User.role == "creditor",
                                User.creditor_id == creditor.id,
                                User.active.is_(True),
                                User.email.is_not(None),
                            )
                            .order_by(User.created_at, User.id)
                        )
                    )
                    .scalars()
                    .all()
                )
            with_email = [Recipient(f"user:{u.id}", u.email) for u in users if u.email]
            return with_email or [Recipient(f"creditor:{creditor.id}", None)]
        async with self.db.session() as session:
            user = await session.get(User, to)
        if user is None:
            log.warning("practice %s: notification for unknown user %s", file.practice.id, to)
        return [Recipient(f"user:{to}", user.email if user is not None else None)]

    def _context(
        self, file: PracticeFile, input: NotifyInput, params: dict[str, Param]
    ) -> dict[str, Any]:
        """What the templates read; every name is defined for every template."""
        practice = file.practice
        outcome = params.get("outcome", input.outcome)
        action = params.get("action")
        return {
            "reference": practice.reference,
            "creditor_name": file.creditor.name,
            "province": params.get("province", practice.province),
            # a debtor abroad has no province: a correspondent's visit names the country
            "country": (practice.country or "IT").upper(),
            "reminder": params.get("reminder", 0),
            "balance_cents": params.get("balance_cents", practice.balance_cents),
            "paid_cents": params.get("paid_cents", practice.paid_cents),
            "recommend_action": params.get("recommend_action"),
            "action": _action_words(action if isinstance(action, str) else None),
            "outcome": _outcome_words(
                input.template, outcome if isinstance(outcome, str) else None
            ),
            "deadline": DEADLINE_WORDS.get(str(params.get("deadline")), params.get("deadline")),
            "last_day": params.get("last_day"),
            "rule": params.get("rule"),
            "event": EVENT_WORDS.get(str(params.get("event")), params.get("event")),
            "summary": params.get("summary"),
            "agency_name": self.settings.agency_name,
            "agency_email": self.settings.agency_email,
            "agency_phone": self.settings.agency_phone,
        }

    @activity.defn(name=ActivityName.NOTIFY)
    async def notify(self, input: NotifyInput) -> SentResult:
        params = checked_params(input.template, input.params)  # before touching anything
        async with self.db.session() as session:
            file = await load_practice_file(session, input.practice_id)
        subject, body = self.renderer.notification(
            input.template, **self._context(file, input, params)
        )

        result = SentResult()
        for recipient in await self._recipients(file, input.to):
            # keyed per recipient: if the creditor's users change between attempts, the ones
            # already written are found again and only the new ones are added
            key = f"{input.idempotency_key}:{recipient.tag}"
            if recipient.email:
                message = Message(key, "email", recipient.email, subject, body, file.practice.id)
                add_to_result(result, await self.email.send(message))
            else:
                message = Message(
                    key, "notification", recipient.tag, subject, body, file.practice.id
                )
                add_to_result(result, await write_outbox(self.db, message))
        log.info(
            "practice %s: notification %s to %s: %s",
            input.practice_id,
            input.template,
            input.to,
            ", ".join(result.deliveries + result.skipped),
        )
        return result
