"""The lawyer's commands and the snapshot of the court steps on the EU path (Reg. 1896/2006,
Reg. 861/2007: domain/eu_procedures.py has the rules, workflows/judicial_eu.py the steps). Apart
from domain/eu_procedures.py so that domain/judicial.py can name them without importing the
countries. Like domain/judicial.py: no personal data, defaults on every field added later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from domain.actor import Actor


class EuProcedure(StrEnum):
    PAYMENT_ORDER = "eu_payment_order"  # Reg. 1896/2006
    SMALL_CLAIMS = "eu_small_claims"  # Reg. 861/2007


class EuUpdate:
    APPLICATION = "judicial_eu_application"  # EuApplicationCmd
    ISSUED = "judicial_eu_issued"  # EuIssuedCmd (payment order only)
    SERVICE = "judicial_eu_service"  # EuServiceCmd
    RESPONSE = "judicial_eu_response"  # EuResponseCmd (opposition / answer form C)
    DECISION = "judicial_eu_decision"  # EuDecisionCmd


class EuDecision(StrEnum):
    ENFORCEABLE = "enforceable"  # EPO declared enforceable (art. 18, form G)
    WON = "won"  # judgment for the creditor (ESCP art. 7, or the ordinary proceedings)
    LOST = "lost"  # the claim dismissed


@dataclass
class EuApplicationCmd:
    """Form A lodged with the court of `court_country` (`court`: its name, free text)."""

    procedure: EuProcedure
    filed_on: date
    court_country: str
    court: str = ""
    actor: Actor | None = None


@dataclass
class EuIssuedCmd:
    issued_on: date
    actor: Actor | None = None


@dataclass
class EuServiceCmd:
    served_on: date
    actor: Actor | None = None


@dataclass
class EuResponseCmd:
    filed_on: date
    actor: Actor | None = None


@dataclass
class EuDecisionCmd:
    decision: EuDecision
    decided_on: date
    actor: Actor | None = None


@dataclass
class EuView:
    """The EU path's part of JudicialSnapshot: no personal data."""

    procedure: EuProcedure
    court_country: str
    court: str = ""
    filed_on: date | None = None
    issued_on: date | None = None
    served_on: date | None = None
    response_on: date | None = None
    decision: EuDecision | None = None
    decided_on: date | None = None
