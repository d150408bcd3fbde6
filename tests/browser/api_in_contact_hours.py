"""`recupero api` with its clock inside the contact hours: `python -m
tests.browser.api_in_contact_hours api`.

What an operator may do depends on the hour (domain.contact_rules: no call at night or on a
Sunday), and the browser tests run whenever CI does. The API's tests put the API's clock at
`tests.api.helpers.in_contact_hours` through `app.dependency_overrides[get_now]`; this does
the same for the API process of a browser test, and nothing else: the product's own
`cli.main` runs, with the same app, settings and printed admin link. The worker keeps the real
clock (its timers are Temporal's)."""

from __future__ import annotations

from typing import Any

import api.app
import cli
from api.deps import get_now
from tests.api.helpers import in_contact_hours

_create_app = api.app.create_app


def _create_app_in_contact_hours(*args: Any, **kwargs: Any) -> Any:
    app = _create_app(*args, **kwargs)
    app.dependency_overrides[get_now] = in_contact_hours
    return app


# cli imports create_app from api.app when it starts the server, so it finds this one
api.app.create_app = _create_app_in_contact_hours  # type: ignore[assignment]

if __name__ == "__main__":
    cli.main()
