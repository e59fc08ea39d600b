"""Benchmark calibration: ABC-SMC on the synthetic street, recovered against true values.

    python benchmarks/calibrate_bench.py [--quick] [--units N] [--particles N]
        [--generations N] [--workers N] [--scheduler ADDR] [--seed 0] [--json-out FILE]

A street of `--units` units is drawn from the known parameter set `TRUE_VALUES`
(`colift.calibrate.synthetic`); ABC-SMC fits all calibrated parameters on three quarters of the
units and the held-out check scores the rest. Printed: units, simulations (model runs) and
unit-simulations per second, wall time, each parameter's true value, posterior median and 90 %
interval, whether the interval holds the true value, and the held-out scores of the calibrated
and of the uncalibrated model. With `--workers N` (a local Dask cluster of N processes) or
`--scheduler` the same fit runs on Dask too, and the bench prints the speed-up over the serial
run and whether the posteriors are identical (they must be: proposals and seeds are fixed before
they are sent). The load average is printed beside the figures: compare only runs side by side.

A calibration round on Dask (always, unless --no-round): one generation's proposals
(`--round` parameter sets drawn from the prior, default twice the particles) simulated on the
training street through `DaskMapper` on a local cluster of 1 and of 2 worker processes (the
model is NumPy-heavy Python: processes, not threads, so the GIL does not serialise them); each
cluster is started and warmed first, the round is timed best of `--round-repeat`, the outputs
must be identical, and the bench prints the speed-up of 2 workers over 1 (target ≥ 1.7×).

--quick: 80 units, 24 particles, 2 generations, a round of 48 proposals.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from colift.calibrate.synthetic import TRUE_VALUES, synthetic_street
from colift.sim.params import Scenario


def run(args: argparse.Namespace, mapper: Any = None) -> dict[str, Any]:
    from colift.services.calibration import fit

    batch, obs = synthetic_street(args.units, args.seed, max_span=args.max_span)
    t0 = time.perf_counter()
    out = fit(
        batch,
        obs,
        Scenario(),
        particles=args.particles,
        generations=args.generations,
        seed=args.seed,
        mapper=mapper,
    )
    out["wall_s"] = time.perf_counter() - t0
    return out


def report(label: str, out: dict[str, Any]) -> dict[str, Any]:
    wall = out["wall_s"]
    figures = {
        "label": label,
        "units": out["units"],
        "simulations": out["simulations"],
        "simulations_per_s": out["simulations"] / wall,
        "unit_simulations_per_s": out["unit_simulations"] / wall,
        "wall_s": wall,
        "loadavg": os.getloadavg(),
    }
    print(
        f"[{label}] {out['units']} units, {out['simulations']} simulations in {wall:.1f} s: "
        f"{figures['simulations_per_s']:.1f} sim/s, "
        f"{figures['unit_simulations_per_s']:.0f} unit-sim/s; load {os.getloadavg()[0]:.2f}"
    )
    print(f"{'parameter':26} {'true':>7} {'median':>8} {'90% interval':>19}  holds  informed")
    recovered = {}
    for r in out["parameters"]:
        true = TRUE_VALUES[r["name"]]
        lo, hi = r["interval90"]
        holds = lo <= true <= hi
        recovered[r["name"]] = {"true": true, "median": r["median"], "interval90": [lo, hi]}
        print(
            f"{r['name']:26} {true:7.3g} {r['median']:8.3g} {lo:9.3g} – {hi:7.3g}  "
            f"{'yes' if holds else 'NO ':5}  {'yes' if r['informed'] else 'no'}"
        )
    held = out["heldout"]
    for key in ("brier_consent", "mae_weeks_to_consent", "stage_accuracy"):
        print(
            f"  held-out {key}: calibrated {held['calibrated'][key]:.3f}, "
            f"uncalibrated {held['uncalibrated'][key]:.3f}"
        )
    figures["recovered"] = recovered
    figures["heldout"] = held
    return figures


def round_on_workers(args: argparse.Namespace) -> dict[str, Any]:
    """One calibration round (a generation's proposals) on 1 and on 2 local worker processes."""
    import numpy as np

    from colift.calibrate.priors import default_prior
    from colift.calibrate.simulator import DaskMapper, UnitsSimulator
    from colift.sim.sweep import dask_client

    batch, obs = synthetic_street(args.units, args.seed, max_span=args.max_span)
    prior = default_prior()
    sim = UnitsSimulator(batch, obs.span, Scenario(), prior.names, obs.group)
    n = args.round or 2 * args.particles
    thetas = list(prior.sample(np.random.default_rng(args.seed), n))
    seeds = list(range(n))
    out: dict[str, Any] = {"proposals": n, "units": args.units}
    results = {}
    for workers in (1, 2):
        t0 = time.perf_counter()
        with dask_client(None, workers) as client:
            mapper = DaskMapper(client)
            mapper(sim, thetas[:workers], seeds[:workers])  # scatter the street, import the model
            start = time.perf_counter() - t0
            best = float("inf")
            for _ in range(args.round_repeat):
                t1 = time.perf_counter()
                got = mapper(sim, thetas, seeds)
                best = min(best, time.perf_counter() - t1)
        results[workers] = got
        out[f"workers_{workers}_s"] = best
        out[f"workers_{workers}_start_s"] = start
        print(
            f"[round] {n} proposals × {args.units} units on {workers} worker(s): {best:.2f} s "
            f"(cluster start and warm-up {start:.2f} s); load {os.getloadavg()[0]:.2f}"
        )
    out["identical"] = all(
        np.array_equal(a, b, equal_nan=True) for a, b in zip(results[1], results[2], strict=True)
    )
    out["speedup"] = out["workers_1_s"] / out["workers_2_s"]
    out["target"] = 1.7
    status = "met" if out["speedup"] >= 1.7 else "NOT met"
    print(
        f"round 1 → 2 workers: speed-up {out['speedup']:.2f}× (target ≥ 1.7×: {status}), "
        f"identical: {out['identical']}"
    )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--units", type=int, default=400)
    p.add_argument("--particles", type=int, default=100)
    p.add_argument("--generations", type=int, default=4)
    p.add_argument("--max-span", type=int, default=156)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--scheduler", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--round", type=int, default=0, help="proposals in the Dask round")
    p.add_argument("--round-repeat", type=int, default=2)
    p.add_argument("--no-round", action="store_true", help="skip the 1 vs 2 worker round")
    p.add_argument("--no-fit", action="store_true", help="only the 1 vs 2 worker round")
    p.add_argument("--json-out", default=None)
    args = p.parse_args(argv)
    if args.quick:
        args.units, args.particles, args.generations, args.max_span = 80, 24, 2, 78
    figures: dict[str, Any] = {"loadavg_start": os.getloadavg()}
    if not args.no_round:
        figures["round"] = round_on_workers(args)
    if args.no_fit:
        print(json.dumps(figures, default=float))
        return 0
    serial = run(args)
    figures["serial"] = report("serial", serial)
    if args.workers > 0 or args.scheduler:
        from colift.calibrate.simulator import DaskMapper
        from colift.sim.sweep import dask_client

        with dask_client(args.scheduler, max(args.workers, 1)) as client:
            client.submit(sum, [1]).result()  # workers up before the clock starts
            dask = run(args, DaskMapper(client))
        figures["dask"] = report("dask", dask)
        same = serial["parameters"] == dask["parameters"]
        figures["dask_identical"] = same
        figures["dask_speedup"] = serial["wall_s"] / dask["wall_s"]
        print(f"dask vs serial: speed-up {figures['dask_speedup']:.2f}×, identical: {same}")
    print(json.dumps(figures, default=float))
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as fh:
            json.dump(figures, fh, default=float, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
