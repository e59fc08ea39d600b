"""Schemathesis over the whole OpenAPI, with a worker's and an admin's token: no 5xx and no
answer outside the documented schema (status, content type, headers, body).

A short, seeded run (a few examples per operation and token, well under two minutes); the long
run is `benchmarks/schemathesis_long.py` (docs/security.md).
"""

from __future__ import annotations

import pytest

from api_fuzz import fuzz

EXAMPLES = 4


@pytest.mark.fuzz
def test_no_5xx_and_no_schema_violation_on_any_operation() -> None:
    report = fuzz(EXAMPLES)
    assert report.operations >= 50, report.operations
    assert report.requests >= report.operations * 2 * 2  # two tokens, several examples
    assert report.failures == [], "\n".join(report.failures)
    assert not any(status >= 500 for status in report.statuses)
    assert any(200 <= status < 300 for status in report.statuses)  # it reached past the checks
