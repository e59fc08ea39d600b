"""The evolutionary-game reading of a retrofit: when does compensation make the lift stable?

Two populations meet in pairs: a high-floor household (floor ≥ 3, the break-even floor) and a
low-floor household (floor 1–2) of the same stairwell. All money is in **yuan** as floats (the
rest of colift counts fen; this helper is an analytic sketch, so yuan keep the formulas
readable).

Parameters (`GameParams`):

- ``B_H``: what the lift is worth to a high-floor household (access, flat value);
- ``c_H``: its share of the cost;
- ``s``: the subsidy per household;
- ``B_L``: what the lift is worth to a low-floor household (small, may be 0);
- ``D_L``: the low floor's loss (light, noise, privacy, flat value);
- ``K``: the compensation a high-floor household pays a low-floor one when the lift is built;
- ``P``: social pressure and persuasion borne by a low-floor household that objects to a
  project somebody is pushing (neighbours, the residents' committee, the street office).

Strategies: high floor **support** (pay and push, share ``x``) or **free-ride** (wait, pay
nothing); low floor **accept** (share ``y``) or **object**. The lift is built only when a
high-floor household pushes and the low-floor one accepts; without a project no money changes
hands. The payoff matrix, (high floor, low floor):

=============  ==================================  ==================
               accept (y)                          object (1 − y)
=============  ==================================  ==================
support (x)    (B_H − c_H + s − K,  B_L − D_L + K)  (0,  −P)
free-ride      (0,  0)                             (0,  0)
=============  ==================================  ==================

Advantages of the first strategy of each population, against the other's mix:

    Δ_H(y) = π_H(support) − π_H(free-ride) = y · (B_H − c_H + s − K)
    Δ_L(x) = π_L(accept)  − π_L(object)    = x · (B_L − D_L + K + P)

and the two-population replicator dynamics are

    ẋ = x (1 − x) Δ_H(y),   ẏ = y (1 − y) Δ_L(x).

At the corner (1, 1) the Jacobian is diagonal with eigenvalues −(B_H − c_H + s − K) and
−(B_L − D_L + K + P); (support, accept) is a strict Nash equilibrium, hence the evolutionarily
stable state of the asymmetric game, exactly when both are negative:

    D_L − B_L − P  <  K  <  B_H − c_H + s.

How each term enters: the low floor accepts when compensation plus its own benefit plus the
pressure it escapes outweigh its loss (``K + B_L + P > D_L``, the lower bound); the high floor
still pushes when its net benefit after cost, subsidy and compensation stays positive
(``B_H − c_H + s − K > 0``, the upper bound). A subsidy widens the window from above, pressure
and a design that lowers ``D_L`` widen it from below.

Outside the window no pure profile is strict: below it ``ẏ < 0`` wherever ``x > 0`` (low floors
object, ``y → 0``); above it ``ẋ < 0`` wherever ``y > 0`` (high floors free-ride, ``x → 0``). The
edges ``x = 0`` and ``y = 0`` are lines of neutral equilibria (nothing is built, nobody pays),
so the other corners have zero eigenvalues and are never asymptotically stable.

Time in `replicator` is measured in "generations" at a payoff scale (``payoff_scale`` yuan, by
default 10,000): a strategy with a 10,000-yuan advantage grows at rate 1.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy.integrate import solve_ivp

__all__ = [
    "OUTCOMES",
    "Equilibrium",
    "GameParams",
    "advantages",
    "compensation_window",
    "equilibria",
    "in_window",
    "jacobian",
    "payoff_matrix",
    "replicator",
    "stable_outcome",
]

FloatArray = NDArray[np.float64]

# What `stable_outcome` can say, and what each means.
OUTCOMES: dict[str, str] = {
    "support_accept": "high floors pay and push, low floors accept: the lift is built",
    "object": "low floors object (compensation below the window): nothing is built",
    "free_ride": "high floors free-ride (compensation above the window): nothing is built",
    "stalemate": "neither side gains from the project (empty window): nothing is built",
}


@dataclass(frozen=True)
class GameParams:
    """Payoff parameters in yuan per household; the defaults are illustrative assumptions.

    The defaults sketch a 6-storey unit: a top-floor household values the lift at ¥120,000,
    pays ¥80,000 before a ¥20,000 per-household subsidy (about ¥250,000 per lift over 12
    flats); a ground-floor household loses ¥20,000 (the simulation's full first-floor
    compensation), gains ¥2,000 and faces ¥3,000 of pressure if it objects. ``K`` = 0: no
    compensation is offered until someone offers it.
    """

    B_H: float = 120_000.0
    c_H: float = 80_000.0
    s: float = 20_000.0
    B_L: float = 2_000.0
    D_L: float = 20_000.0
    K: float = 0.0
    P: float = 3_000.0

    def __post_init__(self) -> None:
        for name in ("B_H", "c_H", "s", "B_L", "D_L", "K", "P"):
            value = getattr(self, name)
            if not np.isfinite(value):
                raise ValueError(f"{name} must be a finite number of yuan, got {value!r}")
        for name in ("c_H", "s", "B_L", "D_L", "P"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} is a size and cannot be negative")

    def with_K(self, K: float) -> GameParams:
        """The same game with another compensation."""
        return replace(self, K=float(K))


@dataclass(frozen=True)
class Equilibrium:
    """A rest point of the replicator dynamics with the eigenvalues of its Jacobian."""

    x: float  # share of high-floor households that support
    y: float  # share of low-floor households that accept
    stable: bool  # asymptotically stable: every eigenvalue has a negative real part
    eigenvalues: tuple[complex, complex]

    @property
    def label(self) -> str:
        corners = {
            (1.0, 1.0): "support/accept",
            (1.0, 0.0): "support/object",
            (0.0, 1.0): "free-ride/accept",
            (0.0, 0.0): "free-ride/object",
        }
        return corners.get((self.x, self.y), "interior")


def payoff_matrix(p: GameParams) -> tuple[FloatArray, FloatArray]:
    """(A, B): A[i, j] pays the high floor, B[i, j] the low floor; i ∈ (support, free-ride),
    j ∈ (accept, object)."""
    high = np.array([[p.B_H - p.c_H + p.s - p.K, 0.0], [0.0, 0.0]])
    low = np.array([[p.B_L - p.D_L + p.K, -p.P], [0.0, 0.0]])
    return high, low


def _coefficients(p: GameParams) -> tuple[float, float, float, float]:
    """Δ_H(y) = a0 + a1·y and Δ_L(x) = b0 + b1·x for the matrix of `payoff_matrix`.

    Written through the window bounds so that float rounding can never make `in_window` and
    the stability of (support, accept) disagree.
    """
    lower, upper = compensation_window(p)
    return 0.0, upper - p.K, 0.0, p.K - lower


def advantages(p: GameParams, x: float, y: float) -> tuple[float, float]:
    """(Δ_H(y), Δ_L(x)): what supporting and accepting gain over the other strategy, in yuan."""
    a0, a1, b0, b1 = _coefficients(p)
    return a0 + a1 * y, b0 + b1 * x


def compensation_window(p: GameParams) -> tuple[float, float]:
    """(lower, upper) = (D_L − B_L − P, B_H − c_H + s); empty when lower ≥ upper."""
    return p.D_L - p.B_L - p.P, p.B_H - p.c_H + p.s


def in_window(p: GameParams, K: float | None = None) -> bool:
    """Whether compensation K (default: p.K) makes (support, accept) stable; bounds excluded."""
    lower, upper = compensation_window(p)
    k = p.K if K is None else float(K)
    return lower < k < upper


def jacobian(p: GameParams, x: float, y: float, payoff_scale: float = 1.0) -> FloatArray:
    """Jacobian of (ẋ, ẏ) at (x, y), payoffs divided by `payoff_scale`."""
    a0, a1, b0, b1 = (c / payoff_scale for c in _coefficients(p))
    dh = a0 + a1 * y
    dl = b0 + b1 * x
    return np.array(
        [
            [(1 - 2 * x) * dh, x * (1 - x) * a1],
            [y * (1 - y) * b1, (1 - 2 * y) * dl],
        ]
    )


def replicator(
    p: GameParams,
    x0: float,
    y0: float,
    t_max: float = 50.0,
    steps: int = 501,
    *,
    payoff_scale: float = 10_000.0,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Integrate the replicator equations from (x0, y0); returns (t, x, y) at `steps` times."""
    if not (0.0 <= x0 <= 1.0 and 0.0 <= y0 <= 1.0):
        raise ValueError("x0 and y0 are population shares in [0, 1]")
    if t_max <= 0 or steps < 2:
        raise ValueError("t_max must be positive and steps at least 2")
    if payoff_scale <= 0:
        raise ValueError("payoff_scale must be positive")
    a0, a1, b0, b1 = (c / payoff_scale for c in _coefficients(p))

    def rhs(_t: float, z: FloatArray) -> list[float]:
        x, y = z
        return [x * (1 - x) * (a0 + a1 * y), y * (1 - y) * (b0 + b1 * x)]

    t = np.linspace(0.0, t_max, steps)
    sol = solve_ivp(rhs, (0.0, t_max), [x0, y0], t_eval=t, method="LSODA", rtol=1e-8, atol=1e-10)
    if not sol.success:
        raise RuntimeError(f"replicator integration failed: {sol.message}")
    # The simplex is invariant; clipping only removes integration round-off.
    x = np.clip(np.asarray(sol.y[0], dtype=np.float64), 0.0, 1.0)
    y = np.clip(np.asarray(sol.y[1], dtype=np.float64), 0.0, 1.0)
    return np.asarray(sol.t, dtype=np.float64), x, y


