"""PDFs from the shared Chromium: a unit's four documents cold, warm and cached, and the memory
of 8 parallel requests.

Seeds the demo compound into a temporary SQLite file and asks the API (in process, with an
admin token) for a unit's survey form, signature sheet, notice and agreement as PDFs:

- cold: no browser yet (the first PDF starts it), cache empty;
- warm: the browser is up, cache emptied (each document printed again);
- cached: the same four again (served from the content-hash cache).

Then 8 requests at once for 8 different documents (two units' four), sampling every 50 ms the
browser's processes under this one (and Playwright's driver): how many browsers, how many
processes, peak RSS (sum, counts shared pages once per process, so it overstates) and peak
PSS (proportional: shared pages split between the processes, the figure that adds up).
Prints the ratios side by side and the load average; the last line is JSON.

    .venv/bin/python benchmarks/pdf_bench.py [--quick] [--rounds 3]

Needs Debian's chromium (or $COLIFT_CHROMIUM).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

KINDS = ("survey", "signatures", "notice", "agreement")
TARGET_WARM_S = 2.0
TARGET_PEAK_MB = 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round (a smoke run)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of cold/warm/cached")
    args = parser.parse_args()
    rounds = 1 if args.quick else max(1, args.rounds)
    os.environ.setdefault("COLIFT_LIMIT_PDF", "100000")  # measure the printer, not the limit

    from fastapi.testclient import TestClient

    from colift.app import create_app
    from colift.http.auth import demo_tokens
    from colift.services.demo import seed_demo
    from colift.services.documents import chromium_path
    from colift.services.pdfpool import close_shared_pool, current_pool, process_tree
    from colift.services.registry import list_units
    from colift.store import make_engine, migrate

    executable = chromium_path()
    if executable is None:
        print("chromium not found: install Debian's chromium package", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate(engine)
        code, _ = seed_demo(engine)
        tokens = demo_tokens(engine, code)
        admin = next(t for t, p in tokens.items() if p.role.value == "admin")
        client = TestClient(create_app(engine, tokens), base_url="http://127.0.0.1")
        headers = {"Authorization": f"Bearer {admin}"}
        units = [u.id for u in list_units(engine, code)][:2]

        def fetch(unit_id: int, kind: str) -> float:
            started = time.perf_counter()
            got = client.get(
                f"/api/v1/units/{unit_id}/documents/{kind}?format=pdf", headers=headers
            )
            took = time.perf_counter() - started
            if got.status_code != 200 or not got.content.startswith(b"%PDF-"):
                raise SystemExit(f"{kind} of unit {unit_id}: {got.status_code} {got.text[:200]}")
            return took

        def four(unit_id: int) -> float:
            return sum(fetch(unit_id, kind) for kind in KINDS)

        cold, warm, cached = [], [], []
        for _ in range(rounds):
            close_shared_pool()  # no browser, empty cache
            cold.append(four(units[0]))
            pool = current_pool()
            assert pool is not None
            pool.cache.clear()
            warm.append(four(units[0]))
            cached.append(four(units[0]))

        # --- 8 parallel requests, memory sampled ---------------------------------------------
        close_shared_pool()
        four(units[0])  # a browser up, as on a server that printed before
        pool = current_pool()
        assert pool is not None
        pool.cache.clear()
        peak = {"rss_kb": 0, "pss_kb": 0, "processes": 0, "browsers": 0}
        done = threading.Event()
        me = os.getpid()
        name = Path(executable).name

        def sample() -> None:
            while not done.is_set():
                tree = process_tree(me)
                rss = sum(p.rss_kb for p in tree)
                pss = sum(p.pss_kb if p.pss_kb is not None else p.rss_kb for p in tree)
                browsers = sum(1 for p in tree if p.is_browser_main(executable))
                peak["rss_kb"] = max(peak["rss_kb"], rss)
                peak["pss_kb"] = max(peak["pss_kb"], pss)
                peak["processes"] = max(peak["processes"], len(tree))
                peak["browsers"] = max(peak["browsers"], browsers)
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()
        jobs = [(u, k) for u in units for k in KINDS]
        threads = [threading.Thread(target=fetch, args=job) for job in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        parallel_s = time.perf_counter() - started
        done.set()
        sampler.join()
        stats = pool.stats
        close_shared_pool()
        engine.dispose()

    load = os.getloadavg()
    cold_s, warm_s, cached_s = (statistics.median(x) for x in (cold, warm, cached))
    peak_rss_mb = peak["rss_kb"] / 1024
    peak_pss_mb = peak["pss_kb"] / 1024
    print(f"browser: {executable} ({name}); rounds {rounds}")
    print(f"a unit's four documents, cold   : {cold_s:7.3f} s (starts the browser)")
    print(
        f"a unit's four documents, warm   : {warm_s:7.3f} s "
        f"(target < {TARGET_WARM_S} s: {'met' if warm_s < TARGET_WARM_S else 'NOT met'}); "
        f"cold/warm {cold_s / warm_s:.1f}x"
    )
    print(
        f"a unit's four documents, cached : {cached_s:7.3f} s; warm/cached {warm_s / cached_s:.0f}x"
    )
    print(
        f"8 parallel PDFs: {parallel_s:.2f} s, browsers {peak['browsers']}, processes "
        f"{peak['processes']}, peak RSS sum {peak_rss_mb:.0f} MB, peak PSS {peak_pss_mb:.0f} MB "
        f"(target < {TARGET_PEAK_MB} MB: {'met' if peak_pss_mb < TARGET_PEAK_MB else 'NOT met'})"
    )
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(
        json.dumps(
            {
                "rounds": rounds,
                "cold_s": round(cold_s, 3),
                "warm_s": round(warm_s, 3),
                "cached_s": round(cached_s, 4),
                "parallel8_s": round(parallel_s, 3),
                "browsers": peak["browsers"],
                "processes": peak["processes"],
                "peak_rss_mb": round(peak_rss_mb),
                "peak_pss_mb": round(peak_pss_mb),
                "printed": stats.printed,
                "launches": stats.launches,
                "load_1min": round(load[0], 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
