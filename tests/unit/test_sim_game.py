"""The evolutionary-game helper: the compensation window and the replicator dynamics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colift.sim.game import (
    OUTCOMES,
    GameParams,
    advantages,
    compensation_window,
    equilibria,
    in_window,
    jacobian,
    payoff_matrix,
    replicator,
    stable_outcome,
)

BASE = GameParams()  # window (15,000, 60,000) yuan
LOWER, UPPER = compensation_window(BASE)

money = st.floats(min_value=0.0, max_value=200_000.0, allow_nan=False, allow_infinity=False)


@st.composite
def games(draw: st.DrawFn) -> GameParams:
    return GameParams(
        B_H=draw(money),
        c_H=draw(money),
        s=draw(money),
        B_L=draw(money),
        D_L=draw(money),
        K=draw(money),
        P=draw(money),
    )


def test_window_is_the_closed_form() -> None:
    p = GameParams(B_H=100.0, c_H=70.0, s=10.0, B_L=1.0, D_L=30.0, K=0.0, P=4.0)
    assert compensation_window(p) == (30.0 - 1.0 - 4.0, 100.0 - 70.0 + 10.0)
    assert (LOWER, UPPER) == (15_000.0, 60_000.0)


@given(games())
def test_window_matches_closed_form_for_any_parameters(p: GameParams) -> None:
    lower, upper = compensation_window(p)
    assert lower == p.D_L - p.B_L - p.P
    assert upper == p.B_H - p.c_H + p.s
    assert in_window(p) == (p.D_L - p.B_L - p.P < p.K < p.B_H - p.c_H + p.s)


def test_in_window_excludes_the_bounds() -> None:
    assert in_window(BASE, 30_000)
    assert not in_window(BASE, LOWER)
    assert not in_window(BASE, UPPER)
    assert not in_window(BASE)  # K = 0 by default: no compensation offered
    assert in_window(BASE.with_K(30_000))


def test_payoff_matrix_as_documented() -> None:
    p = BASE.with_K(25_000)
    high, low = payoff_matrix(p)
    assert high.tolist() == [[120_000 - 80_000 + 20_000 - 25_000, 0.0], [0.0, 0.0]]
    assert low.tolist() == [[2_000 - 20_000 + 25_000, -3_000.0], [0.0, 0.0]]
    dh, dl = advantages(p, 0.5, 0.25)
    assert dh == pytest.approx(0.25 * (UPPER - 25_000))
    assert dl == pytest.approx(0.5 * (25_000 - LOWER))


@pytest.mark.parametrize("start", [(0.5, 0.5), (0.1, 0.9), (0.9, 0.1), (0.2, 0.2)])
def test_inside_window_converges_to_support_accept(start: tuple[float, float]) -> None:
    p = BASE.with_K(35_000)
    t, x, y = replicator(p, *start, t_max=200.0, steps=201)
    assert t[0] == 0.0 and t[-1] == 200.0 and len(x) == len(y) == 201
    assert x[-1] > 0.99 and y[-1] > 0.99
    assert stable_outcome(p) == "support_accept"


def test_below_window_low_floors_object() -> None:
    p = BASE.with_K(5_000)
    _, x, y = replicator(p, 0.5, 0.5, t_max=200.0)
    assert y[-1] < 0.01
    assert np.all(np.diff(y) <= 1e-9)  # low floors only ever drift towards objecting
    assert x[-1] > 0.5  # high floors keep pushing but are blocked
    assert stable_outcome(p) == "object"


def test_above_window_high_floors_free_ride() -> None:
    p = BASE.with_K(90_000)
    _, x, y = replicator(p, 0.5, 0.5, t_max=200.0)
    assert x[-1] < 0.01
    assert np.all(np.diff(x) <= 1e-9)
    assert y[-1] > 0.5  # low floors would accept, but nobody pays
    assert stable_outcome(p) == "free_ride"


def test_empty_window_is_a_stalemate() -> None:
    p = GameParams(B_H=50_000, c_H=80_000, s=10_000, D_L=20_000, K=10_000)
    lower, upper = compensation_window(p)
    assert lower > upper
    assert stable_outcome(p) == "stalemate"
    _, x, y = replicator(p, 0.6, 0.6, t_max=400.0)
    assert x[-1] < 0.6 and y[-1] < 0.6


def test_every_outcome_is_documented() -> None:
    outcomes = {stable_outcome(BASE.with_K(k)) for k in (0, 30_000, 90_000)}
    assert outcomes <= OUTCOMES.keys()


def test_replicator_stays_in_the_unit_square_and_rejects_bad_input() -> None:
    _, x, y = replicator(BASE.with_K(30_000), 0.01, 0.99, t_max=500.0)
    assert np.all((x >= 0) & (x <= 1) & (y >= 0) & (y <= 1))
    with pytest.raises(ValueError):
        replicator(BASE, 1.5, 0.5)
    with pytest.raises(ValueError):
        replicator(BASE, 0.5, 0.5, t_max=0.0)
    with pytest.raises(ValueError):
        GameParams(D_L=-1.0)


def test_corners_are_rest_points() -> None:
    p = BASE.with_K(30_000)
    for x0, y0 in ((0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)):
        _, x, y = replicator(p, x0, y0, t_max=10.0, steps=11)
        assert x[-1] == x0 and y[-1] == y0


def _sign(v: float, tol: float) -> int:
    return 0 if abs(v) <= tol else int(math.copysign(1, v))


@settings(max_examples=300)
@given(games())
def test_corner_eigenvalues_match_closed_form(p: GameParams) -> None:
    up = p.B_H - p.c_H + p.s - p.K  # the high floor's gain from supporting at y = 1
    lo = p.B_L - p.D_L + p.K + p.P  # the low floor's gain from accepting at x = 1
    expected = {
        (0.0, 0.0): (0.0, 0.0),
        (1.0, 0.0): (0.0, lo),
        (0.0, 1.0): (up, 0.0),
        (1.0, 1.0): (-up, -lo),
    }
    tol = 1e-6 * (1.0 + max(abs(up), abs(lo)))
    by_corner = {(e.x, e.y): e for e in equilibria(p)}
    for corner, closed in expected.items():
        eq = by_corner[corner]
        got = sorted(v.real for v in eq.eigenvalues)
        assert all(v.imag == 0 for v in eq.eigenvalues)
        assert got == pytest.approx(sorted(closed), abs=tol)
        assert sorted(_sign(v, tol) for v in got) == sorted(_sign(v, tol) for v in closed)
    # Only (support, accept) can be asymptotically stable, and exactly inside the window.
    assert by_corner[(1.0, 1.0)].stable == in_window(p)
    assert not any(by_corner[c].stable for c in expected if c != (1.0, 1.0))
    assert (stable_outcome(p) == "support_accept") == in_window(p)


@given(games(), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_jacobian_matches_finite_differences(p: GameParams, x: float, y: float) -> None:
    scale = 10_000.0
    j = jacobian(p, x, y, payoff_scale=scale)
    h = 1e-6

    def f(xx: float, yy: float) -> np.ndarray:
        dh, dl = advantages(p, xx, yy)
        return np.array([xx * (1 - xx) * dh, yy * (1 - yy) * dl]) / scale

    num = np.column_stack(
        [(f(x + h, y) - f(x - h, y)) / (2 * h), (f(x, y + h) - f(x, y - h)) / (2 * h)]
    )
    assert np.allclose(j, num, rtol=1e-4, atol=1e-4 * (1 + np.abs(num).max()))


def test_subsidy_and_pressure_widen_the_window() -> None:
    lo0, up0 = compensation_window(BASE)
    lo1, up1 = compensation_window(GameParams(s=BASE.s + 5_000, P=BASE.P + 2_000))
    assert up1 == up0 + 5_000 and lo1 == lo0 - 2_000


@given(games(), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_advantages_follow_from_the_payoff_matrix(p: GameParams, x: float, y: float) -> None:
    high, low = payoff_matrix(p)
    dh = y * (high[0, 0] - high[1, 0]) + (1 - y) * (high[0, 1] - high[1, 1])
    dl = x * (low[0, 0] - low[0, 1]) + (1 - x) * (low[1, 0] - low[1, 1])
    got = advantages(p, x, y)
    tol = 1e-9 * (1 + np.abs(high).max() + np.abs(low).max())
    assert got[0] == pytest.approx(dh, abs=tol)
    assert got[1] == pytest.approx(dl, abs=tol)
