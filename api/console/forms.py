"""Form posts to the API's request models, and their errors next to the fields: the message
shown is the one the API's 422 gives for that field (the same pydantic model, the same service
function)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from domain.money import as_typed_by_people


def field_errors(
    exc: ValidationError | RequestValidationError, nested: Collection[str] = ()
) -> dict[str, str]:
    """{field: message}, the first message per field; `loc` as the API reports it, without
    its leading "body" (or "query"). The fields of an object named in `nested` (an address)
    are keyed "object.field", so each shows next to its own input."""
    errors: Sequence[Any] = exc.errors()
    found: dict[str, str] = {}
    for error in errors:
        loc = [part for part in error.get("loc", ()) if part not in ("body", "path", "query")]
        name = str(loc[0]) if loc else "__all__"
        if name in nested and len(loc) > 1:
            name = f"{name}.{loc[1]}"
        found.setdefault(name, str(error.get("msg", "")))
    return found


def optional(value: object) -> str | None:
    """An empty field is an absent one."""
    text = value.strip() if isinstance(value, str) else ""
    return text or None


def euros(value: object) -> str | None:
    """An amount typed in euros, as the API's models read it ("1250.40"); empty is absent.
    People's ways of writing it ("1.250,40", "250,40", "250.40") are read by
    domain.money.as_typed_by_people."""
    raw = optional(value)
    return None if raw is None else as_typed_by_people(raw)


def text(value: object) -> str:
    """A posted field read from the form by name: its text; a file (or nothing) is empty."""
    return value if isinstance(value, str) else ""


@dataclass
class Refused:
    """How the API refused a console action: its 422 as messages by field, or its other refusal
    (409, 502, ...) as one message with its status. Empty (falsy) when the action went through."""

    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    status_code: int = 200

    def __bool__(self) -> bool:
        return bool(self.errors or self.message)


async def attempt(action: Callable[[], Awaitable[object]], nested: Collection[str] = ()) -> Refused:
    """Runs a console action (parse the form with the API's model, call the API's handler) and
    says how the API refused it. A 403 or 404 is raised on: the console's refusal page (not this
    person's, or not there), as for a page they may not open. `nested`: as field_errors'."""
    try:
        await action()
    except (ValidationError, RequestValidationError) as exc:
        return Refused(errors=field_errors(exc, nested), status_code=422)
    except HTTPException as exc:
        if exc.status_code in (403, 404):
            raise
        return Refused(message=str(exc.detail), status_code=exc.status_code)
    return Refused()


ADDRESS_PARTS = ("street", "city", "postal_code", "province")


def address_fields(form: Mapping[str, str], prefix: str) -> dict[str, str | None] | None:
    """An address typed in the fields `{prefix}street`, `{prefix}city`, ... as the API's
    AddressIn receives it; None when all of them are empty (no address given)."""
    parts = {part: optional(form.get(prefix + part)) for part in ADDRESS_PARTS}
    return parts if any(parts.values()) else None