def _equilibrium(p: GameParams, x: float, y: float) -> Equilibrium:
    ev = np.linalg.eigvals(jacobian(p, x, y))
    pair = (complex(ev[0]), complex(ev[1]))
    return Equilibrium(x=x, y=y, stable=bool(np.all(ev.real < 0)), eigenvalues=pair)


def equilibria(p: GameParams) -> list[Equilibrium]:
    """The four pure corners and, where it exists, the interior rest point.

    Eigenvalues are in yuan per unit time (payoff scale 1). The interior point solves
    Δ_H(y*) = 0 and Δ_L(x*) = 0 inside the open square; for the matrix above it exists only in
    the degenerate cases K = upper or K = lower bound, when whole edges are at rest, and is
    then not reported.
    """
    found = [_equilibrium(p, x, y) for x, y in ((0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0))]
    a0, a1, b0, b1 = _coefficients(p)
    if a1 != 0 and b1 != 0:
        y_star = -a0 / a1
        x_star = -b0 / b1
        if 0 < x_star < 1 and 0 < y_star < 1:
            found.append(_equilibrium(p, x_star, y_star))
    return found


def stable_outcome(p: GameParams) -> str:
    """Where the dynamics from an interior start end: a key of `OUTCOMES`."""
    dh, dl = advantages(p, 1.0, 1.0)
    if dh > 0 and dl > 0:
        return "support_accept"
    if dh > 0:
        return "object"
    if dl > 0:
        return "free_ride"
    return "stalemate"
