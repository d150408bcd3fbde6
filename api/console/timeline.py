"""The timeline's lines and the practice's "waiting for" in the reader's language.

The workflows record each event's summary in English (the API's language; their payloads carry
ids, amounts and dates, never a language), with the event's kind and values. The console says
them in the reader's language: from the event's values where it has them, else from the parts
of a summary whose shape the workflow fixes (a letter's channels, a deferred contact's moment and
rule), else by looking the whole summary up as a message. A line none of these knows is shown as
recorded, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime

from api.console.i18n import N_, PRACTICE_VALUES, language, translations

# summaries with nothing variable: looked up whole
EVENT_TEXTS = (
    N_("Due date passed unpaid: out-of-court collection begins"),
    N_("Legal action authorised: judicial phase"),
    N_("No e-mail or SMS possible: reminder not sent"),
    N_("No outcome recorded in time: counted as unanswered"),
    N_("Skip tracing requested: looking for new contacts"),
    N_("Skip tracing not completed in time"),
    N_("No visit outcome recorded in time"),
    N_("Home visit waits for a foreign correspondent: none covers the debtor's country"),
    N_("Lawyer assigned"),
    N_("Lawyer's opinion requested"),
    N_("Creditor asked to authorise legal action"),
    N_("Promise kept: collection goes on for the rest"),
    N_("Skip tracing found new contacts"),
    N_("Skip tracing found nothing new"),
    N_("Dispute rejected by the creditor: collection resumes"),
    N_("Dispute upheld by the creditor"),
    N_("The creditor stopped the court steps"),
    N_("Creditor authorised legal action"),
    N_("Creditor declined legal action"),
    N_("Lawyer's opinion: legal action not advised"),
    N_("The creditor refused the proposal"),
    N_("No decision on the proposal in time: refused"),
    N_("The creditor approved the proposal"),
    N_("Repayment plan in force: escalation paused"),
    N_("Settlement in force: escalation paused"),
    N_("Settlement not paid by its date: it lapsed"),
    N_("Plan kept"),
    N_("The field agent found the debtor's new address"),
    N_("Letter returned undelivered: postal address marked wrong"),
    N_("The creditor chose to close the practice as uncollectable"),
    N_("The creditor chose to keep the practice under watch"),
    N_("Court steps opened: the lawyer files the ricorso"),
    N_("Court steps stopped"),
    N_("Decree not served in time: it lapsed (art. 644 c.p.c.); a new ricorso is needed"),
    N_("Opposition rejected: the decree is confirmed"),
    N_("Opposition upheld: the decree is revoked"),
    N_("No enforcement within 90 days: the precetto lapsed (art. 481 c.p.c.)"),
    N_("Opposition to the precetto upheld: a new one is needed"),
)
HANDED_OVER_ONE = N_("Practice handed over: 1 invoice, claim %(claim)s")
HANDED_OVER_MANY = N_("Practice handed over: %(invoices)s invoices, claim %(claim)s")
STEP_STARTED = N_("Step: %(step)s")
RESUMED = N_("Escalation resumed at: %(step)s")
PAYMENT = N_("Payment of %(amount)s received on %(date)s; balance %(balance)s")
PROMISE = N_("Promise to pay %(amount)s by %(date)s: escalation paused")
CALL_OUTCOME = N_("Call outcome: %(outcome)s")
VISIT_OUTCOME = N_("Visit outcome: %(outcome)s")
LETTER_SENT = N_("%(letter)s sent for %(amount)s (%(channels)s)")
EMAIL_COPY = N_("%(letter)s: copy sent by e-mail")
REMINDER_BEFORE = N_("Reminder before the due date %(date)s sent (%(channels)s)")
REMINDER_ON = N_("Reminder on the due date %(date)s sent (%(channels)s)")
CONTACTS_CHECKED = N_("Debtor analysis: %(findings)s")
CALL_QUEUED = N_("Call queued for operators (attempt %(attempt)s of %(attempts)s)")
CONTACT_DEFERRED = N_("%(channel)s deferred to %(moment)s: %(reason)s")
CONTACT_REFUSED = N_("No %(channel)s: %(reason)s")
NO_CHANNEL = N_("no channel")
NOTHING_TO_NOTE = N_("nothing to note")

# the outcomes as the operator's and the agent's forms name them (the same messages)
OUTCOME_NAMES = {
    "call_outcome": {
        "no_answer": N_("No answer"),
        "wrong_number": N_("Wrong number"),
        "refused": N_("Refused to pay"),
        "reached": N_("Reached, no agreement yet"),
        "promise": N_("Promise to pay"),
        "dispute": N_("Dispute"),
    },
    "visit_outcome": {
        "not_found": N_("Not found (nobody there, or moved)"),
        "refused": N_("Met: refused to pay"),
        "promise": N_("Met: promise to pay"),
        "dispute": N_("Met: disputes the debt"),
        "met": N_("Met: no agreement yet"),
        "moved": N_("Moved: new address found"),
    },
}

# a letter's or reminder's channels as the activities label them ("email:sent", "post:outbox")
CHANNELS = {
    "email": N_("e-mail"),
    "sms": N_("SMS"),
    "pec": N_("PEC"),
    "post": N_("post"),
    "call": N_("call"),
    "visit": N_("visit"),
}
DELIVERY_STATUSES = {
    "sent": N_("sent"),
    "outbox": N_("in the outbox"),
    "pending": N_("being sent"),
    "failed": N_("failed"),
    "parked": N_("parked"),
}

# the contact rules' reasons (domain/contact_rules.py, activities/contact_limits.py)
CONTACT_REASONS = (
    N_(
        "outside the contact hours (Monday-Friday 08:30-21:00, Saturday 08:30-15:00, "
        "never on Sundays or public holidays)"
    ),
    N_(
        "outside the contact hours where the debtor lives (its time zone, hours and public "
        "holidays)"
    ),
    N_("the debtor already had a conversation on that day"),
    N_("the debtor already had 3 conversations that week"),
)
OPTED_OUT = N_("the debtor opted out of %(channel)s")
PREFERS = N_("the debtor prefers the %(window)s (%(hours)s)")
WINDOWS = {"morning": N_("morning"), "afternoon": N_("afternoon"), "evening": N_("evening")}

# the contact check's findings (activities/contacts.py), each looked up alone
FINDINGS = (
    N_("e-mail address valid"),
    N_("e-mail address marked invalid"),
    N_("e-mail address not valid"),
    N_("no e-mail address"),
    N_("phone number valid (mobile)"),
    N_("phone number valid (landline)"),
    N_("phone number marked invalid"),
    N_("phone number not valid"),
    N_("no phone number"),
    N_("PEC available"),
    N_("PEC address marked invalid"),
    N_("PEC address not valid"),
    N_("business debtor: PEC available"),
    N_("business debtor: no PEC on file"),
    N_("postal address marked invalid (letter returned or moved)"),
    N_("postal code not in the Italian 5-digit format"),
    N_("province code not recognised"),
    N_("address abroad"),
    N_("address complete"),
    N_("address complete, with doubts"),
    N_("business debtor: no VAT number"),
    N_("VAT number valid"),
    N_("VAT number not valid"),
    N_("tax code valid"),
    N_("tax code is a company number"),
    N_("tax code not valid"),
    N_("no tax code"),
    N_("claim under EUR 1,000"),
    N_("claim EUR 1,000 to 5,000"),
    N_("claim EUR 5,000 to 25,000"),
    N_("claim over EUR 25,000"),
    N_("part of the claim already paid: some ability to pay"),
    N_("oldest invoice overdue by more than a year"),
    N_("oldest invoice overdue by more than 90 days"),
    N_("no usable contact: skip tracing needed"),
)
ADDRESS_MISSING = N_("address incomplete: missing %(parts)s")
ADDRESS_PARTS = {"street": N_("street"), "city": N_("city"), "postal code": N_("postal code")}
INVOICES = N_("%(count)s invoices")

# what a practice waits for, as the workflow reports it (PracticeView.waiting_for, in English
# for the API)
WAITING_FOR = {
    "skip tracing result": N_("the result of the skip tracing"),
    "home visit outcome": N_("the outcome of the home visit"),
    "the lawyer's opinion": N_("the lawyer's opinion"),
    "the lawyer's opinion (overdue: on the admin's list)": N_(
        "the lawyer's opinion (overdue: on the administrator's list)"
    ),
    "the creditor's authorisation": N_("your authorisation of legal action"),
    "a lawyer to be registered": N_("a lawyer to be registered"),
    "the creditor's decision on the dispute": N_("your decision on the dispute"),
    "the creditor's decision on a proposal": N_("your decision on a proposal"),
    "the creditor's decision: close as uncollectable or keep under watch": N_(
        "your decision: close as uncollectable or keep under watch"
    ),
    "the next re-check of the debtor (kept under watch)": N_(
        "the next re-check of the debtor (kept under watch)"
    ),
    "the repayment plan": N_("the repayment plan"),
    "the court steps (see the judicial stage)": N_("the court steps"),
    "payment after the court steps": N_("payment after the court steps"),
}
WAITING_CONTACT_RULES = N_("the contact rules to allow a %(channel)s")
WAITING_PROMISE = N_("payment promised by %(date)s")
WAITING_SETTLEMENT = N_("the settlement's payment by %(date)s")

_DEFERRED = re.compile(r"^\w+ deferred to (?P<moment>\S+): (?P<reason>.+)$", re.S)
_QUEUED = re.compile(r"\(attempt (?P<attempt>\d+)/(?P<attempts>\d+)\)$")
_CHANNELS_AT_END = re.compile(r"\((?P<channels>[^()]*)\)$")


def _channel_list(gettext: Callable[[str], str], text: str) -> str:
    """ "email:sent, post:outbox" -> "e-mail (inviata), posta (nella coda)" in the language."""
    if text in ("", "no channel"):
        return gettext(NO_CHANNEL)
    parts = []
    for label in text.split(", "):
        channel, _, status = label.partition(":")
        name = gettext(CHANNELS[channel]) if channel in CHANNELS else channel
        if status:
            state = gettext(DELIVERY_STATUSES[status]) if status in DELIVERY_STATUSES else status
            name = f"{name}: {state}"
        parts.append(name)
    return ", ".join(parts)


def contact_reason(code: str, reason: str) -> str:
    """A contact rule's reason in the language (the deferred and refused lines, the queue)."""
    gettext = translations(code).gettext
    if reason.startswith("the debtor opted out of "):
        channel = reason.removeprefix("the debtor opted out of ")
        return gettext(OPTED_OUT) % {"channel": gettext(CHANNELS.get(channel, channel))}
    preferred = re.fullmatch(r"the debtor prefers the (\w+) \((.+)\)", reason)
    if preferred and preferred[1] in WINDOWS:
        window = gettext(WINDOWS[preferred[1]])
        return gettext(PREFERS) % {"window": window, "hours": preferred[2]}
    return gettext(reason) if reason else reason


