"""HTTP errors, and the one place where Temporal's answers become HTTP status codes.

422 bodies always have FastAPI's shape, `{"detail": [{"loc": [...], "msg": ..., "type": ...}]}`,
whether pydantic or a later check found the problem, so clients parse one format.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import fields, is_dataclass, replace
from datetime import timedelta
from typing import Any

from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import calling_actor
from api.idempotency import update_id
from domain.actor import Actor
from domain.practice import CommandResult, RejectionType

log = logging.getLogger(__name__)

# How long a command waits for the practice's workflow to accept and apply it. Handlers only
# validate, record and flush the read model, so a healthy worker answers in well under a second;
# waiting longer would only hold an HTTP request open while no worker is running.
UPDATE_TIMEOUT = timedelta(seconds=30)


def invalid(loc: Sequence[str | int], msg: str, *, kind: str = "value_error") -> Exception:
    """A 422 naming the field, e.g. invalid(["body", "invoices", 1, "number"], "...")."""
    return RequestValidationError([{"loc": tuple(loc), "msg": msg, "type": kind}])


def not_found(what: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=f"{what} not found")


def forbidden(msg: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=msg)


def conflict(msg: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_409_CONFLICT, detail=msg)


def unavailable(msg: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_503_SERVICE_UNAVAILABLE, detail=msg)


CLOSED_MESSAGE = "the practice is closed"


def _is_closed_rpc(exc: RPCError) -> bool:
    # An update to a finished workflow run fails at the RPC layer, not in a validator.
    return exc.status == RPCStatusCode.NOT_FOUND or (
        "workflow execution already completed" in exc.message.lower()
    )


def _rejection(exc: WorkflowUpdateFailedError, invalid_loc: Sequence[str | int]) -> Exception:
    cause: BaseException | None = exc.cause
    # the validator's ApplicationError may arrive wrapped once more by the SDK
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    if cause is None:
        log.error("update failed without an application error: %s", exc.cause)
        return HTTPException(
            status_code=status.HTTP_502_BAD_GATEWAY,
            detail="the practice's workflow failed to handle the command",
        )
    if cause.type in (RejectionType.CLOSED, RejectionType.CONFLICT):
        return conflict(cause.message)
    if cause.type == RejectionType.INVALID:
        # A workflow may name the offending field as the first detail; otherwise the endpoint's
        # best guess (the amount of a payment, the dates of a promise) is used.
        loc: list[str | int] = list(invalid_loc)
        if cause.details and isinstance(cause.details[0], str):
            loc = ["body", cause.details[0]]
        return invalid(loc, cause.message, kind="invalid_command")
    # an unknown rejection type is still a refusal by the practice's current state
    return conflict(cause.message)


def with_actor(command: Any, actor: Actor | None) -> Any:
    """The command with its actor set, when it has an actor field and none is set yet."""
    if (
        actor is None
        or not is_dataclass(command)
        or isinstance(command, type)
        or "actor" not in {f.name for f in fields(command)}
        or getattr(command, "actor", None) is not None
    ):
        return command
    return replace(command, actor=actor)


async def send_update(
    client: Client,
    workflow_id: str,
    update: str,
    command: Any,
    *,
    invalid_loc: Sequence[str | int] = ("body",),
) -> CommandResult:
    """Sends a command to a practice's workflow and maps its refusals to HTTP errors.

    The command names who sent it (its `actor` field): the request's authenticated caller (user
    id and role, `api.auth.calling_actor`), unless the command already names one.

    With the request's Idempotency-Key (api/idempotency.py) the update's id is derived from it:
    a repeat is answered with the first outcome and applied once.

    CLOSED/CONFLICT -> 409, INVALID -> 422, a finished workflow -> 409, Temporal unreachable
    -> 503, no answer within UPDATE_TIMEOUT -> 504.
    """
    command = with_actor(command, calling_actor())
    handle = client.get_workflow_handle(workflow_id)
    try:
        async with asyncio.timeout(UPDATE_TIMEOUT.total_seconds()):
            result: CommandResult = await handle.execute_update(
                update, command, id=update_id(update), result_type=CommandResult
            )
            return result
    except WorkflowUpdateFailedError as exc:
        raise _rejection(exc, invalid_loc) from exc
    except RPCError as exc:
        if _is_closed_rpc(exc):
            raise conflict(CLOSED_MESSAGE) from exc
        log.warning("update %s to %s failed: %s", update, workflow_id, exc.status.name)
        raise unavailable("the workflow service is not answering; retry later") from exc
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        log.warning("update %s to %s timed out", update, workflow_id)
        raise HTTPException(
            status_code=status.HTTP_504_GATEWAY_TIMEOUT,
            detail="the practice did not answer in time; the command may still be applied, "
            "check the practice before retrying",
        ) from exc
