"""Cohen's kappa and Krippendorff's alpha against values computed by hand."""

from __future__ import annotations

import pytest

from colift.errors import BadInput
from colift.evidence.agreement import (
    Unit,
    agreement,
    cohen_kappa,
    derive_units,
    krippendorff_alpha,
)
from colift.evidence.model import Coding, Source


def test_cohen_kappa_textbook_two_by_two() -> None:
    # 50 units: both yes 20, A yes/B no 5, A no/B yes 10, both no 15.
    # p_o = (20 + 15) / 50 = 0.70; A says yes 25/50 = 0.5, B says yes 30/50 = 0.6
    # p_e = 0.5 × 0.6 + 0.5 × 0.4 = 0.50; kappa = (0.70 - 0.50) / (1 - 0.50) = 0.40
    a = ["y"] * 20 + ["y"] * 5 + ["n"] * 10 + ["n"] * 15
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.40)


def test_cohen_kappa_edge_cases() -> None:
    assert cohen_kappa([1, 1, 1], [1, 1, 1]) is None  # p_e = 1: undefined
    assert cohen_kappa([], []) is None
    assert cohen_kappa([0, 1], [0, 1]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="equal"):
        cohen_kappa([1], [1, 0])


def test_krippendorff_alpha_textbook_example() -> None:
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the example with
    # 4 observers, 12 units and missing values; nominal alpha = 0.743.
    data = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    # By hand: unit 12 has one value and is left out; each unit of m values adds 1/(m-1) for
    # each ordered pair of values. Diagonal of the coincidence matrix:
    #   o11 = 3 (u1) + 2 (u8) + 2 (u11) = 7      o22 = 2 (u2) + 4 (u5) + 4 (u9) = 10
    #   o33 = 4 (u3) + 4 (u4) = 8                 o44 = 4 (u7)       o55 = 3 (u10)
    # Off-diagonal: o12 = o21 = 1/3 (u6) + 1 (u8) = 4/3, o23 = o32 = 1 (u2) + 1/3 (u6) = 4/3,
    #   o13 = o14 = o24 = o34 = 1/3 each way (u6).
    # Margins n1..n5 = 9, 13, 10, 5, 3; n = 40. Off-diagonal sum = 40 - 32 = 8.
    # sum_{c!=k} n_c n_k = 40² - (81 + 169 + 100 + 25 + 9) = 1600 - 384 = 1216.
    # alpha = 1 - (n - 1) × 8 / 1216 = 1 - 312 / 1216 = 0.74342
    assert krippendorff_alpha(data) == pytest.approx(1 - 312 / 1216)
    assert round(krippendorff_alpha(data) or 0, 3) == 0.743


def test_krippendorff_alpha_edge_cases() -> None:
    assert krippendorff_alpha([]) is None
    assert krippendorff_alpha([[1, 1], [1, 1]]) is None  # one category only
    assert krippendorff_alpha([[1, None], [None, 2]]) is None  # nothing pairable
    with pytest.raises(ValueError, match="one entry per unit"):
        krippendorff_alpha([[1, 2], [1]])


def _sentence_units(n: int) -> list[Unit]:
    return [Unit("s", 10 * i, 10 * i + 10) for i in range(n)]


def _on(coder: str, code: str, units: list[int]) -> list[Coding]:
    return [Coding("s", 10 * u, 10 * u + 10, code, coder) for u in units]


def test_two_coders_on_given_units_hand_computed() -> None:
    units = _sentence_units(10)
    codings = (
        _on("A", "X", [0, 1, 2, 3, 4])
        + _on("B", "X", [0, 1, 2, 3, 5])
        + _on("A", "Y", [6, 7])
        + _on("B", "Y", [6])
    )
    report = agreement(codings, units=units)
    x, y = report.per_code["X"], report.per_code["Y"]
    # X: both 4, A only 1, B only 1, neither 4. p_o = 8/10; p_e = .5 × .5 + .5 × .5 = .5
    #    kappa = (.8 - .5) / .5 = 0.6
    assert x.kappa == pytest.approx(0.6)
    # X alpha: 20 values, o11 = 4 units × 2 = 8, o00 = 8, o01 = o10 = 2; n1 = n0 = 10
    #    alpha = 1 - 19 × 4 / (2 × 10 × 10) = 1 - 76/200 = 0.62
    assert x.alpha == pytest.approx(0.62)
    assert x.agreement == pytest.approx(0.8) and dict(x.applied) == {"A": 5, "B": 5}
    # Y: both 1, A only 1, neither 8. p_o = .9; A yes .2, B yes .1
    #    p_e = .2 × .1 + .8 × .9 = .74; kappa = (.9 - .74) / .26 = 0.6153846
    assert y.kappa == pytest.approx(0.16 / 0.26)
    # Pooled over 20 (unit, code) decisions: both 5, A only 2, B only 1, neither 12.
    #    p_o = 17/20 = .85; A yes 7/20 = .35, B yes 6/20 = .30
    #    p_e = .35 × .30 + .65 × .70 = .56; kappa = (.85 - .56) / .44 = 0.659090...
    assert report.kappa == pytest.approx(0.29 / 0.44)
    assert report.mean_kappa == pytest.approx((0.6 + 0.16 / 0.26) / 2)
    assert report.agreement == pytest.approx(17 / 20)
    # Disagreements: units 4 and 5 on X, unit 7 on Y
    assert [(d.start, d.differing) for d in report.disagreements] == [
        (40, ("X",)),
        (50, ("X",)),
        (70, ("Y",)),
    ]


