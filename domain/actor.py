"""Who caused something on a practice (issue 11 point 10): a user of the product (their id and
role), the debtor, a provider (an e-mail, SMS, PEC or voice provider reporting), or the system
(the workflow's own timers and rules).

Only ids and roles: never a name, an e-mail or a phone (personal data stays in the database).
Every command from the API carries the Principal who sent it; the workflow puts the actor of the
command it is handling on every event it writes meanwhile, and the system on the others.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    USER = "user"  # a person using the product: id and role
    DEBTOR = "debtor"  # the debtor themselves (e.g. through a debtor-facing channel)
    PROVIDER = "provider"  # a provider's report: id names the provider (sendgrid, twilio, pec)
    SYSTEM = "system"  # the workflow's own timers and rules


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str | None = None  # the user's id, the provider's name; None for the debtor or system
    role: str | None = None  # the user's role (admin, operator, creditor, lawyer, field_agent)

    def describe(self) -> dict[str, str | None]:
        return {"kind": ActorKind(self.kind).value, "id": self.id, "role": self.role}


SYSTEM = Actor(ActorKind.SYSTEM)


def user(user_id: str, role: str) -> Actor:
    return Actor(ActorKind.USER, user_id, role)


def provider(name: str) -> Actor:
    return Actor(ActorKind.PROVIDER, name)


# The actor of the command a workflow is handling. A Temporal update handler runs in its own
# asyncio task, and a task has its own copy of the context: set at the top of a handler, the
# value holds for the events that handler (and the tasks it starts) writes, and no other
# handler sees it. Outside a handler (timers, the main loop) it is unset: the system.
_ACTING: ContextVar[Actor | None] = ContextVar("recupero_acting", default=None)


def acting(actor: Actor | None) -> None:
    """Called first in a workflow update handler with its command's actor."""
    _ACTING.set(actor)


def current_actor() -> Actor:
    return _ACTING.get() or SYSTEM
