"""Community regeneration read from a compound's records: counts, never guesses."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from colift.coproduction.regeneration import (
    RegenerationEvent,
    RegenerationKind,
    regeneration_outcome,
)

K = RegenerationKind
LIFT = date(2025, 1, 1)
TODAY = date(2027, 1, 1)  # two years of service


def ev(kind: RegenerationKind, on: date, households: int = 0, of: int = 0) -> RegenerationEvent:
    return RegenerationEvent(kind, on, households, of, kind.value)


def test_before_any_lift_runs_the_outcome_is_not_yet_not_zero() -> None:
    out = regeneration_outcome([ev(K.COMPLAINT, date(2024, 3, 1))], None, TODAY)
    assert not out.started and out.conflicts_per_year_after is None
    assert "尚无电梯投入运行" in out.summary_zh()


def test_actions_conflicts_and_participation_after_the_lift() -> None:
    events = [
        ev(K.CONFLICT, date(2023, 1, 1)),
        ev(K.COMPLAINT, date(2024, 1, 1)),  # two conflicts in the two years before
        ev(K.STAIRWELL_RENOVATION, date(2025, 6, 1), households=9, of=12),
        ev(K.SHARED_FUND, date(2026, 2, 1)),
        ev(K.COMPLAINT, date(2026, 5, 1)),  # one in the two years after
    ]
    out = regeneration_outcome(events, LIFT, TODAY)
    assert out.actions_after == 2
    assert out.action_kinds == {"stairwell_renovation": 1, "shared_fund": 1}
    assert out.conflicts_per_year_before == Fraction(2 * 365, (LIFT - date(2023, 1, 1)).days)
    assert out.conflicts_per_year_after == Fraction(365, (TODAY - LIFT).days)
    assert out.next_participation == Fraction(3, 4)
    summary = out.summary_zh()
    assert "集体行动2项" in summary and "楼道改造1" in summary and "参与率75%" in summary
    assert out.to_json()["evidence_code"] == "outcome.regeneration"


def test_unrecorded_participation_and_no_time_before_are_unknown() -> None:
    out = regeneration_outcome([ev(K.VOLUNTEER_DUTY, date(2025, 3, 1))], LIFT, TODAY)
    assert out.next_participation is None and out.conflicts_per_year_before is None
    assert "参与率：未知" in out.summary_zh() and "未知" in out.summary_zh()
