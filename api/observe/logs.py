"""The processes' logging: JSON lines (python-json-logger) or plain text for development
(RECUPERO_LOG_FORMAT=json|text), with the practice id and the workflow id where known, and the
filters that keep personal data out.

Where the ids come from: in an activity, Temporal's activity info (its workflow id, the practice's
for the practice workflow and its children); in a workflow, the workflow info; in an API request,
the route's `practice_id` path parameter (the router writes it on the request's scope, which the
request middleware keeps in a context variable). A record that names them itself (`extra=`) wins.

What would leak and is stopped here: uvicorn's access line (the query string, the debtor page's
token in /d/<token>, the client's address), Twilio's request dump (numbers and headers, at INFO),
the SQL echo and its parameters. Our own messages carry ids, amounts, dates only.
"""

from __future__ import annotations

import logging
import os
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio import activity, workflow

from api.observe.tracing import safe_path

PRACTICE_PREFIX = "practice-"  # domain.practice.workflow_id_for; children add a suffix
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

_request_scope: ContextVar[Scope | None] = ContextVar("recupero_request_scope", default=None)


def practice_of_workflow(workflow_id: str) -> str | None:
    """practice-<id>, judicial-<id>..., plan-<id>-<proposal>: the practice id it belongs to."""
    head, sep, rest = workflow_id.partition("-")
    if not sep or not rest:
        return None
    if head == "plan":  # plan-<practice>-<proposal>
        return rest.rsplit("-", 1)[0] or None
    return rest


class ContextIds(logging.Filter):
    """Adds practice_id and workflow_id to a record when the context knows them."""

    def filter(self, record: logging.LogRecord) -> bool:
        workflow_id = getattr(record, "workflow_id", None)
        practice_id = getattr(record, "practice_id", None)
        if workflow_id is None:
            if activity.in_activity():
                workflow_id = activity.info().workflow_id
            elif workflow.in_workflow():
                workflow_id = workflow.info().workflow_id
        if practice_id is None:
            if workflow_id:
                practice_id = practice_of_workflow(workflow_id)
            else:
                scope = _request_scope.get()
                params = scope.get("path_params") if scope is not None else None
                if isinstance(params, dict) and isinstance(params.get("practice_id"), str):
                    practice_id = params["practice_id"]
                    workflow_id = PRACTICE_PREFIX + practice_id
        if workflow_id is not None:
            record.workflow_id = workflow_id
        if practice_id is not None:
            record.practice_id = practice_id
        return True


class RequestContext:
    """Keeps the request's scope in a context variable for ContextIds (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _request_scope.set(scope if scope["type"] == "http" else None)
        try:
            await self.app(scope, receive, send)
        finally:
            _request_scope.reset(token)


class AccessLine(logging.Filter):
    """uvicorn's access line without the query string, the debtor page's token and the client's
    address: `- "GET /d/{token} HTTP/1.1" 200`."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, path, version, status = args
            record.args = ("-", method, safe_path(str(path)), version, status)
        return True


# loggers whose INFO/DEBUG output would carry personal data or secrets (and one that is noise)
QUIET = {
    "twilio.http_client": logging.WARNING,  # dumps every request's numbers and headers
    "sqlalchemy.engine": logging.WARNING,  # the SQL echo, with its parameters
    "sqlalchemy.pool": logging.WARNING,
    # the drivers' own DEBUG lines: aiosqlite logs every statement with its parameters (the
    # debtor's row on a hand-over, seen by tests/api/test_log_privacy.py)
    "aiosqlite": logging.WARNING,
    "psycopg": logging.WARNING,
    "asyncpg": logging.WARNING,
    "httpx": logging.WARNING,  # one line per provider call, URL included
    "httpcore": logging.WARNING,
    "aiosmtpd": logging.WARNING,
    # not personal, only noise: Alembic 1.17 names each of its plugins at every migrate
    "alembic.runtime.plugins": logging.WARNING,
}


def log_format(default: str) -> str:
    chosen = os.environ.get("RECUPERO_LOG_FORMAT", "").strip().lower() or default
    if chosen not in ("json", "text"):
        raise SystemExit(f"RECUPERO_LOG_FORMAT must be json or text, not {chosen!r}")
    return chosen


def make_formatter(kind: str) -> logging.Formatter:
    if kind == "text":
        return logging.Formatter(TEXT_FORMAT + " %(ids)s", defaults={"ids": ""})
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        timestamp=False,
        # uvicorn's copy of its message with terminal colours: noise in a JSON line
        reserved_attrs=[*RESERVED_ATTRS, "color_message"],
    )


class _TextIds(logging.Filter):
    """In text, the ids at the end of the line: `practice=... workflow=...`."""

    def filter(self, record: logging.LogRecord) -> bool:
        parts = [
            f"{label}={getattr(record, attr)}"
            for label, attr in (("practice", "practice_id"), ("workflow", "workflow_id"))
            if getattr(record, attr, None)
        ]
        record.ids = " ".join(parts)
        return True


def configure_logging(default_format: str = "json", level: int = logging.INFO) -> str:
    """The root handler on stderr in the chosen format; uvicorn's loggers go through it too."""
    kind = log_format(default_format)
    handler = logging.StreamHandler()
    handler.setFormatter(make_formatter(kind))
    handler.addFilter(ContextIds())
    if kind == "text":
        handler.addFilter(_TextIds())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    quiet_loggers()
    install_access_filter()
    return kind


def quiet_loggers() -> None:
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)


def install_access_filter() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, AccessLine) for f in access.filters):
        access.addFilter(AccessLine())


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's loggers without handlers of their own: they propagate to the root handler above
    (one format for every line)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "loggers": {
            "uvicorn": {"level": "INFO", "handlers": [], "propagate": True},
            "uvicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
        },
    }
