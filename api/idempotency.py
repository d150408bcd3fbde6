"""The request's Idempotency-Key: a retried command is applied once.

A client that lost the answer to a command (a timeout, a dropped connection, a double click)
sends it again with the same `Idempotency-Key` header. The key becomes the Temporal update's id
(`api.errors.send_update`): Temporal runs an update id once per workflow run and answers a
repeat with the first outcome, so the workflow never records the promise, the call outcome or the
decision twice. The note a command carries gets an id derived from the same key, so a repeat
does not save it twice either (`note_id`).

The key lives in a context variable set by a dependency in the request's own task, like the
caller (`api.auth`); the console sets it from the one-time key its forms carry.
"""

from __future__ import annotations

import hashlib
import re
from contextvars import ContextVar
from typing import Annotated

from fastapi import Header
from fastapi.exceptions import RequestValidationError

HEADER = "Idempotency-Key"
# what Stripe and the IETF draft accept in practice: visible ASCII, a UUID fits easily
_VALID = re.compile(r"[!-~]{1,200}")

_KEY: ContextVar[str | None] = ContextVar("recupero_idempotency_key", default=None)


def use_key(key: str | None) -> None:
    """Called in the request's task: the commands it sends carry `key`."""
    _KEY.set(key)


def request_key() -> str | None:
    return _KEY.get()


async def read_idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description="Any string of up to 200 visible ASCII characters (a UUID, say). "
            "A command sent again with the same key is applied once; the repeat answers with "
            "the first outcome.",
        ),
    ] = None,
) -> None:
    if idempotency_key is not None and not _VALID.fullmatch(idempotency_key):
        # api.errors.invalid's shape, built here because api.errors imports this module
        raise RequestValidationError(
            [
                {
                    "loc": ("header", HEADER),
                    "msg": "1 to 200 visible ASCII characters, no spaces",
                    "type": "value_error",
                }
            ]
        )
    use_key(idempotency_key)


def update_id(update: str) -> str | None:
    """The Temporal update id for `update` under the request's key (None: Temporal picks one).
    The update's name is part of it, so one key reused for another command is another command."""
    key = _KEY.get()
    return None if key is None else f"{update}:{key}"


def note_id(practice_id: str, kind: str) -> str | None:
    """A note's primary key derived from the request's key (32 hex characters, the column's
    width), so the note of a repeated command is found rather than saved again."""
    key = _KEY.get()
    if key is None:
        return None
    return hashlib.sha256(f"{practice_id}\0{kind}\0{key}".encode()).hexdigest()[:32]
