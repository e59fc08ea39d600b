"""Figures shaped for drawing: gauge bars, chart series. Display only — verdicts come from rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from colift.coproduction.heterogeneity import explanation_zh
from colift.i18n import msg
from colift.rules.consent import ConsentResult, format_area
from colift.services.views import StreetBoard, StreetOverview, UnitPage
from colift.web.labels import label


@dataclass(frozen=True)
class GaugeBar:
    title: str
    value: str
    of_value: str
    unit: str
    required: str  # "2/3"
    operator: str
    fill_percent: float  # for the bar's width only
    threshold_percent: float
    met: bool
    short_text: str


def gauge(result: ConsentResult, lang: str) -> list[GaugeBar]:
    bars = []
    for c in result.checks:
        heads = c.basis == "heads"
        unit = ("户" if lang != "en" else "owners") if heads else "m²"
        value = str(c.numerator) if heads else format_area(c.numerator)
        of_value = str(c.denominator) if heads else format_area(c.denominator)
        short = ""
        if not c.met and c.of.value == "participating" and not c.denominator:
            short = msg("nobody has voted yet").render(lang)  # not "还需0.01㎡": nothing to count
        elif not c.met:
            amount = str(c.short_by) if heads else format_area(c.short_by, round_up=True)
            if lang == "en":
                who = "taking part" if c.counted == "participating" else "agreeing"
                short = f"{amount} {'more owners' if heads else 'm² more'} {who} needed"
            else:
                who = "参与表决" if c.counted == "participating" else "同意"
                short = f"还需{amount}{'位业主' if heads else '㎡'}{who}"
        base = (
            ("总" if lang != "en" else "all ")
            if c.of.value == "total"
            else ("参与表决的" if lang != "en" else "taking part ")
        )
        title = f"{label('step', c.step, lang)} · {label('basis', c.basis, lang)}"
        fill = 100.0 * c.numerator / c.denominator if c.denominator else 0.0
        bars.append(
            GaugeBar(
                title=title,
                value=value,
                of_value=f"{base}{of_value}",
                unit=unit,
                required=f"{c.required.numerator}/{c.required.denominator}",
                operator=c.operator,
                fill_percent=round(min(fill, 100.0), 2),
                threshold_percent=round(100.0 * float(c.required), 2),
                met=c.met,
                short_text=short,
            )
        )
    return bars


def heterogeneity_chart(page: UnitPage, lang: str) -> dict[str, Any]:
    assert page.advice is not None, "a resident's view carries no advice"
    dims = page.advice.heterogeneity.dimensions
    names = list(dims)
    return {
        "kind": "radar",
        "indicators": [{"name": label("dimension", n, lang), "max": 1} for n in names],
        "values": [round(dims[n].score, 3) for n in names],
    }


def activity_chart(page: UnitPage, lang: str) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for a in page.activities:
        key = label("role", a.role, lang)
        counts[key] = counts.get(key, 0) + 1
    ordered = sorted(counts.items(), key=lambda kv: -kv[1])
    return {"kind": "bar", "categories": [k for k, _ in ordered], "values": [v for _, v in ordered]}


def funnel_chart(overview: StreetOverview | StreetBoard, lang: str) -> dict[str, Any]:
    return {
        "kind": "funnel",
        "data": [{"name": label("stage", s, lang), "value": n} for s, n in overview.funnel()],
    }


def stage_days_chart(overview: StreetOverview, lang: str) -> dict[str, Any]:
    days = overview.days_in_stage()
    stages = [s for s in days]
    return {
        "kind": "boxish",
        "categories": [label("stage", s, lang) for s in stages],
        "median": [sorted(days[s])[len(days[s]) // 2] for s in stages],
        "max": [max(days[s]) for s in stages],
    }


def board_days_chart(board: StreetBoard, lang: str) -> dict[str, Any]:
    """`stage_days_chart` from the street page's aggregate (median and longest per stage)."""
    stages = list(board.days)
    return {
        "kind": "boxish",
        "categories": [label("stage", s, lang) for s in stages],
        "median": [board.days[s][1] for s in stages],
        "max": [board.days[s][2] for s in stages],
    }


STRATEGY_NAMES_ZH = {
    "informal_only": "仅靠非正式领袖",
    "guided": "党建引领＋正式与非正式领袖",
    "advisor": "按顾问建议行动",
}


def whatif_view(result: dict[str, Any], lang: str) -> dict[str, Any]:
    """Rows of the strategy table and the weekly series, from `simulate_stored_unit`."""
    rows = []
    series_consent = []
    series_service = []
    for name, s in result["strategies"].items():
        title = STRATEGY_NAMES_ZH.get(name, name) if lang != "en" else name.replace("_", " ")
        lo, hi = s["success_ci95"]
        mix = sorted(s["failure_mix"].items(), key=lambda kv: -kv[1])
        rows.append(
            {
                "name": title,
                "success": f"{100 * s['success_rate']:.0f}%",
                "ci": f"{100 * lo:.0f}–{100 * hi:.0f}%",
                "consent_weeks": s["weeks_to_consent"].get("median"),
                "service_weeks": s["weeks_to_service"].get("median"),
                # failure_mix is each cause's share of the failed runs; shown as its share of
                # all runs, so "资金不足 100%" can no longer mean "all of the few failures"
                "causes": "、".join(
                    f"{label('failure', k, lang)} {100 * v * (1 - s['success_rate']):.0f}%"
                    for k, v in mix
                    if v > 0
                ),
            }
        )
        series_consent.append({"name": title, "data": [round(x, 3) for x in s["share_consented"]]})
        series_service.append({"name": title, "data": [round(x, 3) for x in s["share_in_service"]]})
    weeks = list(range(len(series_consent[0]["data"]) if series_consent else 0))
    week_name = ""  # the axis is weeks; the table header and tooltip say so
    return {
        "runs": result["runs"],
        "weeks": result["weeks"],
        "rows": rows,
        "consent_chart": {
            "kind": "lines",
            "x": weeks,
            "x_name": week_name,
            "y_max": 1,
            "y_name": "达成同意比例" if lang != "en" else "share consented",
            "series": series_consent,
        },
        "service_chart": {
            "kind": "lines",
            "x": weeks,
            "x_name": week_name,
            "y_max": 1,
            "y_name": "电梯运行比例" if lang != "en" else "share in service",
            "series": series_service,
        },
    }


