"""Schemathesis against the API's own OpenAPI schema, in process (ASGI) with the admin key, on
a real Temporal dev server and worker: no 500, and no response that breaks its schema."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from config import load_settings
from tests.api.helpers import practice_payload, vat_number
from tests.system.harness import Stack
from tests.system.product import strategy

pytestmark = [pytest.mark.system, pytest.mark.timeout(300)]


# the app and its schema exist at collection time (schemathesis parametrizes from them); the
# processes it talks to start in the module's fixture, on the ports chosen here
STACK = Stack(data_dir=Path(tempfile.mkdtemp(prefix="recupero-schemathesis-")))
APP = create_app(
    dataclasses.replace(
        load_settings(),
        data_dir=STACK.data_dir,
        database_url=STACK.database_url,
        temporal_address=f"127.0.0.1:{STACK.temporal_port}",
        task_queue=STACK.task_queue,
        admin_key=STACK.admin_key,
        sendgrid_api_key="",
        twilio_account_sid="",
        twilio_auth_token="",
        pec_host="",
    )
)
schema = schemathesis.openapi.from_dict(APP.openapi())
schema.app = APP


@pytest.fixture(scope="module")
def schema_stack() -> Iterator[Stack]:
    try:
        STACK.migrate()
        STACK.start_temporal()
        STACK.start_worker()
        _seed()
        yield STACK
    finally:
        STACK.close()
        shutil.rmtree(STACK.data_dir, ignore_errors=True)


SEEDED: dict[str, str] = {}


def _seed() -> None:
    """A creditor and a practice on its way, so half the generated cases name real ones."""
    with asgi.get_client(APP) as client:
        admin = STACK.admin
        creditor = client.post(
            "/creditors",
            headers=admin,
            json={
                "name": "Forniture Lombarde S.r.l.",
                "vat_number": vat_number(),
                "iban": "IT60X0542811101000000123456",
                "email": "amministrazione@example.it",
            },
        )
        assert creditor.status_code == 201, creditor.text
        SEEDED["creditor_id"] = creditor.json()["id"]
        saved = client.put(
            f"/creditors/{SEEDED['creditor_id']}/strategy", headers=admin, json=strategy()
        )
        assert saved.status_code == 200, saved.text
        practice = client.post(
            "/practices",
            headers=admin,
            json=practice_payload(SEEDED["creditor_id"], due_in_days=-30),
        )
        assert practice.status_code == 201, practice.text
        SEEDED["practice_id"] = practice.json()["id"]


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_schema(case: schemathesis.Case, schema_stack: Stack) -> None:
    for name, value in SEEDED.items():
        generated = (case.path_parameters or {}).get(name)
        if generated is not None and len(str(generated)) % 2 == 0:
            case.path_parameters[name] = value  # type: ignore[index]
    case.call_and_validate(
        headers=schema_stack.admin,
        checks=[not_a_server_error, response_schema_conformance],
    )
