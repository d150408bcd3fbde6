"""Form posts to the API's request models, and their errors next to the fields: the message
shown is the one the API's 422 gives for that field (the same pydantic model, the same service
function)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError


def field_errors(exc: ValidationError | RequestValidationError) -> dict[str, str]:
    """{field: message}, the first message per field; `loc` as the API reports it, without
    its leading "body" (or "query")."""
    errors: Sequence[Any] = exc.errors()
    found: dict[str, str] = {}
    for error in errors:
        loc = [part for part in error.get("loc", ()) if part not in ("body", "path", "query")]
        name = str(loc[0]) if loc else "__all__"
        found.setdefault(name, str(error.get("msg", "")))
    return found


def optional(value: object) -> str | None:
    """An empty field is an absent one."""
    text = value.strip() if isinstance(value, str) else ""
    return text or None


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


async def attempt(action: Callable[[], Awaitable[object]]) -> Refused:
    """Runs a console action (parse the form with the API's model, call the API's handler) and
    says how the API refused it. A 403 or 404 is raised on: the console's refusal page (not this
    person's, or not there), as for a page they may not open."""
    try:
        await action()
    except (ValidationError, RequestValidationError) as exc:
        return Refused(errors=field_errors(exc), status_code=422)
    except HTTPException as exc:
        if exc.status_code in (403, 404):
            raise
        return Refused(message=str(exc.detail), status_code=exc.status_code)
    return Refused()


def typed_euros(value: str) -> str:
    """An amount as a person types it in Italian ("1.250,40", "99,6") in the API's format
    ("1250.40"); without a comma it is passed as typed ("1250.40"), and the API's own check
    judges the result either way (a wrong amount keeps its message)."""
    cleaned = value.strip()
    if "," not in cleaned:
        return cleaned
    return cleaned.replace(".", "").replace(",", ".")
