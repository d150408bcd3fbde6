"""A creditor's strategy between its JSON column, the API's schema and the domain dataclass."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import TypeAdapter

from db.models import Creditor
from domain.segments import SegmentError
from domain.strategy import Strategy, StrategyError, validate_strategy

_ADAPTER: TypeAdapter[Strategy] = TypeAdapter(Strategy)
# Letter texts are written by creditors, so they are only ever compiled in a sandbox.
_SANDBOX = SandboxedEnvironment(autoescape=True)


def strategy_from_json(data: dict[str, Any] | None) -> Strategy:
    """The stored strategy, or the defaults when the creditor never saved one."""
    if not data:
        return validate_strategy(Strategy())
    return validate_strategy(_ADAPTER.validate_python(data))


def strategy_to_json(strategy: Strategy) -> dict[str, Any]:
    dumped: dict[str, Any] = _ADAPTER.dump_python(strategy, mode="json")
    return dumped


def creditor_strategy(creditor: Creditor) -> Strategy:
    """The strategy a practice handed over now copies, with the creditor's current version."""
    return replace(strategy_from_json(creditor.strategy), version=creditor.strategy_version or 0)


def check_strategy(strategy: Strategy) -> Strategy:
    """validate_strategy plus the letter texts compiling as sandboxed Jinja2 templates.

    Raises StrategyError naming the field (`letter_texts.<kind>` for a template error).
    """
    checked = validate_strategy(strategy)
    for kind, text in checked.letter_texts.items():
        try:
            _SANDBOX.parse(text)
        except TemplateSyntaxError as exc:
            raise StrategyError(
                f"letter_texts.{kind}", f"template error on line {exc.lineno}: {exc.message}"
            ) from exc
    return checked


def error_loc(error: StrategyError | SegmentError) -> list[str | int]:
    """'steps.0.wait_after' -> ['body', 'steps', 0, 'wait_after'] (FastAPI's loc shape)."""
    loc: list[str | int] = ["body"]
    parts = error.field_path.split(".")
    for i, part in enumerate(parts):
        # letter kinds are keys, never indices, whatever they look like
        if part.isdigit() and not (i > 0 and parts[i - 1] == "letter_texts"):
            loc.append(int(part))
        else:
            loc.append(part)
    return loc
