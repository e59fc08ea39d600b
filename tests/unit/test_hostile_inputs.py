"""Any input to the consent and cost-share contracts gives a result or a clear ColiftError.

The JSON contracts behind `colift consent evaluate`, `colift costshare`, PUT .../cost-plan and
the flats' areas: hypothesis builds requests that are nearly right (every key the
contract knows, values from hostile pools: huge and negative numbers, "1e3000000", NaN, NUL,
lone surrogates, long text, wrong types), and arbitrary JSON. Nothing else may escape:
no ValueError, TypeError, ArithmeticError, RecursionError, no hang (deadline).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from colift.errors import ColiftError
from colift.rules import consent, costshare

HOSTILE_NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2**31, 2**63, 10**10, 10**10 + 1, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        ["1e3000000", "-1e-3000000", "NaN", "Infinity", "0x10", "1/0", "7/10", "0.7", "70%",
         "9" * 5000, "1_000", " 3 ", "", "٣", "½"]
    ),
)
HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfff", "吵" * 5000, "同意", "agree"]),
)
SCALARS = st.one_of(st.none(), st.booleans(), HOSTILE_NUMBERS, HOSTILE_TEXT)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(HOSTILE_TEXT, inner, max_size=5)
    ),
    max_leaves=30,
)


def maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(value, SCALARS, JSON)


def households(keys: tuple[str, ...]) -> st.SearchStrategy[Any]:
    row = st.fixed_dictionaries(
        {},
        optional={
            key: maybe(
                st.sampled_from(["101", "201", "302", 1, ""])
                if key in ("id", "owner")
                else st.integers(1, 7)
                if key == "floor"
                else st.sampled_from(["agree", "同意", "disagree", "abstain", "absent"])
                if key == "vote"
                else HOSTILE_NUMBERS
            )
            for key in keys
        },
    )
    return maybe(st.lists(row, min_size=0, max_size=8))


COST_REQUESTS = st.fixed_dictionaries(
    {},
    optional={
        "total_fen": maybe(HOSTILE_NUMBERS),
        "subsidy_fen": maybe(HOSTILE_NUMBERS),
        "scheme": maybe(
            st.fixed_dictionaries(
                {"kind": maybe(st.sampled_from(costshare.SCHEME_KINDS))},
                optional={
                    "coefficients": maybe(
                        st.dictionaries(
                            st.sampled_from(["1", "2", "3", "4", "5", "6", "x", "-1"]),
                            HOSTILE_NUMBERS,
                            max_size=7,
                        )
                    ),
                    "default": maybe(HOSTILE_NUMBERS),
                    "area_weighted": maybe(st.booleans()),
                    "exempt_floors": maybe(st.lists(HOSTILE_NUMBERS, max_size=3)),
                },
            )
        ),
        "compensation": maybe(
            st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "floors": maybe(st.lists(HOSTILE_NUMBERS, max_size=3)),
                        "fen_each": maybe(HOSTILE_NUMBERS),
                        "households": maybe(st.lists(HOSTILE_TEXT, max_size=3)),
                    },
                ),
                max_size=3,
            )
        ),
        "schedule": maybe(
            st.lists(
                st.fixed_dictionaries({"name": HOSTILE_TEXT, "percent": HOSTILE_NUMBERS}),
                max_size=4,
            )
        ),
        "subsidy_profile": maybe(st.sampled_from(["beijing", "jinan", "../../etc/passwd"])),
        "households": households(("id", "floor", "area_m2")),
    },
)

CONSENT_REQUESTS = st.fixed_dictionaries(
    {},
    optional={
        "rule": maybe(st.sampled_from(["cn-civil-code-278", "beijing", "nowhere", "../x"])),
        "on": maybe(st.sampled_from(["2024-01-01", "2024-13-40", "9999-12-31", "0001-01-01"])),
        "households": households(("id", "area_m2", "vote", "owner", "floor", "developer_unsold")),
    },
)

SETTINGS = settings(
    max_examples=300,
    deadline=timedelta(seconds=2),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def only_clear_errors(call: Any, *args: Any) -> None:
    try:
        call(*args)
    except ColiftError as exc:
        assert exc.message.strip()  # a message a worker can read


GOOD_COST = {
    "total_fen": 42000000,
    "scheme": {"kind": "floor-coefficient", "coefficients": {"1": "0", "2": "0.4", "3": "1"}},
    "compensation": [{"floors": [1], "fen_each": 300000}],
    "households": [
        {"id": "101", "floor": 1, "area_m2": "60.5"},
        {"id": "201", "floor": 2, "area_m2": 70},
        {"id": "301", "floor": 3, "area_m2": "80.25"},
    ],
}
GOOD_CONSENT = {
    "rule": "cn-civil-code-278",
    "on": "2024-06-01",
    "households": [
        {"id": "101", "area_m2": "60.5", "vote": "agree"},
        {"id": "201", "area_m2": "70", "vote": "同意"},
        {"id": "301", "area_m2": 80, "vote": "disagree"},
    ],
}


def test_the_well_formed_requests_give_results() -> None:
    """The examples below reach the computation, not only the refusals."""
    assert costshare.evaluate_request(dict(GOOD_COST))["payable_fen"] == 42300000
    assert "passed" in str(consent.evaluate_request(GOOD_CONSENT)).lower()


@SETTINGS
@example(GOOD_COST)
@given(COST_REQUESTS)
def test_a_cost_share_request_gives_shares_or_a_clear_error(request: dict[str, Any]) -> None:
    only_clear_errors(costshare.evaluate_request, request)


@SETTINGS
@given(maybe(COST_REQUESTS))
def test_a_stored_cost_plan_parses_or_is_refused(plan: Any) -> None:
    only_clear_errors(costshare.parse_plan, plan)


@SETTINGS
@example(GOOD_CONSENT)
@given(CONSENT_REQUESTS)
def test_a_consent_request_gives_a_verdict_or_a_clear_error(request: dict[str, Any]) -> None:
    only_clear_errors(consent.evaluate_request, request)


@SETTINGS
@given(SCALARS)
def test_an_area_parses_or_is_refused(value: Any) -> None:
    only_clear_errors(consent.area_to_cm2, value)
