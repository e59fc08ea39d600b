"""Benchmark the simulation: colift's vectorized unit model against a plain Mesa reference,
a city of a million households, and a Dask sweep with one and two workers.

    python benchmarks/sim_bench.py [--quick] [--parts mesa,city,round,dask] [--profile]
                                   [--seed 0] [--json-out FILE]

Parts (each runs on its own; a failing part is reported and the others go on):

1. mesa: the same synthetic units (12 households, 104 weeks, strategy "guided", Civil Code
   art. 278) simulated by `colift.sim.UnitModel` and by `benchmarks/mesa_unit.py`; seconds to
   build (from the unit specs: arrays and the exact cost split) and to run each, and the ratios
   of build + run and of run alone. colift's build from an already built `UnitBatch` (what a
   calibration round repeats) is shown beside. Both outcomes are printed so one can see they simulate
   the same model. When the Mesa side would take over `--mesa-budget` seconds it runs on fewer
   units and its time is scaled linearly (the output says so).
2. city: one million households (`UnitBatch.synthetic`, about 83,000 units) for 104 weeks in a
   subprocess of its own, so the peak resident memory (ru_maxrss) is the city's alone.
3. round: a calibration-like round: parameter sets drawn in the ranges of
   `colift/sim/defaults.toml` (`Params.with_overrides`), each simulating the same prepared
   units for 104 weeks; unit-simulations per second (10,000 of them; 2,000 with --quick).
4. dask: 64 scenario-seed tasks through `colift.sim.sweep.sweep` on a local cluster of one and
   of two worker processes, each started first and reached by its scheduler address as a real
   cluster would be; the sweep's speed-up of two workers over one. Starting each local cluster
   (its workers importing the model) is timed on its own and the speed-up with it counted in
   is printed beside. On the same clusters, a calibration round: as many parameter sets (drawn
   in the data file's ranges) as the sweep has tasks, through `sweep` with a list of points.

--profile prints cProfile's top functions for colift's build and run (to stderr).

--quick: 100 units, a 100,000-household city, a 2,000 unit-simulation round and a smaller sweep. The table ends with one line
of JSON holding every figure.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # mesa_unit lives beside this file

TARGETS = {"mesa_ratio": 100.0, "city_seconds": 60.0, "city_peak_gb": 4.0, "dask_speedup": 1.7}
WEEKS = 104
HOUSEHOLDS_PER_UNIT = 12  # 6 storeys × 2 flats per floor


def _peak_bytes(maxrss: int) -> int:
    """ru_maxrss is KiB on Linux and bytes on macOS."""
    return maxrss if sys.platform == "darwin" else maxrss * 1024


def _wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))


# ---------------------------------------------------------------- 1. Mesa vs colift


def _flats_of(spec: Any) -> list[Any]:
    """A colift UnitSpec as the reference model's plain flats (stack = order on the floor)."""
    from mesa_unit import Flat

    seen: dict[int, int] = {}
    out = []
    for h in spec.households:
        stack = seen.get(h.floor, 0)
        seen[h.floor] = stack + 1
        if h.tenure.developer_held:
            tenure = "developer"
        else:
            tenure = {"owner_occupied": "owner", "rented": "rented"}.get(h.tenure.value, "absentee")
        out.append(
            Flat(
                floor=h.floor,
                stack=stack,
                area_cm2=h.area_cm2,
                owner=h.owner,
                tenure=tenure,
                elderly=h.elderly,
                need=h.need,
                party=h.party,
                ability_fen=h.ability_fen,
                leader=h.leader,
                occupied=h.occupied,
                support=h.support,
            )
        )
    return out


