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
) -> AbcResult:
    """Posterior particles for `prior` given `observed` summaries; see the module docstring."""
    if particles < 4 or generations < 1:
        raise ValueError("need at least 4 particles and 1 generation")
    run = mapper or serial_map
    span = prior.high - prior.low
    rng0 = np.random.default_rng(_seed(seed, 0))
    u = _from_prior(rng0, prior, particles)
    thetas = prior.low + u * span
    sims = np.asarray(
        run(simulate, list(thetas), [_seed(seed, 0, 0, k) for k in range(particles)]), float
    )
    scale = sims.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    dist = np.sqrt((((sims - observed) / scale) ** 2).sum(axis=1))
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
        tried = 0
        for rnd in range(max_rounds):
            need = particles - len(kept_u)
            m = max(need * 2, 8)
            prop = _propose(rng, u, weights, cov, m, prior)
            seeds = [_seed(seed, gen, rnd, k) for k in range(m)]
            out = np.asarray(run(simulate, list(prior.low + prop * span), seeds), float)
            tried += m
            d = np.sqrt((((out - observed) / scale) ** 2).sum(axis=1))
            for k in range(m):
                if d[k] <= eps and len(kept_u) < particles:
                    kept_u.append(prop[k])
                    kept_d.append(float(d[k]))
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
        u, dist = new_u, np.asarray(kept_d)
        epsilons.append(eps)
        acceptance.append(len(kept_u) / tried)
    return AbcResult(
        names=prior.names,
        particles=prior.low + u * span,
        weights=weights,
        distances=dist,
        epsilons=epsilons,
        simulations=total,
        observed=np.asarray(observed, float),
        scale=scale,
        acceptance=acceptance,
    )
