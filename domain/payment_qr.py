"""The payload of the payment QR code printed on letters: an EPC QR code ("GiroCode").

European Payments Council, "Quick Response Code: guidelines to enable data capture for the
initiation of a SEPA credit transfer" (EPC069-12), version 002: a banking app that scans it
fills in a SEPA credit transfer (SCT) with the beneficiary, the IBAN, the amount and the
remittance text. Lines are separated by LF and trailing empty elements are left out:

    BCD                     service tag
    002                     version (BIC optional inside the EEA)
    1                       character set: UTF-8
    SCT                     SEPA credit transfer
    <BIC>                   optional, may be empty
    <beneficiary name>      at most 70 characters
    <IBAN>                  at most 34 characters
    EUR<amount>             EUR0.01 .. EUR999999999.99, point as decimal separator
    <purpose code>          (not used: empty)
    <structured reference>  (not used: empty; the remittance below is unstructured)
    <remittance text>       at most 140 characters: the practice reference
    [beneficiary to originator information: not used]

The whole payload may not exceed 331 bytes. Pure code: the letter renders the QR code from it.
"""

from __future__ import annotations

import re

from domain.identifiers import normalize_iban

SERVICE_TAG = "BCD"
VERSION = "002"
CHARACTER_SET_UTF8 = "1"
IDENTIFICATION = "SCT"

MAX_NAME = 70
MAX_REMITTANCE = 140
MAX_PAYLOAD_BYTES = 331
MIN_AMOUNT_CENTS = 1
MAX_AMOUNT_CENTS = 99_999_999_999  # EUR 999,999,999.99

_BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$")


class PaymentQrError(ValueError):
    """The transfer cannot be put in an EPC QR code: the letter is printed without one."""


def _one_line(text: str) -> str:
    # a line feed inside a field would shift every later field; tabs and other controls too
    return " ".join(text.split())


def epc_amount(amount_cents: int) -> str:
    """125040 -> 'EUR1250.40'. Refuses what the standard does not allow (under 0.01 or over
    999,999,999.99)."""
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise PaymentQrError("the amount must be a whole number of cents")
    if amount_cents < MIN_AMOUNT_CENTS:
        raise PaymentQrError("the amount must be at least EUR 0.01")
    if amount_cents > MAX_AMOUNT_CENTS:
        raise PaymentQrError("the amount must not exceed EUR 999,999,999.99")
    whole, cents = divmod(amount_cents, 100)
    return f"EUR{whole}.{cents:02d}"


def epc_payload(
    *,
    beneficiary: str,
    iban: str,
    amount_cents: int,
    remittance: str,
    bic: str | None = None,
) -> str:
    """The text to encode in the QR code (UTF-8, error correction level M).

    The beneficiary's name is cut to 70 characters (it is only shown to the payer); the
    remittance text, which is how the payment is matched to the practice, is never cut: over
    140 characters it is refused, like an invalid IBAN or BIC, an amount out of range or a
    payload over 331 bytes.
    """
    name = _one_line(beneficiary)[:MAX_NAME].rstrip()
    if not name:
        raise PaymentQrError("the beneficiary's name is empty")
    try:
        account = normalize_iban(iban)
    except ValueError:
        raise PaymentQrError("not a valid IBAN") from None
    code = "".join((bic or "").split()).upper()
    if code and not _BIC.match(code):
        raise PaymentQrError("not a valid BIC")
    text = _one_line(remittance)
    if not text:
        raise PaymentQrError("the remittance text is empty")
    if len(text) > MAX_REMITTANCE:
        raise PaymentQrError(f"the remittance text exceeds {MAX_REMITTANCE} characters")
    lines = [
        SERVICE_TAG,
        VERSION,
        CHARACTER_SET_UTF8,
        IDENTIFICATION,
        code,
        name,
        account,
        epc_amount(amount_cents),
        "",  # purpose
        "",  # structured creditor reference
        text,
    ]
    payload = "\n".join(lines)
    if len(payload.encode("utf-8")) > MAX_PAYLOAD_BYTES:
        raise PaymentQrError(f"the payload exceeds {MAX_PAYLOAD_BYTES} bytes")
    return payload
