"""ABC-SMC (Beaver et al. 2009; Toni et al. 2009) in NumPy: a compact, deterministic sampler.

Why not pyabc: see docs/calibration.md. In short, the simulation is vectorised over units, so
one model call gives a whole data set's summaries; a sampler that hands out proposals in fixed
batches and gets their summaries back in order (from a plain `map` or a Dask cluster alike)
gives bit-identical results wherever it runs, and needs nothing beyond NumPy.

The parameters are sampled in the unit cube of the prior box. Generation 0 draws from the prior;
each later one sets its tolerance to a quantile of the previous distances, proposes by moving a
particle drawn by weight with a Gaussian kernel (twice the weighted covariance), simulates, and
keeps proposals within the tolerance; weights are prior / kernel mixture. Distances are Euclidean
on the summaries divided by their spread under the prior (from generation 0).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from colift.calibrate.priors import Prior

Simulator = Callable[[NDArray[np.float64], int], NDArray[np.float64]]
# mapper(simulator, thetas, seeds) -> summaries, in the order given
Mapper = Callable[[Simulator, Sequence[NDArray[np.float64]], Sequence[int]], list[Any]]


def serial_map(
    sim: Simulator, thetas: Sequence[NDArray[np.float64]], seeds: Sequence[int]
) -> list[Any]:
    return [sim(t, s) for t, s in zip(thetas, seeds, strict=True)]


@dataclass
class AbcResult:
    names: tuple[str, ...]
    particles: NDArray[np.float64]  # (N, d) in the parameters' own units
    weights: NDArray[np.float64]  # (N,), sum 1
    distances: NDArray[np.float64]
    epsilons: list[float] = field(default_factory=list)
    simulations: int = 0
    observed: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    scale: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    acceptance: list[float] = field(default_factory=list)
    # generation 0: the prior's particles and their summaries (what moves with what)
    prior_particles: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    prior_summaries: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    used: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    # leave-one-out R² of each parameter predicted from the summaries under the prior
    predictability: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    def informed_by(
        self, names: Sequence[str], threshold: float = 0.3
    ) -> dict[str, list[tuple[str, float]]]:
        """Per parameter, the summaries that move with it under the prior (|Spearman ρ| ≥
        `threshold` over generation 0), strongest first: where its information comes from."""
        out: dict[str, list[tuple[str, float]]] = {}
        if self.prior_particles.size == 0:
            return {n: [] for n in self.names}

        def rank(x: NDArray[np.float64]) -> NDArray[np.float64]:
            r = np.empty(x.size)
            r[np.argsort(x, kind="stable")] = np.arange(x.size)
            return r

        for i, name in enumerate(self.names):
            rows = []
            px = rank(self.prior_particles[:, i])
            for j, summary in enumerate(names):
                if not self.used[j]:
                    continue
                y = self.prior_summaries[:, j]
                ok = np.isfinite(y)
                if ok.sum() < 4 or np.ptp(y[ok]) == 0:
                    continue
                rho = float(np.corrcoef(rank(px[ok]), rank(y[ok]))[0, 1])
                if abs(rho) >= threshold:
                    rows.append((summary, round(rho, 2)))
            out[name] = sorted(rows, key=lambda r: -abs(r[1]))
        return out

    def draw(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        """`n` parameter vectors drawn from the weighted particles."""
        idx = rng.choice(self.weights.size, size=n, p=self.weights)
        return self.particles[idx]


def _seed(*key: int) -> int:
    return int(np.random.SeedSequence(list(key)).generate_state(1)[0])


def _weighted_cov(x: NDArray[np.float64], w: NDArray[np.float64]) -> NDArray[np.float64]:
    mean = w @ x
    dx = x - mean
    cov = (dx * w[:, None]).T @ dx
    return np.atleast_2d(cov) + 1e-8 * np.eye(x.shape[1])


def _kernel_mix(
    new: NDArray[np.float64], old: NDArray[np.float64], w: NDArray[np.float64], cov: NDArray[Any]
) -> NDArray[np.float64]:
    """Σ_j w_j N(new | old_j, cov) for each row of `new`."""
    inv = np.linalg.inv(cov)
    _, logdet = np.linalg.slogdet(cov)
    d = new.shape[1]
    diff = new[:, None, :] - old[None, :, :]
    q = np.einsum("ijk,kl,ijl->ij", diff, inv, diff)
    dens = np.exp(-0.5 * q - 0.5 * (logdet + d * np.log(2 * np.pi)))
    mixed: NDArray[np.float64] = dens @ w
    return mixed


def _propose(
    rng: np.random.Generator,
    u: NDArray[np.float64],
    weights: NDArray[np.float64],
    cov: NDArray[np.float64],
    m: int,
    prior: Prior,
) -> NDArray[np.float64]:
    """`m` moves of particles drawn by weight, redrawn until inside the prior's support."""
    out = np.empty((0, u.shape[1]))
    span = prior.high - prior.low
    for _ in range(1000):
        idx = rng.choice(u.shape[0], size=m, p=weights)
        prop = u[idx] + rng.multivariate_normal(np.zeros(u.shape[1]), cov, size=m)
        out = np.vstack([out, prop[prior.inside(prior.low + prop * span)]])
        if out.shape[0] >= m:
            break
    return out[:m]


