"""The objection lifecycle: every legal move, a set of illegal ones, and what the refusals say."""

from __future__ import annotations

import itertools

import pytest

from colift.coproduction.objections import (
    FINAL,
    STATUS_NAMES_ZH,
    allowed_moves,
    can_move,
    check_move,
    route,
)
from colift.errors import RuleViolation
from colift.model import ObjectionStatus

S = ObjectionStatus

ALLOWED = {
    (S.OPEN, S.NEGOTIATION),
    (S.OPEN, S.MEDIATION),
    (S.OPEN, S.HEARING),
    (S.OPEN, S.WITHDRAWN),
    (S.OPEN, S.RESOLVED),
    (S.NEGOTIATION, S.MEDIATION),
    (S.NEGOTIATION, S.HEARING),
    (S.NEGOTIATION, S.WITHDRAWN),
    (S.NEGOTIATION, S.RESOLVED),
    (S.MEDIATION, S.HEARING),
    (S.MEDIATION, S.LITIGATION),
    (S.MEDIATION, S.WITHDRAWN),
    (S.MEDIATION, S.RESOLVED),
    (S.HEARING, S.WITHDRAWN),
    (S.HEARING, S.RESOLVED),
    (S.HEARING, S.OVERRULED),
    (S.HEARING, S.LITIGATION),
    (S.LITIGATION, S.RESOLVED),
    (S.LITIGATION, S.WITHDRAWN),
    (S.LITIGATION, S.OVERRULED),
    (S.OVERRULED, S.LITIGATION),
}


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_every_allowed_move_passes(current: S, target: S) -> None:
    check_move(current, target)
    assert target in allowed_moves(current)
    assert can_move(current, target)


def test_the_table_allows_nothing_else() -> None:
    for current, target in itertools.product(S, S):
        assert can_move(current, target) is ((current, target) in ALLOWED), (current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.NEGOTIATION, S.OPEN),  # no step back
        (S.MEDIATION, S.NEGOTIATION),
        (S.HEARING, S.MEDIATION),
        (S.OPEN, S.OVERRULED),  # only a hearing or a court overrules
        (S.MEDIATION, S.OVERRULED),
        (S.OPEN, S.LITIGATION),  # litigation follows a hearing or a decision
        (S.LITIGATION, S.HEARING),
        (S.OVERRULED, S.RESOLVED),
        (S.OVERRULED, S.OPEN),
        (S.RESOLVED, S.OPEN),  # final: a new objection is a new record
        (S.WITHDRAWN, S.OPEN),
        (S.RESOLVED, S.LITIGATION),
        (S.MEDIATION, S.MEDIATION),
    ],
)
def test_illegal_moves_are_refused(current: S, target: S) -> None:
    with pytest.raises(RuleViolation):
        check_move(current, target)


def test_a_refusal_names_the_allowed_moves_in_both_languages() -> None:
    with pytest.raises(RuleViolation) as caught:
        check_move(S.MEDIATION, S.NEGOTIATION)
    message = caught.value.message
    assert message.startswith("异议不能从调解中改为协商中 / ")
    assert "cannot go from mediation to negotiation" in message
    assert message.endswith("听证 hearing, 诉讼中 litigation, 已撤回 withdrawn, 已化解 resolved")


def test_end_states_are_final_and_say_so() -> None:
    assert {S.WITHDRAWN, S.RESOLVED} == FINAL
    for final in FINAL:
        assert allowed_moves(final) == frozenset()
        with pytest.raises(RuleViolation, match="files a new objection"):
            check_move(final, S.OPEN)
    with pytest.raises(RuleViolation, match="异议已化解"):
        check_move(S.RESOLVED, S.OPEN)


def test_staying_put_is_not_a_move() -> None:
    with pytest.raises(RuleViolation, match="already hearing"):
        check_move(S.HEARING, S.HEARING)


def test_every_status_has_a_chinese_name() -> None:
    assert set(STATUS_NAMES_ZH) == set(S)


def test_route_takes_the_shortest_legal_path() -> None:
    assert route(S.OPEN, S.OPEN) == ()
    assert route(S.OPEN, S.MEDIATION) == (S.MEDIATION,)
    assert route(S.OPEN, S.OVERRULED) == (S.HEARING, S.OVERRULED)
    assert route(S.OPEN, S.LITIGATION) == (S.MEDIATION, S.LITIGATION)
    assert route(S.OVERRULED, S.RESOLVED) == (S.LITIGATION, S.RESOLVED)
    reach = {(a, b) for a, b in ALLOWED}
    while True:  # the transitive closure of the table, computed independently of `route`
        more = {(a, d) for a, b in reach for c, d in reach if b is c} - reach
        if not more:
            break
        reach |= more
    for current, target in itertools.product(S, S):
        if current is target:
            continue
        if (current, target) not in reach:
            with pytest.raises(RuleViolation):
                route(current, target)
            continue
        here = current
        for step in route(current, target):
            check_move(here, step)
            here = step
        assert here is target


def test_route_out_of_a_final_state_is_refused() -> None:
    with pytest.raises(RuleViolation, match="final"):
        route(S.WITHDRAWN, S.HEARING)
