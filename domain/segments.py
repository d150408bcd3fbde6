"""Segment rules: which of a creditor's named strategies a practice runs, chosen once, at the
hand-over, from what is known about the claim and the debtor then (`HandoverFacts`).

A creditor's segments are an ordered list of rules and a default strategy, saved as a whole
(each save a new version, `segment_versions`): the first rule whose every condition holds
chooses; none holding, the default does. A condition left out (None, or an empty tuple) holds
for every practice. Pure: no I/O, so the choice can be tested and previewed on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.identifiers import PROVINCES

# The rule name a practice records when no rule matched and the default strategy was chosen.
DEFAULT_RULE = "default"
# The strategy every creditor has: PUT /creditors/{id}/strategy edits it.
DEFAULT_STRATEGY = "default"
# Names of rules and strategies appear in URLs, the read model and a Temporal search attribute:
# short slugs, so nothing personal can be written into them.
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
NAME_RULE = "lower-case letters, digits, '-' and '_', at most 40, starting with a letter or digit"
CONTACTS = ("email", "phone", "pec")
DEBTOR_KINDS = ("consumer", "business")

# The twenty regions and their provinces (ISTAT; Sardinia's after the 2016 reform, as in
# domain.identifiers.PROVINCES). A debtor abroad has no province, hence no region.
_REGIONS: dict[str, str] = {
    "piemonte": "TO VC NO CN AT AL BI VB",
    "valle_d_aosta": "AO",
    "lombardia": "VA CO SO MI BG BS PV CR MN LC LO MB",
    "trentino_alto_adige": "BZ TN",
    "veneto": "VR VI BL TV VE PD RO",
    "friuli_venezia_giulia": "UD GO TS PN",
    "liguria": "IM SV GE SP",
    "emilia_romagna": "PC PR RE MO BO FE RA FC RN",
    "toscana": "MS LU PT FI LI PI AR SI GR PO",
    "umbria": "PG TR",
    "marche": "PU AN MC AP FM",
    "lazio": "VT RI RM LT FR",
    "abruzzo": "AQ TE PE CH",
    "molise": "CB IS",
    "campania": "CE BN NA AV SA",
    "puglia": "FG BA TA BR LE BT",
    "basilicata": "PZ MT",
    "calabria": "CS CZ RC KR VV",
    "sicilia": "TP PA ME AG CL EN CT RG SR",
    "sardegna": "SS NU CA OR SU",
}
REGIONS: tuple[str, ...] = tuple(_REGIONS)
REGION_OF: dict[str, str] = {
    province: region for region, provinces in _REGIONS.items() for province in provinces.split()
}


def region_of(province: str | None) -> str | None:
    return REGION_OF.get(province) if province else None


@dataclass(frozen=True, slots=True)
class HandoverFacts:
    """What a hand-over knows: the claim in cents, its age in days past the oldest due date
    (negative while nothing is due yet), the debtor's kind and province (None abroad), whether
    the same debtor (codice fiscale or partita IVA) already has a practice here, and which
    contact channels the hand-over gave."""

    amount_cents: int
    age_days: int
    debtor_kind: str
    province: str | None
    has_other_practices: bool
    contacts: frozenset[str]

    @property
    def region(self) -> str | None:
        return region_of(self.province)


@dataclass(frozen=True, slots=True)
class SegmentRule:
    """One rule. Ranges are half-open, [min, max): adjacent rules (0-1000, 1000-5000 euros)
    never both hold. `contacts` lists channels that must all be present; `other_practices`
    True or False asks for one answer, None for either."""

    name: str
    strategy: str
    min_amount_cents: int | None = None
    max_amount_cents: int | None = None
    min_age_days: int | None = None
    max_age_days: int | None = None
    debtor_kinds: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()
    other_practices: bool | None = None
    contacts: tuple[str, ...] = ()

    def matches(self, facts: HandoverFacts) -> bool:
        if self.min_amount_cents is not None and facts.amount_cents < self.min_amount_cents:
            return False
        if self.max_amount_cents is not None and facts.amount_cents >= self.max_amount_cents:
            return False
        if self.min_age_days is not None and facts.age_days < self.min_age_days:
            return False
        if self.max_age_days is not None and facts.age_days >= self.max_age_days:
            return False
        if self.debtor_kinds and facts.debtor_kind not in self.debtor_kinds:
            return False
        # regions and provinces together: the debtor lives in one of the regions or provinces
        if self.regions or self.provinces:
            in_region = facts.region is not None and facts.region in self.regions
            in_province = facts.province is not None and facts.province in self.provinces
            if not (in_region or in_province):
                return False
        if self.other_practices is not None and facts.has_other_practices != self.other_practices:
            return False
        return all(c in facts.contacts for c in self.contacts)


@dataclass(frozen=True, slots=True)
class Segments:
    """A creditor's rules in the order they are tried, the default strategy, and the version
    they were saved as (0: never saved, every practice runs the default strategy)."""

    rules: tuple[SegmentRule, ...] = ()
    default_strategy: str = DEFAULT_STRATEGY
    version: int = 0

    @property
    def read_other_practices(self) -> bool:
        """Whether a rule asks if the debtor has other practices (a query at each hand-over)."""
        return any(rule.other_practices is not None for rule in self.rules)


@dataclass(frozen=True, slots=True)
class SegmentChoice:
    rule: str  # the matching rule's name, or DEFAULT_RULE
    strategy: str


def choose(segments: Segments, facts: HandoverFacts) -> SegmentChoice:
    """The first rule that holds chooses the strategy; none holding, the default does."""
    for rule in segments.rules:
        if rule.matches(facts):
            return SegmentChoice(rule=rule.name, strategy=rule.strategy)
    return SegmentChoice(rule=DEFAULT_RULE, strategy=segments.default_strategy)


class SegmentError(ValueError):
    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(f"{field_path}: {message}")
        self.field_path = field_path
        self.message = message


def check_name(field_path: str, name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise SegmentError(field_path, f"{name!r} is not a valid name: {NAME_RULE}")


def _range(path: str, low: int | None, high: int | None, lo_name: str, hi_name: str) -> None:
    if low is not None and high is not None and low >= high:
        raise SegmentError(f"{path}.{hi_name}", f"must be greater than {lo_name}")


def validate_segments(segments: Segments, strategies: frozenset[str]) -> Segments:
    """Checks names, ranges, known values and that every strategy named exists; raises
    SegmentError naming the field (`rules.2.provinces`, `default_strategy`)."""
    if segments.default_strategy not in strategies:
        raise SegmentError("default_strategy", f"no strategy named {segments.default_strategy!r}")
    seen: set[str] = set()
    for i, rule in enumerate(segments.rules):
        path = f"rules.{i}"
        check_name(f"{path}.name", rule.name)
        if rule.name == DEFAULT_RULE:
            raise SegmentError(f"{path}.name", f"{DEFAULT_RULE!r} names the default: pick another")
        if rule.name in seen:
            raise SegmentError(f"{path}.name", f"rule {rule.name!r} appears twice")
        seen.add(rule.name)
        if rule.strategy not in strategies:
            raise SegmentError(f"{path}.strategy", f"no strategy named {rule.strategy!r}")
        # error paths name the API's fields (amounts in euros: min_amount, max_amount)
        for name, value in (
            ("min_amount", rule.min_amount_cents),
            ("max_amount", rule.max_amount_cents),
        ):
            if value is not None and value < 0:
                raise SegmentError(f"{path}.{name}", "must not be negative")
        _range(path, rule.min_amount_cents, rule.max_amount_cents, "min_amount", "max_amount")
        _range(path, rule.min_age_days, rule.max_age_days, "min_age_days", "max_age_days")
        for kind in rule.debtor_kinds:
            if kind not in DEBTOR_KINDS:
                raise SegmentError(f"{path}.debtor_kinds", f"unknown debtor kind {kind!r}")
        for region in rule.regions:
            if region not in REGION_OF.values():
                raise SegmentError(f"{path}.regions", f"unknown region {region!r}")
        for province in rule.provinces:
            if province not in PROVINCES:
                raise SegmentError(f"{path}.provinces", f"unknown province {province!r}")
        for contact in rule.contacts:
            if contact not in CONTACTS:
                raise SegmentError(f"{path}.contacts", f"unknown contact {contact!r}")
    return segments