def _from_prior(rng: np.random.Generator, prior: Prior, n: int) -> NDArray[np.float64]:
    """`n` points of the unit cube whose parameters lie in the prior's support."""
    out = np.empty((0, prior.dim))
    span = prior.high - prior.low
    for _ in range(1000):
        u = rng.random((n, prior.dim))
        out = np.vstack([out, u[prior.inside(prior.low + u * span)]])
        if out.shape[0] >= n:
            break
    return out[:n]


RIDGE = 0.1  # ridge penalty per pilot simulation, on standardized summaries
ADJUST_R2 = 0.5  # adjust only parameters the summaries predict at least this well


def _projection(
    sims: NDArray[np.float64],
    centre: NDArray[np.float64],
    scale: NDArray[np.float64],
    u: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Semi-automatic summaries (Fearnhead & Prangle 2012): a ridge regression of each
    parameter (in the unit cube) on the standardized summaries of generation 0. Distances are
    then taken between the fitted parameters, one number per parameter: a summary that moves
    with no parameter adds no noise, and a parameter no summary predicts adds almost none
    (its fitted values hardly vary)."""
    z = (sims - centre) / scale
    z = np.where(np.isnan(z), 0.0, z)
    x = np.hstack([np.ones((z.shape[0], 1)), z])
    penalty = RIDGE * z.shape[0] * np.eye(x.shape[1])
    penalty[0, 0] = 0.0
    inv = np.linalg.inv(x.T @ x + penalty)
    coef: NDArray[np.float64] = inv @ x.T @ u
    # leave-one-out R² of each parameter's fit (ridge hat matrix): how well the summaries
    # predict it, not inflated by fitting many summaries to few simulations
    hat = np.einsum("ij,jk,ik->i", x, inv, x)
    loo = (u - x @ coef) / np.maximum(1.0 - hat, 1e-6)[:, None]
    var = u.var(axis=0) * u.shape[0]
    r2: NDArray[np.float64] = 1.0 - (loo**2).sum(axis=0) / np.maximum(var, 1e-12)
    return coef, r2


def _adjust(
    u: NDArray[np.float64],
    w: NDArray[np.float64],
    f: NDArray[np.float64],
    target: NDArray[np.float64],
    prior: Prior,
    r2: NDArray[np.float64] | None,
) -> NDArray[np.float64]:
    """Linear regression adjustment of the last population (Beaumont, Zhang & Balding 2002),
    one parameter at a time on its own fitted feature: θ_i ← θ_i − β_i (f_i(s) − f_i(s_obs)),
    β_i the weighted slope of θ_i on f_i, so that what is left of the tolerance does not widen
    the posterior. One slope per parameter (not a regression on every feature) keeps the fit
    honest on a few dozen particles. Only the parameters the summaries predict (leave-one-out
    R² ≥ ADJUST_R2 in generation 0) are adjusted: for the others the slope would mostly fit
    noise and feign certainty. Adjusted points are kept inside the prior's box."""
    if r2 is None or f.shape[1] != u.shape[1] or u.shape[0] < 8:
        return u
    dx = f - target
    mean_x = w @ dx
    mean_u = w @ u
    cov = w @ ((dx - mean_x) * (u - mean_u))
    var = w @ ((dx - mean_x) ** 2)
    beta = np.where(var > 1e-12, cov / np.maximum(var, 1e-12), 0.0)
    beta = np.where(r2 >= ADJUST_R2, beta, 0.0)
    adjusted = np.clip(u - dx * beta, 0.0, 1.0)
    # an adjusted point outside an order constraint of the prior keeps its own value
    span = prior.high - prior.low
    ok = prior.inside(prior.low + adjusted * span)
    result: NDArray[np.float64] = np.where(ok[:, None], adjusted, u)
    return result


def abc_smc(
    simulate: Simulator,
    observed: NDArray[np.float64],
    prior: Prior,
    *,
    particles: int = 100,
    generations: int = 4,
    seed: int = 0,
    quantile: float = 0.5,
    max_rounds: int = 8,
    mapper: Mapper | None = None,
    project: bool = True,
    adjust: bool = True,
) -> AbcResult:
    """Posterior particles for `prior` given `observed` summaries; see the module docstring."""
    if particles < 4 or generations < 1:
        raise ValueError("need at least 4 particles and 1 generation")
    run = mapper or serial_map
    span = prior.high - prior.low
    # Summaries the record does not have (NaN) are left out of the distance.
    observed = np.asarray(observed, float)
    used = np.isfinite(observed)
    rng0 = np.random.default_rng(_seed(seed, 0))
    u = _from_prior(rng0, prior, particles)
    thetas = prior.low + u * span
    sims_all = np.asarray(
        run(simulate, list(thetas), [_seed(seed, 0, 0, k) for k in range(particles)]), float
    )
    # ... and so are those the simulator cannot give (NaN in every prior simulation)
    used &= np.isfinite(sims_all).any(axis=0) if sims_all.size else used
    sims = sims_all[:, used]
    obs_used = observed[used]
    scale = np.nanstd(sims, axis=0) if sims.size else np.zeros(0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    centre = np.nanmean(sims, axis=0) if sims.size else np.zeros(0)
    coef, r2 = _projection(sims, centre, scale, u) if project else (None, None)

    def features(out: NDArray[np.float64]) -> NDArray[np.float64]:
        z = (out - centre) / scale
        if coef is None:
            return z
        z = np.where(np.isnan(z), 0.0, z)
        fitted: NDArray[np.float64] = np.hstack([np.ones((z.shape[0], 1)), z]) @ coef
        return fitted

    target = features(obs_used[None, :])[0]

    def distance(out: NDArray[np.float64]) -> NDArray[np.float64]:
        d = np.sqrt(((features(out) - target) ** 2).sum(axis=1))
        return np.where(np.isnan(d), np.inf, d)

    dist = distance(sims)
    feats = features(sims)
    weights = np.full(particles, 1.0 / particles)
    total = particles
    epsilons = [float("inf")]
    acceptance = [1.0]
    for gen in range(1, generations):
        eps = float(np.quantile(dist, quantile))
        cov = 2.0 * _weighted_cov(u, weights)
        rng = np.random.default_rng(_seed(seed, gen))
        kept_u: list[NDArray[np.float64]] = []
        kept_d: list[float] = []
        kept_f: list[NDArray[np.float64]] = []
        tried = 0
        for rnd in range(max_rounds):
            need = particles - len(kept_u)
            m = max(need * 2, 8)
            prop = _propose(rng, u, weights, cov, m, prior)
            seeds = [_seed(seed, gen, rnd, k) for k in range(m)]
            out = np.asarray(run(simulate, list(prior.low + prop * span), seeds), float)
            tried += m
            f = features(out[:, used])
            d = distance(out[:, used])
            for k in range(m):
                if d[k] <= eps and len(kept_u) < particles:
                    kept_u.append(prop[k])
                    kept_d.append(float(d[k]))
                    kept_f.append(f[k])
            if len(kept_u) >= particles:
                break
        total += tried
        if len(kept_u) < 4:  # tolerance out of reach: keep the last population
            break
        new_u = np.asarray(kept_u)
        # A uniform prior on its support: its density is the same everywhere inside.
        mix = _kernel_mix(new_u, u, weights, cov)
        new_w = 1.0 / np.maximum(mix, 1e-300)
        weights = new_w / new_w.sum()
        u, dist, feats = new_u, np.asarray(kept_d), np.asarray(kept_f)
        epsilons.append(eps)
        acceptance.append(len(kept_u) / tried)
    return AbcResult(
        names=prior.names,
        particles=prior.low
        + (_adjust(u, weights, feats, target, prior, r2) if adjust else u) * span,
        predictability=np.full(prior.dim, np.nan) if r2 is None else r2,
        weights=weights,
        distances=dist,
        epsilons=epsilons,
        simulations=total,
        observed=np.asarray(observed, float),
        scale=scale,
        acceptance=acceptance,
        prior_particles=thetas,
        prior_summaries=sims_all,
        used=used,
    )