def test_derived_units_align_overlapping_ranges() -> None:
    text = "低层住户担心采光。" * 5 + "党员楼栋长上门做工作。" * 3
    src = Source("s", "访谈", text)
    codings = [
        Coding("s", 0, 10, "low_floor", "A"),
        Coding("s", 5, 15, "low_floor", "B"),  # overlaps A's: one unit 0-15, agreement
        Coding("s", 20, 30, "trust", "A"),  # only A: a unit of its own, disagreement
        Coding("s", 30, 34, "trust", "B"),  # touches 20-30 but shares no character
    ]
    assert derive_units(codings) == [Unit("s", 0, 15), Unit("s", 20, 30), Unit("s", 30, 34)]
    report = agreement(codings, sources=[src])
    assert [u.start for u in report.units] == [0, 20, 30]
    # low_floor: (1, 1), (0, 0), (0, 0) -> agreement on all three units
    assert report.per_code["low_floor"].agreement == 1.0
    # trust: (0, 0), (1, 0), (0, 1): p_o = 1/3, p_e = 1/3 × 1/3 + 2/3 × 2/3 = 5/9
    #   kappa = (1/3 - 5/9) / (4/9) = -0.5
    assert report.per_code["trust"].kappa == pytest.approx(-0.5)
    first = report.disagreements[0]
    assert (first.source_id, first.start, first.end) == ("s", 20, 30)
    assert first.text == text[20:30]
    assert dict(first.applied) == {"A": ("trust",), "B": ()}
    assert first.differing == ("trust",)


def test_given_units_need_enough_overlap() -> None:
    units = [Unit("s", 0, 10), Unit("s", 10, 20)]
    # 0-12 shares 2 characters with 10-20: less than half of the shorter (10): not applied
    codings = [Coding("s", 0, 12, "X", "A"), Coding("s", 0, 10, "X", "B")]
    report = agreement(codings, units=units)
    assert report.per_code["X"].agreement == 1.0 and not report.disagreements
    strict = agreement(codings, units=units, min_overlap=0.1)
    assert [d.start for d in strict.disagreements] == [10]


def test_three_coders_alpha_with_coverage() -> None:
    units = _sentence_units(4)
    codings = _on("A", "X", [0, 1]) + _on("B", "X", [0, 1]) + _on("C", "X", [0])
    # C coded only source "other": C's values are missing, alpha is that of A and B alone
    report = agreement(codings, units=units, coverage={"C": ["other"]})
    assert report.kappa is None  # three coders: no Cohen's kappa
    assert report.per_code["X"].alpha == pytest.approx(1.0)
    # Without coverage C judged unit 1 as not coded. Per unit values: (1,1,1) (1,1,0) (0,0,0)
    # (0,0,0). o11 = 3 + 1 = 4, o10 = o01 = 1 (unit 1: pairs 1-0 ×2 and 0-1 ×2, / 2),
    # o00 = 3 + 3 = 6; n1 = 5, n0 = 7, n = 12
    # alpha = 1 - 11 × 2 / (2 × 5 × 7) = 1 - 22/70
    full = agreement(codings, units=units)
    assert full.per_code["X"].alpha == pytest.approx(1 - 22 / 70)


def test_bad_input() -> None:
    with pytest.raises(BadInput, match="two coders"):
        agreement([Coding("s", 0, 1, "X", "A")])
    with pytest.raises(BadInput, match="min_overlap"):
        agreement([], coders=["A", "B"], min_overlap=0)
