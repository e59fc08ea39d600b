"""Schemathesis over the whole OpenAPI description, shared by the CI test and the long run.

`fuzz(...)` seeds the demo compound into a fresh database, serves it in-process (ASGI), and
sends generated requests to every operation with a worker's token and an admin's token, both
valid ones and ones that break the schema (negative mode: wrong types, out-of-range values). It
returns every 5xx and every answer that breaks the documented schema (status code, content
type, headers, body), one line each. docs/security.md says how to run the long form.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from sqlalchemy import Engine

from colift.app import create_app
from colift.services.access import Principal, Role
from colift.services.demo import seed_demo
from colift.services.registry import list_units
from colift.store import make_engine, migrate

OPENAPI = "/api/v1/openapi.json"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class FuzzReport:
    operations: int = 0
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)


def demo_engine(directory: Path) -> tuple[Engine, str]:
    engine = make_engine(f"sqlite:///{directory / 'fuzz.db'}")
    migrate(engine)
    code, _ = seed_demo(engine)
    return engine, code


def fuzz(
    max_examples: int,
    *,
    seed: int = 20261221,
    engine: Engine | None = None,
    progress: Callable[[str], None] | None = None,
) -> FuzzReport:
    """Every operation × (worker, admin), `max_examples` generated requests each."""
    with tempfile.TemporaryDirectory() as tmp:
        if engine is None:
            engine, code = demo_engine(Path(tmp))
        else:
            code = seed_demo(engine)[0]
        unit = list_units(engine, code)[0]
        tokens = {
            "fuzz-worker": Principal(f"worker:{code}", Role.WORKER, compound=code),
            "fuzz-admin": Principal("admin", Role.ADMIN),
        }
        app = create_app(engine, tokens, secure_cookies=False)
        schema = schemathesis.openapi.from_asgi(OPENAPI, app)
        report = FuzzReport()
        for result in schema.get_all_operations():
            operation = result.ok()
            report.operations += 1
            for token in tokens:
                _run(operation, token, unit.id, max_examples, seed, report)
            if progress is not None:
                progress(f"{operation.method.upper()} {operation.path}: {len(report.failures)}")
        return report


def _run(
    operation: Any, token: str, unit_id: int, max_examples: int, seed: int, report: FuzzReport
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    seen: set[str] = set()

    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=strategy, known=st.booleans())
    @settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    def one(case: Any, known: bool) -> None:
        if known and case.path_parameters and "unit_id" in case.path_parameters:
            case.path_parameters["unit_id"] = unit_id  # reach past the 404 half of the time
        report.requests += 1
        try:
            response = case.call_and_validate(headers=headers, checks=CHECKS)
        except FailureGroup as group:
            for failure in group.exceptions:
                line = f"{token} {case.method} {case.path}: {failure.title}: {failure.message}"
                key = f"{token} {case.method} {case.path}: {failure.title}"
                if key not in seen:
                    seen.add(key)
                    report.failures.append(line[:600])
            return
        except (AssertionError, Exception) as exc:  # an exception the app let escape: a 5xx
            key = f"{token} {case.method} {case.path}: {exc}"[:200]
            if key not in seen:
                seen.add(key)
                report.failures.append(key)
            return
        report.statuses[response.status_code] = report.statuses.get(response.status_code, 0) + 1

    one._hypothesis_internal_use_seed = seed  # type: ignore[attr-defined]
    one()