def side(text: str, lang: str) -> str:
    """One language of a bilingual "中文 / English" message (the whole text when it is not)."""
    zh, sep, en = text.partition(" / ")
    if not sep:
        return text
    return en if lang == "en" else zh


def rationale(text: str, lang: str) -> str:
    """A recommendation's reason: the obstacle it answers, in the page's language (the tool and
    the role are shown beside it; the advisor's technical tail — ids, the reason table's row —
    is not for the page)."""
    return side(text.split(" → ", 1)[0], lang)


def dimension_text(name: str, explanation: str, measured: dict[str, Any], lang: str) -> str:
    """A heterogeneity dimension's explanation; in Chinese written from its measured figures by
    the model itself (coproduction.heterogeneity.explanation_zh), so page and advice agree."""
    if lang == "en":
        return explanation
    text = explanation_zh(name, measured)
    return explanation if text == name else text


def still_needed(result: ConsentResult, lang: str) -> str | None:
    """What is actually missing for the vote to pass, naming only the non-zero parts; None
    when it passed. A share of the participants before anyone took part is not a shortfall
    ("还需0.01㎡"): the page says nobody has voted yet instead."""
    if result.passed:
        return None
    unmet = [c for c in result.checks if not c.met]
    empty = [c for c in unmet if c.of.value == "participating" and not c.denominator]
    rest = [c for c in unmet if c not in empty]
    heads = max((c.short_by for c in rest if c.basis == "heads"), default=0)
    area = max((c.short_by for c in rest if c.basis == "area"), default=0)
    parts: list[str] = [msg("nobody has voted yet").render(lang)] if empty else []
    if heads and area:
        parts.append(
            msg(
                "still needed: {heads} more owners and {area} m²",
                heads=heads,
                area=format_area(area, round_up=True),
            ).render(lang)
        )
    elif heads:
        parts.append(msg("still needed: {heads} more owners", heads=heads).render(lang))
    elif area:
        parts.append(
            msg("still needed: {area} m²", area=format_area(area, round_up=True)).render(lang)
        )
    return ("；" if lang != "en" else "; ").join(parts) or None


@dataclass(frozen=True)
class PlanForm:
    """The cost-plan form's fields, filled from the stored plan (or the defaults without one),
    so re-saving the form keeps what was stored. `lost` names what the stored plan holds that
    this short form cannot show: saving it would drop those parts."""

    total: str
    coefficients: str
    area_weighted: bool
    subsidy_profile: str
    compensation: str
    running: str
    lost: tuple[str, ...] = ()


DEFAULT_PLAN_FORM = PlanForm(
    total="420000",
    coefficients="1:0, 2:0.4, 3:0.7, 4:0.85, 5:1.0, 6:1.1",
    area_weighted=True,
    subsidy_profile="",
    compensation="3000",
    running="5400",
)


def _yuan_text(fen: int) -> str:
    """Fen as the yuan a person types: 442000 or 3000.50 (exact, no float)."""
    whole, cents = divmod(fen, 100)
    return f"{whole}" if not cents else f"{whole}.{cents:02d}"


def plan_form(plan: Any, compound_subsidy: str | None, lang: str) -> PlanForm:
    """The form for `plan` (a stored `CostPlan`, or None for the defaults)."""
    if plan is None:
        return PlanForm(**{**DEFAULT_PLAN_FORM.__dict__, "subsidy_profile": compound_subsidy or ""})
    lost: list[str] = []
    raw = dict(plan.raw_scheme or {})
    coefficients = DEFAULT_PLAN_FORM.coefficients
    area_weighted = True
    if raw.get("kind") == "floor-coefficient":
        given = raw.get("coefficients") or {}
        coefficients = ", ".join(f"{k}:{v}" for k, v in given.items())
        area_weighted = bool(raw.get("area_weighted", False))
    elif plan.scheme is not None or raw:
        lost.append(msg("the sharing scheme").render(lang))
    compensation = ""
    for comp in plan.compensation:
        if comp.floors == frozenset({1}) and not comp.households and not compensation:
            compensation = _yuan_text(comp.fen_each)
        else:
            lost.append(msg("compensation other than the ground floor").render(lang))
    running = ""
    if len(plan.running) == 1:
        running = _yuan_text(plan.running[0].annual_fen)
    elif plan.running:
        lost.append(msg("running costs in several items").render(lang))
    if plan.levers:
        lost.append(
            msg("funding sources (provident fund, maintenance fund, instalments)").render(lang)
        )
    if plan.subsidy.fen is not None:
        lost.append(msg("a fixed subsidy amount").render(lang))
    return PlanForm(
        total=_yuan_text(plan.total_fen),
        coefficients=coefficients,
        area_weighted=area_weighted,
        subsidy_profile=plan.subsidy.profile or "",
        compensation=compensation or "0",
        running=running or "0",
        lost=tuple(dict.fromkeys(lost)),
    )
