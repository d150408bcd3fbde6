"""The debtor analysis and contact check, and the rule every sender uses to pick an address.

Findings go into the workflow's history and the timeline, so they are fixed English phrases that
name channels and ranges, never a value: no address, number, name or tax code.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import phonenumbers
from temporalio import activity

from activities.context import ActivityContext, PracticeFile, load_practice_file, today_in_rome
from domain.activity_io import ActivityName, CheckContactsInput, CheckContactsResult
from domain.identifiers import (
    PROVINCES,
    business_tax_number,
    normalize_email,
    normalize_foreign_tax_number,
    normalize_foreign_vat_number,
    normalize_phone,
    normalize_tax_code,
    normalize_vat_number,
    personal_tax_number,
    vat_module,
)
from domain.practice import Channels, DebtorKind

log = logging.getLogger(__name__)

_NORMALIZERS = {"email": normalize_email, "pec": normalize_email, "phone": normalize_phone}
_NAMES = {"email": "e-mail address", "pec": "PEC address", "phone": "phone number"}


MISSING = "missing"


def usable_contact(file: PracticeFile, channel: str) -> tuple[str | None, str]:
    """The normalised e-mail / PEC / phone to send to, or None and why not: MISSING,
    "marked invalid" or "not valid" (never the value itself)."""
    value = getattr(file.practice, channel) or ""
    if not value.strip():
        return None, MISSING
    if file.marked_invalid(channel):
        return None, "marked invalid"
    try:
        return _NORMALIZERS[channel](value), ""
    except ValueError:
        return None, "not valid"


def skip_reason(channel: str, reason: str) -> str:
    """How a result's `skipped` list says it: "no address", "marked invalid"..."""
    if reason == MISSING:
        return "no number" if channel == "phone" else "no address"
    return reason


def _is_mobile(e164: str) -> bool:
    kind = phonenumbers.number_type(phonenumbers.parse(e164))
    return kind in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def _address_findings(file: PracticeFile) -> tuple[bool, list[str]]:
    p = file.practice
    if file.marked_invalid("address"):
        return False, ["postal address marked invalid (letter returned or moved)"]
    missing = [
        label
        for label, ok in (
            ("street", bool((p.street or "").strip())),
            ("city", bool((p.city or "").strip())),
            ("postal code", bool((p.postal_code or "").strip())),
        )
        if not ok
    ]
    if missing:
        return False, [f"address incomplete: missing {', '.join(missing)}"]
    findings = []
    if (p.country or "IT").upper() == "IT":
        postal = p.postal_code.strip()
        if not (len(postal) == 5 and postal.isdigit()):
            findings.append("postal code not in the Italian 5-digit format")
        if (p.province or "").upper() not in PROVINCES:
            findings.append("province code not recognised")
    else:
        findings.append("address abroad")
    findings.insert(0, "address complete" if not findings else "address complete, with doubts")
    return True, findings


def _foreign_identity_findings(file: PracticeFile, country: str) -> list[str]:
    """A debtor abroad's numbers, by its country's rules (the hand-over's, domain.identifiers):
    the same fixed phrases as an Italian debtor's, naming no number and no country."""
    p = file.practice
    findings = []
    if p.debtor_kind == "business" and vat_module(country) is not None:
        if not p.debtor_vat_number:
            findings.append("business debtor: no VAT number")
        else:
            try:
                normalize_foreign_vat_number(p.debtor_vat_number, country)
                findings.append("VAT number valid")
            except ValueError:
                findings.append("VAT number not valid")
    number = (
        business_tax_number(country)
        if p.debtor_kind == "business"
        else personal_tax_number(country)
    )
    if p.debtor_tax_code:
        try:
            normalize_foreign_tax_number(p.debtor_tax_code, number)
            findings.append("tax code valid")
        except ValueError:
            findings.append("tax code not valid")
    elif number is not None and number.required:
        findings.append("no tax code")
    return findings


def _identity_findings(file: PracticeFile) -> list[str]:
    p = file.practice
    country = (p.country or "IT").upper()
    if country != "IT":
        return _foreign_identity_findings(file, country)
    findings = []
    if p.debtor_kind == DebtorKind.BUSINESS:
        if not p.debtor_vat_number:
            findings.append("business debtor: no VAT number")
        else:
            try:
                normalize_vat_number(p.debtor_vat_number)
                findings.append("VAT number valid")
            except ValueError:
                findings.append("VAT number not valid")
    if p.debtor_tax_code:
        try:
            normalize_tax_code(p.debtor_tax_code)
            findings.append("tax code valid")
        except ValueError:
            # a company's codice fiscale is its 11-digit number, not a person's 16 characters
            if p.debtor_kind == DebtorKind.BUSINESS and p.debtor_tax_code.strip().isdigit():
                findings.append("tax code is a company number")
            else:
                findings.append("tax code not valid")
    elif p.debtor_kind != DebtorKind.BUSINESS:
        findings.append("no tax code")
    return findings


def _ability_to_pay(file: PracticeFile) -> list[str]:
    """A rough first read for the operators, from what the file itself says."""
    p = file.practice
    balance = p.balance_cents
    if balance < 100_000:
        band = "claim under EUR 1,000"
    elif balance < 500_000:
        band = "claim EUR 1,000 to 5,000"
    elif balance < 2_500_000:
        band = "claim EUR 5,000 to 25,000"
    else:
        band = "claim over EUR 25,000"
    notes = [band]
    if p.paid_cents > 0:
        notes.append("part of the claim already paid: some ability to pay")
    due_dates = [i.due_date for i in p.invoices]
    if due_dates:
        overdue = today_in_rome() - min(due_dates)
        if overdue > timedelta(days=365):
            notes.append("oldest invoice overdue by more than a year")
        elif overdue > timedelta(days=90):
            notes.append("oldest invoice overdue by more than 90 days")
        if len(due_dates) > 1:
            notes.append(f"{len(due_dates)} invoices")
    return notes


class ContactActivities(ActivityContext):
    @activity.defn(name=ActivityName.CHECK_CONTACTS)
    async def check_contacts(self, input: CheckContactsInput) -> CheckContactsResult:
        async with self.db.session() as session:
            file = await load_practice_file(session, input.practice_id, with_invoices=True)

        channels = Channels(email=False, phone=False, pec=False, address=False)
        findings: list[str] = []
        business = file.practice.debtor_kind == DebtorKind.BUSINESS
        for channel in ("email", "phone", "pec"):
            value, reason = usable_contact(file, channel)
            name = _NAMES[channel]
            if value is not None:
                setattr(channels, channel, True)
                if channel == "phone":
                    kind = "mobile" if _is_mobile(value) else "landline"
                    findings.append(f"phone number valid ({kind})")
                elif channel == "pec":
                    findings.append(
                        "business debtor: PEC available" if business else "PEC available"
                    )
                else:
                    findings.append(f"{name} valid")
            elif reason != MISSING:
                findings.append(f"{name} {reason}")
            elif channel != "pec":
                findings.append(f"no {name}")
            elif business:
                # every Italian company must have a PEC: worth finding before the formal demand
                findings.append("business debtor: no PEC on file")

        channels.address, address_findings = _address_findings(file)
        findings += address_findings
        findings += _identity_findings(file)
        findings += _ability_to_pay(file)
        if not (channels.email or channels.phone or channels.pec or channels.address):
            findings.append("no usable contact: skip tracing needed")
        log.info("contact check for practice %s: %d findings", input.practice_id, len(findings))
        return CheckContactsResult(channels=channels, findings=findings)
