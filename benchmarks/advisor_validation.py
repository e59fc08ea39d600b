"""Does following the advisor beat the generic guided plan? Success rates with 95 % intervals.

    python benchmarks/advisor_validation.py [--quick] [--units N] [--seeds K] [--weeks W]

The validation set: synthetic 1990s walk-ups of 5-7 storeys, two flats a floor
(`UnitBatch.synthetic`, default heterogeneity), Civil Code art. 278, the default scenario,
a horizon past the 156-week deadline so that every unit is decided. Each strategy runs on the
same units with the same seeds. Printed per strategy: success rate, its Wilson 95 % interval,
median weeks to service, failure causes; then whether the intervals of `advisor` and `guided`
overlap, and the load average beside the figures (the machine may be shared).

--quick: 200 units, 1 seed (seconds); the default is 1000 units × 3 seeds.
--ability-median-yuan 40000: a poorer validation set, where money decides more often.
The last line is JSON with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import numpy as np

from colift.sim import Scenario, UnitBatch, UnitModel, wilson
from colift.sim.regeneration import next_action

STRATEGIES = ("informal_only", "informal_leaders", "guided", "advisor")
DECIDED = 160


def measure(
    units: int,
    seeds: int,
    weeks: int,
    strategies: tuple[str, ...],
    ability_median_fen: int | None = None,
) -> dict[str, Any]:
    base = Scenario(weeks=weeks)
    if ability_median_fen is not None:
        base = base.replace(**{"defaults.ability_median_fen": ability_median_fen})
    out: dict[str, Any] = {}
    batches = [
        UnitBatch.synthetic(units, base, np.random.default_rng(1000 + s), storeys=(5, 6, 7))
        for s in range(seeds)
    ]
    for name in strategies:
        successes = n = 0
        regenerating = 0
        causes: dict[str, int] = {}
        service: list[np.ndarray] = []
        start = time.perf_counter()
        for s, batch in enumerate(batches):
            result = UnitModel(batch, base.replace(strategy=name), seed=s).run()
            summary = result.summary()
            successes += int(summary["successes"])
            n += int(summary["units"])
            for cause, k in summary["failure_causes"].items():
                causes[cause] = causes.get(cause, 0) + int(k)
            service.append(result.week_service[result.success])
            regenerating += next_action(result).co_produced
        weeks_in = np.concatenate(service) if service else np.array([])
        lo, hi = wilson(successes, n)
        out[name] = {
            "units": n,
            "successes": successes,
            "success_rate": successes / n if n else 0.0,
            "ci95": [lo, hi],
            "median_weeks_to_service": float(np.median(weeks_in)) if weeks_in.size else None,
            "failure_causes": dict(sorted(causes.items(), key=lambda kv: -kv[1])),
            "regeneration_share": regenerating / n if n else 0.0,
            "seconds": time.perf_counter() - start,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="200 units, 1 seed")
    parser.add_argument("--units", type=int, default=None)
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--weeks", type=int, default=DECIDED)
    parser.add_argument(
        "--ability-median-yuan",
        type=int,
        default=None,
        help="median ability to pay in yuan (default: the model's ¥120,000); e.g. 40000 for poorer units",
    )
    args = parser.parse_args()
    units = args.units or (200 if args.quick else 1000)
    seeds = args.seeds or (1 if args.quick else 3)
    load_before = os.getloadavg()
    median = None if args.ability_median_yuan is None else args.ability_median_yuan * 100
    table = measure(units, seeds, args.weeks, STRATEGIES, median)
    load_after = os.getloadavg()
    print(
        f"{'strategy':<18}{'success':>9}  {'95% interval':<17}{'median wk':>10}{'regen':>7}  causes"
    )
    for name, row in table.items():
        lo, hi = row["ci95"]
        causes = ", ".join(f"{c} {k}" for c, k in list(row["failure_causes"].items())[:4])
        med = row["median_weeks_to_service"]
        print(
            f"{name:<18}{row['success_rate']:>9.3f}  [{lo:.3f}, {hi:.3f}]   "
            f"{'—' if med is None else f'{med:.0f}':>8}{row['regeneration_share']:>7.2f}  {causes}"
        )
    adv, gui = table["advisor"]["ci95"], table["guided"]["ci95"]
    if adv[0] > gui[1]:
        verdict = "advisor beats guided: the 95 % intervals do not overlap"
    elif gui[0] > adv[1]:
        verdict = "guided beats advisor: the 95 % intervals do not overlap"
    else:
        verdict = "no difference shown: the 95 % intervals of advisor and guided overlap"
    print(verdict)
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(
        json.dumps(
            {
                "units": units,
                "seeds": seeds,
                "weeks": args.weeks,
                "ability_median_fen": median,
                "strategies": table,
                "verdict": verdict,
                "loadavg": [load_before[0], load_after[0]],
            }
        )
    )


if __name__ == "__main__":
    main()
