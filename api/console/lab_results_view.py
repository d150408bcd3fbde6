"""An experiment's results as the console shows them (the admin's experiment page and the
creditor's reports): the figures of api/services/lab_results.experiment_results formatted for
the page's language, and the liquidation chart's data (numbers and labels) for
static/console-charts.js, which reads it from the canvas's data-chart attribute (the
Content-Security-Policy allows no inline script)."""

from __future__ import annotations

from typing import Any

from babel.numbers import format_decimal, format_percent

from api.console import i18n
from api.console.i18n import N_
from api.services.lab_results import CONTACT_KINDS, ArmResults, ExperimentResults, Proportion
from domain.experiments import CHAMPION
from domain.lab_statistics import Interval

TOO_EARLY = {
    "sample_size": N_(
        "Too early to read: an arm has fewer practices than it needs to detect the chosen "
        "difference."
    ),
    "days_30": N_("No practice is 30 days past its hand-over yet: no 30-day figure."),
    "days_60": N_("No practice is 60 days past its hand-over yet: no 60-day figure."),
    "days_90": N_("No practice is 90 days past its hand-over yet: no 90-day figure."),
    "days_180": N_(
        "The oldest practice is not 180 days past its hand-over yet: no 180-day figure."
    ),
}
CONTACT_NAMES = {
    "letter": N_("Letters"),
    "sms": N_("SMS"),
    "email": N_("E-mails and PEC"),
    "call": N_("Calls"),
}


def _arm_name(code: str, arm: ArmResults) -> str:
    gettext = i18n.translations(code).gettext
    if arm.arm == CHAMPION:
        return gettext("Champion") + f" ({arm.strategy})"
    number = arm.arm.removeprefix("challenger-")
    return gettext("Challenger %(n)s") % {"n": number} + f" ({arm.strategy})"


def results_view(results: ExperimentResults, code: str, creditor_id: str) -> dict[str, Any]:
    language = i18n.language(code)
    gettext = i18n.translations(code).gettext

    def pct(value: float) -> str:
        return format_percent(value, format="#,##0.0%", locale=code)

    def interval(value: Interval | None) -> str:
        if value is None:
            return "-"
        return f"{pct(value.estimate)} ({pct(value.low)} – {pct(value.high)})"

    def points(value: Interval | None) -> str:
        """A difference, signed, with its interval."""
        if value is None:
            return ""
        signed = format_percent(value.estimate, format="+#,##0.0%;-#,##0.0%", locale=code)
        return gettext("vs champion %(diff)s (%(low)s – %(high)s)") % {
            "diff": signed,
            "low": pct(value.low),
            "high": pct(value.high),
        }

    def proportion(p: Proportion) -> dict[str, str]:
        return {
            "rate": interval(p.interval),
            "count": f"{p.successes}/{p.n}",
            "versus": points(p.versus_champion),
        }

    def days(value: float | None) -> str:
        return "-" if value is None else format_decimal(value, format="#,##0.#", locale=code)

    arms = []
    for arm in results.arms:
        arms.append(
            {
                "name": _arm_name(code, arm),
                "share": f"{arm.share}%",
                "practices": arm.practices,
                "placed": language.money(arm.placed_cents),
                "recovered": language.money(arm.recovered_cents),
                "liquidation": [
                    {
                        "rate": interval(h.rate)
                        if h.rate is not None
                        else (pct(h.recovered_cents / h.placed_cents) if h.placed_cents else "-"),
                        "practices": h.practices,
                        "versus": points(h.versus_champion),
                    }
                    for h in arm.liquidation
                ],
                "cure": proportion(arm.cure),
                "first_payment": days(arm.median_days_to_first_payment),
                "close": days(arm.median_days_to_close),
                "right_party": proportion(arm.right_party_contact),
                "promises_kept": proportion(arm.promises_kept),
                "plans_broken": proportion(arm.plans_broken),
                "contacts": [arm.contacts[kind] for kind in CONTACT_KINDS],
                "cost": language.money(arm.cost_cents),
                "cost_per_euro": "-"
                if arm.cost_per_euro is None
                else format_decimal(arm.cost_per_euro, format="#,##0.0000", locale=code),
                "needed": "-" if arm.needed is None else arm.needed,
                "still_needed": "-" if arm.still_needed is None else arm.still_needed,
            }
        )
    horizons = [h.days for h in results.arms[0].liquidation] if results.arms else []
    chart = {
        "locale": code,
        "label": gettext("Liquidation rate"),
        "labels": [gettext("%(days)s days") % {"days": d} for d in horizons],
        "arms": [
            {
                "label": _arm_name(code, arm),
                "rates": [
                    (h.recovered_cents / h.placed_cents) if h.practices and h.placed_cents else None
                    for h in arm.liquidation
                ],
            }
            for arm in results.arms
        ],
    }
    experiment = results.experiment
    return {
        "id": experiment.id,
        "segment": experiment.segment,
        "start": language.date(experiment.start),
        "end": language.date(experiment.end) if experiment.end else "",
        "as_of": language.date(results.as_of),
        "effect_points": results.effect_points,
        "baseline": pct(results.baseline_cure_rate),
        "too_early": [gettext(TOO_EARLY[code_]) for code_ in results.too_early],
        "horizons": horizons,
        "arms": arms,
        "contact_kinds": [gettext(CONTACT_NAMES[kind]) for kind in CONTACT_KINDS],
        "costs_set": any(results.unit_costs.values()),
        "challengers": [a.arm for a in results.arms[1:]],
        "challenger_names": {a.arm: _arm_name(code, a) for a in results.arms[1:]},
        "chart": chart,
        # the console's download (a session, not an API key), the API's CSV
        "csv": f"/console/creditor/reports/experiments/{creditor_id}/{experiment.id}.csv",
    }