_CPU: list[float] = [0.0]  # CPU seconds of the last `_timed` call


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall seconds (and, in _CPU[0], this process's CPU seconds) of one call."""
    c0, t0 = time.process_time(), time.perf_counter()
    value = fn()
    _CPU[0] = time.process_time() - c0
    return time.perf_counter() - t0, value


def _profile(label: str, fn: Callable[[], Any], top: int = 14) -> None:
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    print(f"---- profile: {label}\n{out.getvalue()}", file=sys.stderr)


def bench_mesa(
    n_units: int, seed: int, repeat: int, budget_s: float, profile: bool = False
) -> dict[str, Any]:
    import numpy as np

    from colift.sim.batch import UnitBatch, synthetic_columns, synthetic_unit
    from colift.sim.model import UnitModel
    from colift.sim.params import Scenario
    from mesa_unit import RetrofitModel

    scenario = Scenario()  # strategy "guided", Civil Code art. 278, no subsidy, K = 0
    rng = np.random.default_rng(seed)
    specs = [synthetic_unit(rng, label=f"u{i}") for i in range(n_units)]
    # the same units, drawn the same way, as columns (one array per field for all flats)
    columns = synthetic_columns(np.random.default_rng(seed), n_units)
    units = [_flats_of(s) for s in specs]

    # colift: building the arrays from the columns (and, beside, from the specs), then 104
    # steps; best of `repeat` each, interleaved so that a busy spell hits all alike.
    c_build = c_specs = c_run = math.inf
    cpu = {"c_build": math.inf, "c_run": math.inf, "m_build": math.inf, "m_run": math.inf}
    c_summary: dict[str, Any] = {}
    for _ in range(repeat):
        ts, _m = _timed(lambda: UnitModel(specs, scenario, seed))
        tb, model = _timed(lambda: UnitModel(columns, scenario, seed))
        cpu["c_build"] = min(cpu["c_build"], _CPU[0])
        tr, result = _timed(lambda m=model: m.run(WEEKS))
        cpu["c_run"] = min(cpu["c_run"], _CPU[0])
        c_build, c_specs, c_run = min(c_build, tb), min(c_specs, ts), min(c_run, tr)
        c_summary = result.summary()
    same = bool(
        np.array_equal(_m.run(WEEKS).week_service, result.week_service)
        and np.array_equal(_m.batch.share_fen, model.batch.share_fen)
    )
    batch = UnitBatch.from_columns(columns, scenario)
    c_from_batch = min(_timed(lambda: UnitModel(batch, scenario, seed))[0] for _ in range(repeat))
    if profile:
        _profile(
            "colift build (UnitModel from columns)", lambda: UnitModel(columns, scenario, seed)
        )
        _profile("colift build (UnitModel from specs)", lambda: UnitModel(specs, scenario, seed))
        built = UnitModel(columns, scenario, seed)
        _profile("colift run (104 weeks)", lambda: built.run(WEEKS))

    # Mesa: a probe estimates the full time; over budget, run fewer units and scale.
    probe = min(n_units, max(10, n_units // 20))
    tp, _ = _timed(lambda: RetrofitModel(units[:probe], seed=seed).run_weeks(WEEKS))
    estimate = tp * n_units / probe
    n_mesa = n_units if estimate <= budget_s else max(probe, int(n_units * budget_s / estimate))
    runs = repeat if estimate * repeat <= budget_s else 1
    m_build = m_run = math.inf
    m_summary: dict[str, Any] = {}
    for _ in range(runs):
        tb, mesa_model = _timed(lambda: RetrofitModel(units[:n_mesa], seed=seed))
        cpu["m_build"] = min(cpu["m_build"], _CPU[0])
        tr, summary = _timed(lambda m=mesa_model: m.run_weeks(WEEKS))
        cpu["m_run"] = min(cpu["m_run"], _CPU[0])
        m_build, m_run = min(m_build, tb), min(m_run, tr)
        m_summary = summary.as_dict()
    scale = n_units / n_mesa
    m_build, m_run = m_build * scale, m_run * scale
    cpu["m_build"] *= scale
    cpu["m_run"] *= scale

    c_ok = c_summary["successes"]
    m_ok = m_summary["successes"]
    return {
        "units": n_units,
        "households": sum(len(u) for u in units),
        "weeks": WEEKS,
        "colift_build_s": round(c_build, 4),
        "colift_run_s": round(c_run, 4),
        "colift_total_s": round(c_build + c_run, 4),
        "colift_build_from_specs_s": round(c_specs, 4),
        "colift_build_from_batch_s": round(c_from_batch, 4),
        "colift_build_share_of_run": round(c_build / c_run, 2),
        "colift_columns_equal_specs": same,
        "colift_repeats": repeat,
        "mesa_units_measured": n_mesa,
        "mesa_scaled": n_mesa < n_units,
        "mesa_build_s": round(m_build, 3),
        "mesa_run_s": round(m_run, 3),
        "mesa_repeats": runs,
        "ratio_run": round(m_run / c_run, 1),
        "mesa_total_s": round(m_build + m_run, 3),
        "ratio_build": round(m_build / c_build, 1),
        "ratio_total": round((m_build + m_run) / (c_build + c_run), 1),
        "ratio_total_from_specs": round((m_build + m_run) / (c_specs + c_run), 1),
        # CPU seconds (best of the runs): less moved by other work on a shared machine
        "cpu_s": {k: round(v, 4) for k, v in cpu.items()},
        "ratio_total_cpu": round(
            (cpu["m_build"] + cpu["m_run"]) / max(cpu["c_build"] + cpu["c_run"], 1e-9), 1
        ),
        "colift_success": c_summary["success_rate"],
        "colift_success_ci95": [round(x, 3) for x in _wilson(c_ok, n_units)],
        "mesa_success": m_summary["success_rate"],
        "mesa_success_ci95": [round(x, 3) for x in _wilson(m_ok, n_mesa)],
        "colift_median_weeks_to_service": c_summary["weeks_to_service"]["median"],
        "mesa_median_weeks_to_service": m_summary["median_weeks_to_service"],
    }


# ---------------------------------------------------------------- 2. the city


def city_worker(households: int, seed: int) -> dict[str, Any]:
    """Runs in a subprocess: build and simulate the city, report time and own peak memory."""
    import numpy as np

    from colift.sim.batch import UnitBatch
    from colift.sim.model import UnitModel
    from colift.sim.params import Scenario

    scenario = Scenario()
    n_units = math.ceil(households / HOUSEHOLDS_PER_UNIT)
    tb, batch = _timed(lambda: UnitBatch.synthetic(n_units, scenario, np.random.default_rng(seed)))
    ti, model = _timed(lambda: UnitModel(batch, scenario, seed))
    tr, result = _timed(lambda: model.run(WEEKS))
    summary = result.summary()
    peak = _peak_bytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return {
        "households": int(batch.n_households),
        "units": int(batch.n_units),
        "weeks": WEEKS,
        "synthesize_s": round(tb, 3),
        "init_s": round(ti, 3),
        "run_s": round(tr, 3),
        "total_s": round(tb + ti + tr, 3),
        "peak_rss_mb": round(peak / 2**20, 1),
        "success_rate": summary["success_rate"],
    }


def bench_city(households: int, seed: int, timeout_s: float) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--city-worker",
        str(households),
        "--seed",
        str(seed),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"city worker exited with {proc.returncode}: " + " | ".join(tail))
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------- 3. Dask


def _load_model() -> None:
    import colift.sim.model
    import colift.sim.sweep  # noqa: F401


def bench_dask(n_units: int, seed: int, tasks: int) -> dict[str, Any]:
    """The sweep's speed-up from 1 to 2 workers, on clusters started beforehand.

    Each cluster is started first and the sweep is pointed at its scheduler address, as one
    points it at a real cluster; the start of each local cluster is timed on its own and
    reported, with the speed-up it would give if counted in.
    """
    try:
        from colift.sim.sweep import dask_client, sweep
    except ImportError as exc:
        return {"available": False, "reason": f"colift.sim.sweep not available ({exc})"}
    import numpy as np

    from colift.sim.batch import UnitBatch
    from colift.sim.params import Scenario

    scenario = Scenario()
    batch = UnitBatch.synthetic(n_units, scenario, np.random.default_rng(seed))
    grid = {"compensation_fen": [0, 500_000, 1_000_000, 2_000_000]}
    seeds = list(range(seed, seed + tasks // len(grid["compensation_fen"])))
    n_tasks = len(seeds) * len(grid["compensation_fen"])
    times: dict[int, float] = {}
    starts: dict[int, float] = {}
    rows: dict[int, list[dict[str, Any]]] = {}
    # A calibration round: as many parameter sets as the sweep has tasks, one seed each.
    sets = [
        {f"defaults.{k}": v for k, v in values.items()}
        for values in _draw_sets(n_tasks, np.random.default_rng(seed))
    ]
    round_times: dict[int, float] = {}
    round_rows: dict[int, list[dict[str, Any]]] = {}
    for k in (1, 2):
        t0 = time.perf_counter()
        with dask_client(None, k) as client:
            client.run(_load_model)  # each worker imports the model once, as a running one has
            starts[k] = time.perf_counter() - t0
            address = client.scheduler.address
            times[k], rows[k] = _timed(
                lambda a=address: sweep(batch, scenario, grid, seeds, scheduler=a)
            )
            round_times[k], round_rows[k] = _timed(
                lambda a=address: sweep(batch, scenario, sets, [seed], scheduler=a)
            )
    same = [r["summary"] for r in rows[1]] == [r["summary"] for r in rows[2]]
    return {
        "available": True,
        "tasks": n_tasks,
        "units_per_task": n_units,
        "one_worker_s": round(times[1], 2),
        "two_workers_s": round(times[2], 2),
        "speedup": round(times[1] / times[2], 2),
        "cluster_start_s": {str(k): round(v, 2) for k, v in starts.items()},
        "speedup_with_start": round((times[1] + starts[1]) / (times[2] + starts[2]), 2),
        "rows_identical": same,
        "round_one_worker_s": round(round_times[1], 2),
        "round_two_workers_s": round(round_times[2], 2),
        "round_speedup": round(round_times[1] / round_times[2], 2),
        "round_rows_identical": [r["summary"] for r in round_rows[1]]
        == [r["summary"] for r in round_rows[2]],
    }


# ---------------------------------------------------------------- 3. a calibration round


def _draw_sets(n_sets: int, rng: Any) -> list[dict[str, float | int]]:
    """Parameter sets drawn uniformly in the ranges of the packaged defaults file."""
    from colift.sim.params import parameter_table

    ranged = {k: v for k, v in parameter_table().items() if v.range is not None}
    sets = []
    for _ in range(n_sets):
        values: dict[str, float | int] = {}
        for name, info in sorted(ranged.items()):
            assert info.range is not None
            x = rng.uniform(*info.range)
            values[name] = round(x) if isinstance(info.value, int) else float(x)
        sets.append(values)
    return sets


def bench_round(n_units: int, n_sets: int, seed: int) -> dict[str, Any]:
    """`n_sets` parameter sets drawn uniformly in the data file's ranges, each run on the same
    prepared units: what one round of a likelihood-free calibration asks of the model."""
    import numpy as np

    from colift.sim.batch import UnitBatch
    from colift.sim.model import UnitModel
    from colift.sim.params import Scenario, parameter_table

    scenario = Scenario()
    rng = np.random.default_rng(seed)
    t_batch, batch = _timed(lambda: UnitBatch.synthetic(n_units, scenario, rng))
    ranged = sorted(k for k, v in parameter_table().items() if v.range is not None)
    draws = [scenario.with_params(values) for values in _draw_sets(n_sets, rng)]
    successes = []
    t0 = time.perf_counter()
    for k, drawn in enumerate(draws):
        successes.append(UnitModel(batch, drawn, seed + k).run(WEEKS).summary()["success_rate"])
    wall = time.perf_counter() - t0
    sims = n_units * n_sets
    return {
        "units": n_units,
        "parameter_sets": n_sets,
        "parameters_drawn": ranged,
        "unit_simulations": sims,
        "weeks": WEEKS,
        "prepare_units_s": round(t_batch, 3),
        "wall_s": round(wall, 2),
        "unit_simulations_per_s": round(sims / wall),
        "success_rate_range": [round(min(successes), 3), round(max(successes), 3)],
    }


# ---------------------------------------------------------------- report


def _status(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "NOT met")


def _rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    m = results.get("mesa", {})
    if "error" in m:
        rows.append(("mesa vs colift", "failed: " + m["error"], "", ""))
    elif m:
        scaled = (
            f" (Mesa measured on {m['mesa_units_measured']} units, scaled linearly)"
            if m["mesa_scaled"]
            else ""
        )
        size = f"{m['units']} units × {m['households'] // m['units']} hh × {m['weeks']} wk"
        rows += [
            (
                "colift build / run / total",
                f"{m['colift_build_s']:.3f} s / {m['colift_run_s']:.3f} s / "
                f"{m['colift_total_s']:.3f} s",
                "",
                f"{size}, built from columns, best of {m['colift_repeats']}",
            ),
            (
                "colift build from specs",
                f"{m['colift_build_from_specs_s']:.3f} s",
                "",
                "the same units as 12 flat objects each; same arrays and results: "
                + ("yes" if m["colift_columns_equal_specs"] else "NO"),
            ),
            (
                "colift build from a batch",
                f"{m['colift_build_from_batch_s']:.3f} s",
                "",
                f"build is {m['colift_build_share_of_run']:.2f} × run from columns; "
                "a calibration round rebuilds from one batch",
            ),
            (
                "Mesa build / run / total",
                f"{m['mesa_build_s']:.2f} s / {m['mesa_run_s']:.2f} s / {m['mesa_total_s']:.2f} s",
                "",
                f"{size}{scaled}",
            ),
            ("ratio, build", f"{m['ratio_build']:.1f}×", "", "Mesa / colift from columns"),
            (
                "ratio, run",
                f"{m['ratio_run']:.1f}×",
                f"≥ {TARGETS['mesa_ratio']:.0f}×",
                _status(m["ratio_run"] >= TARGETS["mesa_ratio"]),
            ),
            (
                "ratio, build + run",
                f"{m['ratio_total']:.1f}×",
                f"≥ {TARGETS['mesa_ratio']:.0f}×",
                _status(m["ratio_total"] >= TARGETS["mesa_ratio"])
                + f" (from specs: {m['ratio_total_from_specs']:.1f}×)",
            ),
            (
                "ratio, build + run, CPU",
                f"{m['ratio_total_cpu']:.1f}×",
                "",
                "CPU seconds, best of the runs: colift {c_build:.3f} + {c_run:.3f} s, "
                "Mesa {m_build:.2f} + {m_run:.2f} s".format(**m["cpu_s"]),
            ),
            (
                "success colift / Mesa",
                f"{m['colift_success']:.3f} {m['colift_success_ci95']} / "
                f"{m['mesa_success']:.3f} {m['mesa_success_ci95']}",
                "",
                "same model: CIs overlap"
                if m["colift_success_ci95"][0] <= m["mesa_success_ci95"][1]
                and m["mesa_success_ci95"][0] <= m["colift_success_ci95"][1]
                else "CIs disjoint",
            ),
        ]
    c = results.get("city", {})
    if "error" in c:
        rows.append(("city", "failed: " + c["error"], "", ""))
    elif c:
        rows += [
            (
                "city seconds",
                f"{c['total_s']:.1f} s",
                f"< {TARGETS['city_seconds']:.0f} s",
                _status(c["total_s"] < TARGETS["city_seconds"])
                + f" ({c['households']:,} hh, {c['units']:,} units; synth {c['synthesize_s']} s,"
                f" init {c['init_s']} s, run {c['run_s']} s)",
            ),
            (
                "city peak memory",
                f"{c['peak_rss_mb'] / 1024:.2f} GB",
                f"< {TARGETS['city_peak_gb']:.0f} GB",
                _status(c["peak_rss_mb"] / 1024 < TARGETS["city_peak_gb"]),
            ),
        ]
    r = results.get("round", {})
    if "error" in r:
        rows.append(("calibration round", "failed: " + r["error"], "", ""))
    elif r:
        rows.append(
            (
                "calibration round",
                f"{r['wall_s']:.2f} s",
                "seconds",
                f"{r['unit_simulations']:,} unit-simulations ({r['parameter_sets']} parameter "
                f"sets × {r['units']} units × {r['weeks']} wk), "
                f"{r['unit_simulations_per_s']:,}/s; success {r['success_rate_range']}",
            )
        )
    d = results.get("dask", {})
    if "error" in d:
        rows.append(("dask sweep", "failed: " + d["error"], "", ""))
    elif d and not d.get("available", False):
        rows.append(("dask sweep", "not available", "", d.get("reason", "")))
    elif d:
        rows += [
            (
                "dask 1 / 2 workers",
                f"{d['one_worker_s']:.1f} s / {d['two_workers_s']:.1f} s",  # running clusters
                "",
                f"{d['tasks']} tasks × {d['units_per_task']} units; rows identical: "
                f"{d['rows_identical']}",
            ),
            (
                "dask speed-up",
                f"{d['speedup']:.2f}×",
                f"≥ {TARGETS['dask_speedup']}×",
                _status(d["speedup"] >= TARGETS["dask_speedup"])
                + f" (sweep on a running cluster; {d['speedup_with_start']:.2f}× if the "
                f"cluster start of {d['cluster_start_s']['1']} s / "
                f"{d['cluster_start_s']['2']} s is counted in)",
            ),
            (
                "dask calibration round",
                f"{d['round_one_worker_s']:.1f} s / {d['round_two_workers_s']:.1f} s = "
                f"{d['round_speedup']:.2f}×",
                f"≥ {TARGETS['dask_speedup']}×",
                _status(d["round_speedup"] >= TARGETS["dask_speedup"])
                + f" ({d['tasks']} parameter sets × {d['units_per_task']} units; rows "
                f"identical: {d['round_rows_identical']})",
            ),
        ]
    return rows


def _print_table(rows: Sequence[tuple[str, str, str, str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(3)] if rows else [0, 0, 0]
    for name, value, target, note in rows:
        print(f"{name:<{widths[0]}}  {value:<{widths[1]}}  {target:<{widths[2]}}  {note}")


def _load() -> float | None:
    """The 1-minute load average: timings on a busy machine are not comparable."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _part(name: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    print(f"[{name}] running …", file=sys.stderr, flush=True)
    load = _load()
    t0 = time.perf_counter()
    try:
        out = fn()
    except Exception as exc:  # a failing part must not stop the others
        traceback.print_exc(file=sys.stderr)
        return {"error": f"{type(exc).__name__}: {exc}", "load_before": load}
    print(f"[{name}] done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return out | {"load_before": load, "load_after": _load()}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes for a fast check")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--parts", default="mesa,city,round,dask", help="comma-separated subset")
    ap.add_argument("--profile", action="store_true", help="cProfile colift's build and run")
    ap.add_argument("--units", type=int, help="units for the Mesa comparison")
    ap.add_argument("--households", type=int, help="households in the city")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per side, best counts")
    ap.add_argument("--dask-units", type=int, help="units in each sweep task")
    ap.add_argument(
        "--mesa-budget",
        type=float,
        default=120.0,
        help="seconds the Mesa side may take before it is scaled",
    )
    ap.add_argument("--json-out", type=Path)
    ap.add_argument("--city-worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.city_worker is not None:
        print(json.dumps(city_worker(args.city_worker, args.seed)))
        return 0

    units = args.units or (100 if args.quick else 1000)
    households = args.households or (100_000 if args.quick else 1_000_000)
    dask_units = args.dask_units or (300 if args.quick else 1000)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    results: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {_cpus()} CPUs",
        "targets": TARGETS,
    }
    if "mesa" in parts:
        results["mesa"] = _part(
            "mesa",
            lambda: bench_mesa(units, args.seed, args.repeat, args.mesa_budget, args.profile),
        )
    if "round" in parts:
        n_sets = 2 if args.quick else 10
        results["round"] = _part("round", lambda: bench_round(1000, n_sets, args.seed))
    if "city" in parts:
        results["city"] = _part("city", lambda: bench_city(households, args.seed, 1800.0))
    if "dask" in parts:
        results["dask"] = _part("dask", lambda: bench_dask(dask_units, args.seed, 64))

    _print_table([("measure", "value", "target", "note"), *_rows(results)])
    loads = {
        k: (v.get("load_before"), v.get("load_after"))
        for k, v in results.items()
        if isinstance(v, dict) and "load_before" in v
    }
    print(f"load average (1 min) before/after each part, on {_cpus()} CPUs: {loads}")
    line = json.dumps(results, ensure_ascii=False)
    if args.json_out:
        args.json_out.write_text(line + "\n", encoding="utf-8")
    print(line)
    return 0


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
