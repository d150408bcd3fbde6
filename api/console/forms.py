"""Form posts to the API's request models, and their errors next to the fields: the message
shown is the one the API's 422 gives for that field (the same pydantic model, the same service
function)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
