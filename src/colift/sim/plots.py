"""Figures of simulation results, saved as PNG or SVG by the file's suffix.

Figures are drawn on `matplotlib.figure.Figure` without pyplot, so nothing changes the
process's backend and no display is needed. Labels are short English with Chinese beside them
when a CJK font is installed ("WenQuanYi Micro Hei" or "Noto Sans CJK SC"); without one they
are English only, so a figure never shows empty boxes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from colift.errors import BadInput

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from colift.sim.city import CityResult

CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC")
SUFFIXES = (".png", ".svg")
# Colours that stay apart for the common kinds of colour blindness (Okabe–Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000")


@cache
def cjk_font() -> str | None:
    """The first installed CJK font of CJK_FONTS, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def label(en: str, zh: str) -> str:
    """English, with the Chinese beside it when a font can draw it."""
    return f"{en} {zh}" if cjk_font() else en


def text(value: object) -> str:
    """User text (a city or type name) as the figure can draw it: CJK dropped without a font."""
    shown = str(value)
    if cjk_font():
        return shown
    kept = "".join(ch for ch in shown if ord(ch) < 0x2E80)
    return " ".join(kept.split()) or "?"


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    family = [f for f in (cjk_font(), "DejaVu Sans") if f]
    with matplotlib.rc_context({"font.family": family, "font.size": 9, "svg.fonttype": "none"}):
        yield


def plot_path(path: Path) -> Path:
    """The path, checked to end in .png or .svg."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise BadInput("a plot is saved as .png or .svg, not {name}", name=repr(path.name))
    return path


def _save(fig: Figure, path: Path) -> Path:
    try:
        fig.savefig(path, format=path.suffix.lower().lstrip("."), dpi=150)
    except OSError as exc:
        raise BadInput(
            "cannot write the plot {path}: {strerror}", path=path, strerror=exc.strerror or exc
        ) from None
    return path


def plot_comparison(result_by_strategy: Mapping[str, Mapping[str, Any]], path: Path) -> Path:
    """Success probability with its 95% interval per strategy, and share in service by week."""
    from matplotlib.figure import Figure

    path = plot_path(path)
    if not result_by_strategy:
        raise BadInput("nothing to plot: no strategies")
    names = list(result_by_strategy)
    with _style():
        fig = Figure(figsize=(10, 4), layout="constrained")
        left, right = fig.subplots(1, 2, width_ratios=(2, 3))
        rates = [float(result_by_strategy[n]["success_rate"]) for n in names]
        lows = [
            r - float(result_by_strategy[n]["success_ci95"][0])
            for n, r in zip(names, rates, strict=True)
        ]
        highs = [
            float(result_by_strategy[n]["success_ci95"][1]) - r
            for n, r in zip(names, rates, strict=True)
        ]
        colours = [PALETTE[i % len(PALETTE)] for i in range(len(names))]
        left.bar([text(n) for n in names], rates, yerr=[lows, highs], capsize=4, color=colours)
        left.set_ylim(0, 1)
        left.set_ylabel(label("P(in service)", "成功概率"))
        left.set_title(label("Success, 95% CI", "成功率"))
        left.tick_params(axis="x", labelrotation=20)
        drawn = False
        for colour, name in zip(colours, names, strict=True):
            series = result_by_strategy[name].get("share_in_service")
            if series:
                right.plot(range(len(series)), series, color=colour, label=text(name))
                drawn = True
        if drawn:
            right.legend(loc="upper left", frameon=False)
        else:
            right.text(0.5, 0.5, "no weekly series", ha="center", transform=right.transAxes)
        right.set_ylim(0, 1)
        right.set_xlabel(label("week", "周"))
        right.set_ylabel(label("share in service", "已投用比例"))
        right.set_title(label("Cumulative share in service", "累计投用"))
        right.grid(alpha=0.3)
        return _save(fig, path)


def plot_city(city_result: CityResult | Mapping[str, Any], path: Path) -> Path:
    """Installations per year by compound type and guidance, and where units stall."""
    from matplotlib.figure import Figure

    path = plot_path(path)
    summary = city_result if isinstance(city_result, Mapping) else city_result.summary()
    with _style():
        fig = Figure(figsize=(13, 4.2), layout="constrained")
        years_ax, rate_ax, stall_ax = fig.subplots(1, 3)
        _installations(years_ax, summary)
        _success(rate_ax, summary)
        _stalls(stall_ax, summary)
        levers = summary.get("levers", {})
        fig.suptitle(
            f"{text(summary.get('city', 'city'))}: {summary.get('households', 0):,} households · "
            f"subsidy {levers.get('subsidy_profile') or 'none'} · "
            f"guidance {levers.get('guidance_share', 0):.0%} · "
            f"compensation ¥{int(levers.get('compensation_fen', 0)) // 100:,}"
        )
        return _save(fig, path)


def _installations(ax: Axes, summary: Mapping[str, Any]) -> None:
    by_type = summary.get("by_type", {})
    years = int(summary.get("years", len(summary.get("installations_per_year", []))))
    x = [f"Y{y + 1}" for y in range(years)]
    bottom = [0] * years
    for i, (tid, entry) in enumerate(by_type.items()):
        counts = list(entry.get("installations_per_year", [0] * years))[:years]
        ax.bar(x, counts, bottom=bottom, color=PALETTE[i % len(PALETTE)], label=text(tid))
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ax.set_ylabel(label("lifts installed", "加装数"))
    ax.set_title(label("Installations per year", "年度加装"))
    if by_type:
        ax.legend(frameon=False, fontsize=8)


def _success(ax: Axes, summary: Mapping[str, Any]) -> None:
    by_type = summary.get("by_type", {})
    groups = list(summary.get("by_guidance", {}))
    width = 0.8 / max(len(groups), 1)
    names = list(by_type)
    for g, group in enumerate(groups):
        rates, low, high = [], [], []
        for tid in names:
            entry = by_type[tid].get("by_guidance", {}).get(group, {})
            rate = float(entry.get("success_rate", 0.0))
            ci = entry.get("success_ci95", [rate, rate])
            rates.append(rate)
            low.append(rate - float(ci[0]))
            high.append(float(ci[1]) - rate)
        xs = [i + (g - (len(groups) - 1) / 2) * width for i in range(len(names))]
        ax.bar(
            xs,
            rates,
            width,
            yerr=[low, high],
            capsize=3,
            color=PALETTE[g % len(PALETTE)],
            label=text(group),
        )
    ax.set_xticks(range(len(names)), [text(n) for n in names], rotation=15)
    ax.set_ylim(0, 1)
    ax.set_ylabel(label("share of started units", "启动单元占比"))
    ax.set_title(label("Success by type and guidance", "按类型与引领"))
    if groups:
        ax.legend(frameon=False, fontsize=8)


def _stalls(ax: Axes, summary: Mapping[str, Any]) -> None:
    stalls = summary.get("stalls", {})
    rows = [(f"failed: {text(k)}", int(v)) for k, v in stalls.get("failed", {}).items() if v]
    rows += [(f"open: {text(k)}", int(v)) for k, v in stalls.get("running", {}).items() if v]
    if not rows:
        ax.text(0.5, 0.5, "no stalled units", ha="center", transform=ax.transAxes)
    else:
        names, counts = zip(*rows, strict=True)
        colours = [PALETTE[5] if n.startswith("failed") else PALETTE[4] for n in names]
        ax.barh(list(names), list(counts), color=colours)
        ax.invert_yaxis()
    ax.set_xlabel(label("units", "单元"))
    ax.set_title(label("Where started units stall", "卡在哪里"))
