"""The long schemathesis run: every operation of /api/v1/openapi.json with a worker's and an
admin's token, many generated requests each; prints the count of 5xx and schema violations.

    .venv/bin/python benchmarks/schemathesis_long.py              # 200 examples per operation
    .venv/bin/python benchmarks/schemathesis_long.py --quick      # 10, a smoke run
    .venv/bin/python benchmarks/schemathesis_long.py --examples 1000 --seed 7

The CI test (tests/integration/test_schemathesis.py) runs the same harness with 4 examples.
Seeded, so a run repeats; another --seed explores other inputs. Exit 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from api_fuzz import fuzz


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="per operation and token")
    parser.add_argument("--quick", action="store_true", help="10 examples: a smoke run")
    parser.add_argument("--seed", type=int, default=20261221)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    examples = 10 if args.quick else args.examples
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    report = fuzz(examples, seed=args.seed)
    seconds = time.perf_counter() - started
    server_errors = sum(n for status, n in report.statuses.items() if status >= 500)
    figures = {
        "examples_per_operation_and_token": examples,
        "seed": args.seed,
        "operations": report.operations,
        "requests": report.requests,
        "statuses": {str(k): v for k, v in sorted(report.statuses.items())},
        "server_errors": server_errors,
        "failures": len(report.failures),
        "seconds": round(seconds, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")
    for line in report.failures:
        print(f"FAIL {line}")
    return 1 if report.failures or server_errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
