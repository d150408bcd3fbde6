"""`recupero import FILE.csv`: every bad line reported before anything is sent; a good file handed
over through POST /practices/batch (the test app over ASGI), and a re-run starts nothing."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

import cli
from api.csv_import import COLUMNS, import_practices, read_practices, run_import
from db.models import Practice
from tests.api import conftest as harness
from tests.api.helpers import Api, new_creditor, rome_today, unique, unique_tax_code

# the API harness of tests/api (a Temporal dev server, the worker, the app over ASGI)
temporal_env = harness.temporal_env
api_settings = harness.api_settings
api_db = harness.api_db
recorder = harness.recorder
app_client = harness.app_client
api = harness.api


def _line(creditor_id: str, reference: str, tax_code: str, number: str, **changes: str) -> str:
    due = rome_today() + timedelta(days=60)
    values = {
        "creditor_id": creditor_id,
        "reference": reference,
        "debtor_kind": "consumer",
        "debtor_name": "Mario Rossi",
        "tax_code": tax_code,
        "vat_number": "",
        "email": "mario.rossi@example.it",
        "phone": "+393331234567",
        "pec": "",
        "street": "Via Roma 1",
        "city": "Milano",
        "postal_code": "20121",
        "province": "MI",
        "country": "IT",
        "invoice_number": number,
        "issue_date": rome_today().isoformat(),
        "due_date": due.isoformat(),
        "amount": "1250.40",
    }
    values.update(changes)
    return ",".join(f'"{values[c]}"' for c in COLUMNS)


def _csv(lines: list[str]) -> str:
    return ",".join(COLUMNS) + "\n" + "\n".join(lines) + "\n"


def _good_lines(creditor_id: str, practices: int) -> list[str]:
    """Practices of two invoices each: line 2k and 2k+1 belong together."""
    lines = []
    for _ in range(practices):
        reference, tax_code = unique("CSV"), unique_tax_code()
        lines.append(_line(creditor_id, reference, tax_code, "FT-1"))
        lines.append(_line(creditor_id, reference, tax_code, "FT-2", amount="99.90"))
    return lines


def test_bad_lines_are_printed_with_their_number_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    creditor = "c" * 32
    lines = _good_lines(creditor, 3)  # file lines 2..7
    lines[1] = _line(
        creditor, "X", "RSSMRA85T10A562S", "FT-2", amount="12,505"
    )  # line 3: three decimals
    lines[3] = lines[3].replace('"FT-2"', '"FT-1"')  # line 5: the same number as line 4
    lines[4] = lines[4].replace('"Milano"', '"Roma"')  # line 6: a practice's city differs
    lines.append(_line(creditor, "BAD", "NOT-A-CODE", "FT-9", due_date="2020-01-01"))  # line 8
    path = tmp_path / "bad.csv"
    path.write_text(_csv(lines))

    with pytest.raises(SystemExit) as exit_:
        cli.main(["import", str(path), "--key", "unused", "--api", "http://127.0.0.1:9"])

    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "line 3: amount:" in err
    assert "line 5: invoice_number:" in err
    assert "line 6: city: differs from line 6" not in err
    assert "line 7: city: differs from line 6 of the same practice" in err
    assert "line 8: tax_code:" in err
    assert "line 8: due_date:" in err
    assert "nothing was sent" in err


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("missing.csv", None, "No such file or directory"),
        ("latin1.csv", "creditor_id,reference\nx,Citt\xe0\n".encode("latin-1"), "utf-8"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_clear_error(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes | None,
    reason: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(SystemExit) as exit_:
        cli.main(["import", str(path), "--key", "unused", "--api", "http://127.0.0.1:9"])

    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert f"cannot read {path}:" in err
    assert reason in err
    assert "nothing was sent" in err
    assert "Traceback" not in err


def test_a_file_with_missing_columns_is_refused() -> None:
    parsed = read_practices(io.StringIO("creditor_id,reference\nx,y\n"))
    assert [(e.line, e.msg) for e in parsed.errors] == [(1, "missing column(s)")]


def test_a_file_as_a_spreadsheet_in_italian_saves_it_is_read() -> None:
    """Semicolons between the columns and decimal commas in the amounts, as Excel and LibreOffice
    in Italian save a CSV."""
    italian = [
        _line("c1", "R1", "RSSMRA85T10A562S", "FT-1", amount="1.250,40"),
        _line("c1", "R1", "RSSMRA85T10A562S", "FT-2", amount="99,5"),
    ]
    text = ";".join(COLUMNS) + "\n" + "\n".join(line.replace('","', '";"') for line in italian)
    parsed = read_practices(io.StringIO(text + "\n"))
    assert parsed.errors == []
    assert [i["amount"] for i in parsed.bodies[0]["invoices"]] == ["1250.40", "99.5"]


async def _count(api: Api, creditor_id: str) -> int:
    async with api.db.session() as session:
        count = await session.scalar(
            select(func.count(Practice.id)).where(Practice.creditor_id == creditor_id)
        )
    return int(count or 0)


async def test_a_good_file_is_handed_over_and_a_rerun_starts_nothing(api: Api) -> None:
    tenant = await new_creditor(api)
    text = _csv(_good_lines(tenant.id, 12))
    client = httpx.AsyncClient(
        transport=api.http._transport, base_url=str(api.http.base_url), headers=tenant.headers
    )
    advanced: list[int] = []

    first = await import_practices(
        read_practices(io.StringIO(text)), client, chunk_size=5, progress=advanced.append
    )

    assert first.errors == []
    assert (first.practices, first.started, first.already_handed_over, first.failed) == (
        12,
        12,
        0,
        0,
    )
    assert sorted(advanced) == [2, 5, 5]
    assert await _count(api, tenant.id) == 12
    shown = await api.http.get(
        "/practices", headers=tenant.headers, params={"creditor_id": tenant.id}
    )
    assert all(p["claim"] == "1350.30" for p in shown.json()["items"]), shown.text

    starts = len(api.recorder.started)
    again = await import_practices(read_practices(io.StringIO(text)), client, chunk_size=5)
    assert (again.started, again.already_handed_over, again.failed) == (0, 12, 0)
    assert len(api.recorder.started) == starts
    assert await _count(api, tenant.id) == 12


async def test_what_only_the_server_knows_stops_the_import_before_anything_starts(
    api: Api,
) -> None:
    tenant = await new_creditor(api)
    lines = _good_lines(tenant.id, 3) + [
        _line("0" * 32, unique("CSV"), unique_tax_code(), "F"),
        _line("0" * 32, unique("CSV"), unique_tax_code(), "G"),
    ]
    client = httpx.AsyncClient(
        transport=api.http._transport, base_url=str(api.http.base_url), headers=api.admin
    )
    starts = len(api.recorder.started)

    report = await import_practices(read_practices(io.StringIO(_csv(lines))), client)

    # the unknown creditor is reported on each of its practices
    assert [(e.line, e.column) for e in report.errors] == [(8, "creditor_id"), (9, "creditor_id")]
    assert report.started == 0
    assert len(api.recorder.started) == starts
    assert await _count(api, tenant.id) == 0


async def test_the_command_prints_what_it_did_and_a_rerun_starts_none(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = await new_creditor(api)
    key = tenant.headers["Authorization"].removeprefix("Bearer ")
    path = tmp_path / "good.csv"
    path.write_text(_csv(_good_lines(tenant.id, 3)))

    async def run() -> int:
        return await run_import(
            path, str(api.http.base_url), key, chunk_size=2, transport=api.http._transport
        )

    assert await run() == 0
    out = capsys.readouterr()
    assert "3 practices: 3 started, 0 already handed over, 0 failed" in out.out
    assert "3/3 practices" in out.err  # the progress bar
    assert await run() == 0
    assert "3 practices: 0 started, 3 already handed over, 0 failed" in capsys.readouterr().out
    assert await _count(api, tenant.id) == 3


async def test_another_creditors_lines_are_line_errors_and_nothing_starts(api: Api) -> None:
    """A creditor's key may hand over only for its creditor: the server's 403 on the dry run
    becomes an error on each line of the other creditor, the rest is not started either."""
    tenant = await new_creditor(api)
    other = await new_creditor(api)
    lines = _good_lines(tenant.id, 2) + [_line(other.id, unique("CSV"), unique_tax_code(), "F")]
    client = httpx.AsyncClient(
        transport=api.http._transport, base_url=str(api.http.base_url), headers=tenant.headers
    )
    starts = len(api.recorder.started)

    report = await import_practices(read_practices(io.StringIO(_csv(lines))), client)

    assert [(e.line, e.column) for e in report.errors] == [(6, "creditor_id")]
    assert "only for its own creditor" in report.errors[0].msg
    assert report.started == 0 and len(api.recorder.started) == starts
    assert await _count(api, tenant.id) == 0