def _finding(gettext: Callable[[str], str], finding: str) -> str:
    if finding.startswith("address incomplete: missing "):
        parts = finding.removeprefix("address incomplete: missing ").split(", ")
        named = ", ".join(gettext(ADDRESS_PARTS[p]) if p in ADDRESS_PARTS else p for p in parts)
        return gettext(ADDRESS_MISSING) % {"parts": named}
    counted = re.fullmatch(r"(\d+) invoices", finding)
    if counted:
        return gettext(INVOICES) % {"count": counted[1]}
    return gettext(finding)


def _moment(code: str, text: str) -> str | None:
    try:
        return language(code).datetime(datetime.fromisoformat(text))
    except ValueError:
        return None


def timeline_line(code: str, kind: str, summary: str, data: Mapping[str, object]) -> str:
    gettext = translations(code).gettext
    lang = language(code)
    if kind == "handed_over":
        invoices, claim = data.get("invoices"), data.get("claim_cents")
        if isinstance(invoices, int) and isinstance(claim, int):
            message = HANDED_OVER_ONE if invoices == 1 else HANDED_OVER_MANY
            return gettext(message) % {"invoices": invoices, "claim": lang.money(claim)}
    if kind in ("step_started", "resumed"):
        step = data.get("step")
        if isinstance(step, str) and step in PRACTICE_VALUES:
            name = gettext(PRACTICE_VALUES[step])
            message = STEP_STARTED if kind == "step_started" else RESUMED
            return gettext(message) % {"step": name}
    if kind == "payment":
        amount, paid_on, balance = (
            data.get(k) for k in ("amount_cents", "paid_on", "balance_cents")
        )
        if isinstance(amount, int) and isinstance(paid_on, str) and isinstance(balance, int):
            return gettext(PAYMENT) % {
                "amount": lang.money(amount),
                "date": lang.date(date.fromisoformat(paid_on)),
                "balance": lang.money(balance),
            }
    if kind == "promise":
        amount, promised = data.get("amount_cents"), data.get("promised_date")
        if isinstance(amount, int) and isinstance(promised, str):
            return gettext(PROMISE) % {
                "amount": lang.money(amount),
                "date": lang.date(date.fromisoformat(promised)),
            }
    if kind in OUTCOME_NAMES:
        outcome = data.get("outcome")
        names = OUTCOME_NAMES[kind]
        if isinstance(outcome, str) and outcome in names:
            message = CALL_OUTCOME if kind == "call_outcome" else VISIT_OUTCOME
            return gettext(message) % {"outcome": gettext(names[outcome])}
    if kind == "letter_sent":
        letter, balance = data.get("letter"), data.get("balance_cents")
        channels = _CHANNELS_AT_END.search(summary)
        if isinstance(letter, str) and letter in PRACTICE_VALUES and isinstance(balance, int):
            return gettext(LETTER_SENT) % {
                "letter": gettext(PRACTICE_VALUES[letter]),
                "amount": lang.money(balance),
                "channels": _channel_list(gettext, channels["channels"] if channels else ""),
            }
    if kind == "email_copy_sent":
        letter = data.get("letter")
        if isinstance(letter, str) and letter in PRACTICE_VALUES:
            return gettext(EMAIL_COPY) % {"letter": gettext(PRACTICE_VALUES[letter])}
    if kind == "reminder_sent":
        moment, due = data.get("moment"), data.get("due_date")
        channels = _CHANNELS_AT_END.search(summary)
        if moment in ("before", "on") and isinstance(due, str):
            message = REMINDER_BEFORE if moment == "before" else REMINDER_ON
            return gettext(message) % {
                "date": lang.date(date.fromisoformat(due)),
                "channels": _channel_list(gettext, channels["channels"] if channels else ""),
            }
    if kind == "contacts_checked" and summary.startswith("Debtor analysis: "):
        findings = summary.removeprefix("Debtor analysis: ")
        said = (
            gettext(NOTHING_TO_NOTE)
            if findings == "nothing to note"
            else "; ".join(_finding(gettext, f) for f in findings.split("; "))
        )
        return gettext(CONTACTS_CHECKED) % {"findings": said}
    if kind == "call_queued":
        queued = _QUEUED.search(summary)
        if queued:
            return gettext(CALL_QUEUED) % {
                "attempt": queued["attempt"],
                "attempts": queued["attempts"],
            }
    channel = data.get("channel")
    if kind == "contact_deferred" and isinstance(channel, str):
        deferred = _DEFERRED.match(summary)
        moment = _moment(code, deferred["moment"]) if deferred else None
        if deferred and moment:
            return gettext(CONTACT_DEFERRED) % {
                "channel": gettext(CHANNELS.get(channel, channel)).capitalize(),
                "moment": moment,
                "reason": contact_reason(code, deferred["reason"]),
            }
    if kind == "contact_refused" and isinstance(channel, str):
        prefix = f"No {channel}: "
        if summary.startswith(prefix):
            return gettext(CONTACT_REFUSED) % {
                "channel": gettext(CHANNELS.get(channel, channel)),
                "reason": contact_reason(code, summary.removeprefix(prefix)),
            }
    # an empty message would be the catalogue's header
    return gettext(summary) if summary else summary


def waiting_text(code: str, waiting_for: str) -> str:
    """What the practice waits for, in the language; one this module does not know as given."""
    gettext = translations(code).gettext
    lang = language(code)
    if waiting_for in WAITING_FOR:
        return gettext(WAITING_FOR[waiting_for])
    rules = re.fullmatch(r"the contact rules to allow a (\w+)", waiting_for)
    if rules:
        return gettext(WAITING_CONTACT_RULES) % {
            "channel": gettext(CHANNELS.get(rules[1], rules[1]))
        }
    dated = re.fullmatch(
        r"(payment promised by|the settlement's payment by) (\d{4}-\d{2}-\d{2})", waiting_for
    )
    if dated:
        message = WAITING_PROMISE if dated[1] == "payment promised by" else WAITING_SETTLEMENT
        return gettext(message) % {"date": lang.date(date.fromisoformat(dated[2]))}
    return waiting_for
