"""domain.payment_qr: the EPC QR code's payload (EPC069-12, version 002), line by line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.payment_qr import (
    MAX_AMOUNT_CENTS,
    MAX_NAME,
    MAX_PAYLOAD_BYTES,
    MAX_REMITTANCE,
    PaymentQrError,
    epc_amount,
    epc_payload,
)

IBAN = "IT60X0542811101000000123456"


def payload(**overrides: object) -> str:
    values: dict[str, object] = {
        "beneficiary": "Forniture Lombarde S.r.l.",
        "iban": IBAN,
        "amount_cents": 125_040,
        "remittance": "PR-2026-00042",
    }
    values.update(overrides)
    return epc_payload(**values)  # type: ignore[arg-type]


def test_the_payload_line_by_line() -> None:
    assert payload().split("\n") == [
        "BCD",
        "002",
        "1",
        "SCT",
        "",
        "Forniture Lombarde S.r.l.",
        "IT60X0542811101000000123456",
        "EUR1250.40",
        "",
        "",
        "PR-2026-00042",
    ]
    # LF only, and nothing after the last element
    assert "\r" not in payload() and not payload().endswith("\n")


def test_bic_iban_and_texts_are_normalised() -> None:
    lines = payload(
        bic="blop it22",
        iban="it60 x054 2811 1010 0000 0123 456",
        beneficiary="  Forniture\nLombarde\tS.r.l. ",
        remittance=" PR-2026-00042\r\n",
    ).split("\n")
    assert lines[4] == "BLOPIT22"
    assert lines[5] == "Forniture Lombarde S.r.l."
    assert lines[6] == IBAN
    assert lines[10] == "PR-2026-00042"
    assert len(lines) == 11  # a line feed in a field never adds a line


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (1, "EUR0.01"),
        (10, "EUR0.10"),
        (100, "EUR1.00"),
        (125_040, "EUR1250.40"),
        (100_000_000, "EUR1000000.00"),
        (MAX_AMOUNT_CENTS, "EUR999999999.99"),
    ],
)
def test_amounts(cents: int, text: str) -> None:
    assert epc_amount(cents) == text


@pytest.mark.parametrize("cents", [0, -1, MAX_AMOUNT_CENTS + 1, 10**15])
def test_amounts_out_of_range_are_refused(cents: int) -> None:
    with pytest.raises(PaymentQrError):
        epc_amount(cents)
    with pytest.raises(PaymentQrError):
        payload(amount_cents=cents)


def test_over_999_999_999_99_is_refused_and_just_below_is_not() -> None:
    assert payload(amount_cents=99_999_999_999).split("\n")[7] == "EUR999999999.99"
    with pytest.raises(PaymentQrError, match="999,999,999.99"):
        payload(amount_cents=100_000_000_000)


@pytest.mark.parametrize("value", [True, 12.5, "1250.40"])
def test_amounts_are_whole_cents(value: object) -> None:
    with pytest.raises(PaymentQrError):
        epc_amount(value)  # type: ignore[arg-type]


def test_the_name_is_cut_to_70_characters() -> None:
    exact = "A" * MAX_NAME
    assert payload(beneficiary=exact).split("\n")[5] == exact
    assert payload(beneficiary=exact + "BCD").split("\n")[5] == exact
    # cutting never leaves a trailing space
    assert payload(beneficiary="A" * (MAX_NAME - 1) + " B").split("\n")[5] == "A" * (MAX_NAME - 1)


def test_the_remittance_is_never_cut() -> None:
    exact = "R" * MAX_REMITTANCE
    assert payload(remittance=exact).split("\n")[10] == exact
    with pytest.raises(PaymentQrError, match="140"):
        payload(remittance=exact + "R")


def test_the_payload_never_exceeds_331_bytes() -> None:
    longest_ascii = payload(
        beneficiary="N" * MAX_NAME, remittance="R" * MAX_REMITTANCE, bic="BLOPIT22XXX"
    )
    assert len(longest_ascii.encode()) <= MAX_PAYLOAD_BYTES
    # seventy four-byte characters: within the character count, over the byte budget
    with pytest.raises(PaymentQrError, match="331 bytes"):
        payload(beneficiary="😀" * MAX_NAME, remittance="R" * MAX_REMITTANCE)


@pytest.mark.parametrize(
    "changes",
    [
        {"iban": "IT60X0542811101000000123457"},
        {"iban": "IT64Y0542811101000000123456"},  # right check digits, wrong Italian CIN
        {"iban": ""},
        {"bic": "BLOP"},
        {"bic": "BLOPIT2"},
        {"beneficiary": " \n "},
        {"remittance": ""},
    ],
)
def test_what_cannot_be_paid_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(PaymentQrError):
        payload(**changes)


def test_refusals_never_repeat_the_iban() -> None:
    with pytest.raises(PaymentQrError) as refused:
        payload(iban="IT60X0542811101000000123457")
    assert "IT60" not in str(refused.value)


@given(st.integers(min_value=1, max_value=MAX_AMOUNT_CENTS))
def test_any_amount_in_range_reads_back_to_its_cents(cents: int) -> None:
    text = epc_amount(cents)
    assert text.startswith("EUR") and len(text) <= 15
    whole, _, fraction = text[3:].partition(".")
    assert len(fraction) == 2 and whole == str(int(whole))  # no leading zeros but "0"
    assert int(whole) * 100 + int(fraction) == cents
