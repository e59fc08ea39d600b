"""Influence network: edges by kind, opinion-leader candidates, reach, and the FJ weights."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colift.coproduction.network import (
    ADJACENT_FLOOR_WEIGHT,
    PARTY_GROUP_WEIGHT,
    SAME_FLOOR_WEIGHT,
    VISIT_WEIGHT,
    centrality,
    door,
    friedkin_johnsen_weights,
    influence_network,
    network_json,
    opinion_leader_candidates,
    unreached,
)
from colift.coproduction.snapshot import HouseholdView, Leader, Resident, UnitSnapshot
from colift.model import AgeBand, Role, Tenure
from colift.model.coproduction import Activity, GuidanceMode, Stance, Tie

TODAY = date(2025, 6, 1)
MEMBER = Resident("member", AgeBand.AGE_60_69, party_member=True)
ADULT = Resident("adult", AgeBand.AGE_18_59)


def hh(room: str, floor: int | None = None, **kw: Any) -> HouseholdView:
    return HouseholdView(
        room=room,
        floor=floor if floor is not None else int(room[:-2]),
        area_m2=Decimal("60"),
        owner=f"o{room}",
        **kw,
    )


def act(*targets: str, actor: str = "worker", person_id: int | None = None) -> Activity:
    return Activity(
        unit_id=1,
        person_id=person_id,
        actor_name=actor,
        role="opinion_leader",
        guidance=GuidanceMode.EMBEDDED,
        tool="door_to_door",
        on=date(2025, 5, 1),
        targets=targets,
    )


def unit(*households: HouseholdView, **kw: Any) -> UnitSnapshot:
    return UnitSnapshot(label="3-1", households=households, today=TODAY, **kw)


def six_storeys(**overrides: Any) -> list[HouseholdView]:
    """Floors 1-6, doors 01 and 02; `overrides` maps a room to its changed fields."""
    return [
        hh(f"{f}{d}", **overrides.get(f"{f}{d}", {})) for f in range(1, 7) for d in ("01", "02")
    ]


def kinds(g: nx.Graph, a: str, b: str) -> list[str]:
    return list(g.edges[a, b]["kinds"])


def test_door_parsing() -> None:
    assert door("301", 3) == "01"
    assert door("1202", 12) == "02"
    assert door("3-01", 3) == "01"
    assert door("A", 3) is None
    assert door("401", 3) is None


def test_landing_and_stack_edges() -> None:
    g = influence_network(unit(*six_storeys()))
    assert g.edges["301", "302"]["weight"] == SAME_FLOOR_WEIGHT
    assert kinds(g, "301", "302") == ["same_floor"]
    assert g.edges["301", "401"]["weight"] == ADJACENT_FLOOR_WEIGHT
    assert kinds(g, "301", "401") == ["adjacent_floor"]
    assert not g.has_edge("301", "402")  # another stack
    assert not g.has_edge("301", "501")  # two floors apart
    assert g.number_of_edges() == 6 + 2 * 5


def test_rooms_without_a_door_join_by_floor_adjacency() -> None:
    g = influence_network(unit(hh("A", 1), hh("B", 2), hh("C", 2), hh("D", 4)))
    assert g.has_edge("A", "B") and g.has_edge("A", "C")
    assert g.edges["B", "C"]["weight"] == SAME_FLOOR_WEIGHT
    assert not g.has_edge("C", "D")


def test_absentee_and_developer_flats_have_no_landing_edges() -> None:
    flats = six_storeys(
        **{"302": {"tenure": Tenure.ABSENTEE}, "402": {"tenure": Tenure.DEVELOPER_UNSOLD}}
    )
    g = influence_network(unit(*flats))
    assert g.degree("302") == 0
    assert g.degree("402") == 0
    assert g.nodes["302"]["lives_here"] is False


def test_ties_party_group_and_visits() -> None:
    flats = six_storeys(**{"101": {"residents": (MEMBER,)}, "601": {"residents": (MEMBER,)}})
    snap = unit(
        *flats,
        ties=(Tie("101", "502", "kin", 2.0), Tie("201", "602", "friend"), Tie("x", "101", "kin")),
        leaders=(Leader("Li", Role.OPINION_LEADER, room="301", person_id=7),),
        activities=(act("602", "101", person_id=7), act("602", person_id=7), act("502")),
    )
    g = influence_network(snap)
    assert g.edges["101", "502"]["weight"] == pytest.approx(1.5 * 2.0)
    assert g.edges["201", "602"]["weight"] == pytest.approx(1.0)
    assert g.edges["101", "601"]["weight"] == pytest.approx(PARTY_GROUP_WEIGHT)
    assert kinds(g, "101", "601") == ["party_group"]
    assert g.edges["301", "602"]["weight"] == pytest.approx(VISIT_WEIGHT)  # once per pair
    assert g.edges["301", "101"]["kinds"] == ["visit"]
    assert not g.has_edge("x", "101")
    # The worker's visit to 502 adds no edge: the worker does not live in the unit.
    assert set(g.neighbors("502")) == {"402", "501", "602", "101"}


def test_party_member_supporter_with_many_ties_is_top_candidate() -> None:
    flats = six_storeys(
        **{
            "401": {"residents": (MEMBER,), "stance": Stance.SUPPORT},
            "601": {"residents": (MEMBER,), "stance": Stance.OPPOSE},
            "102": {"stance": Stance.SUPPORT},
        }
    )
    snap = unit(
        *flats,
        ties=tuple(Tie("401", r, "friend") for r in ("101", "102", "202", "502", "602")),
    )
    found = opinion_leader_candidates(snap, k=3)
    assert len(found) == 3
    top = found[0]
    assert top.room == "401"
    assert top.centrality == pytest.approx(1.0)
    assert "Party member" in top.reasons and "supports" in top.reasons
    assert any(r.endswith("ties") for r in top.reasons)
    assert top.score >= found[1].score >= found[2].score
    json.dumps([c.to_json() for c in found])


def test_candidates_exclude_absentee_and_developer_flats() -> None:
    flats = six_storeys(
        **{
            "301": {"tenure": Tenure.ABSENTEE, "residents": (MEMBER,), "stance": Stance.SUPPORT},
            "302": {"tenure": Tenure.DEVELOPER_UNSOLD},
        }
    )
    snap = unit(*flats, ties=tuple(Tie("301", f"{f}01", "kin") for f in (1, 2, 4, 5, 6)))
    rooms = [c.room for c in opinion_leader_candidates(snap, k=12)]
    assert "301" not in rooms and "302" not in rooms
    assert len(rooms) == 10


def test_centrality_per_component() -> None:
    g = nx.Graph()
    g.add_edges_from([("a", "b"), ("a", "c"), ("a", "d")], weight=1.0)
    g.add_edge("e", "f", weight=1.0)
    g.add_node("z")
    c = centrality(g)
    assert c["a"] == pytest.approx(3 / 6)  # hub of a 4-node component among 7 nodes
    assert c["e"] == pytest.approx(c["f"]) == pytest.approx(1 / 6)
    assert c["z"] == 0.0


def test_isolated_absentee_is_unreached_until_named() -> None:
    flats = six_storeys(**{"302": {"tenure": Tenure.ABSENTEE}, "101": {"stance": Stance.SUPPORT}})
    snap = unit(*flats)
    out = unreached(snap)
    assert "302" in out
    # Within two hops of the supporter in 101: 102, 201, 202 (via 102), 301 (via 201).
    for room in ("101", "102", "201", "202", "301"):
        assert room not in out
    assert "602" in out
    named = unit(*flats, activities=(act("302"),))
    assert "302" not in unreached(named)
    everyone = unit(*flats, activities=(act(),))  # a notice reaches all but the absentee
    assert unreached(everyone) == ["302"]


def test_leader_flat_is_a_source_of_reach() -> None:
    snap = unit(*six_storeys(), leaders=(Leader("Wang", Role.ACTION_LEADER, room="601"),))
    out = unreached(snap)
    assert "601" not in out and "502" not in out  # 601 → 501 → 502
    assert "101" in out


def test_fj_weights_are_row_stochastic_with_isolated_self_weight() -> None:
    flats = six_storeys(**{"302": {"tenure": Tenure.ABSENTEE}})
    g = influence_network(unit(*flats, ties=(Tie("101", "601", "kin"),)))
    rooms, w = friedkin_johnsen_weights(g)
    assert rooms == [h.room for h in flats]
    dense = w.toarray()
    assert dense.shape == (12, 12)
    np.testing.assert_allclose(dense.sum(axis=1), 1.0)
    i = rooms.index("302")
    assert dense[i, i] == 1.0
    j, k = rooms.index("101"), rooms.index("601")
    assert dense[j, k] == pytest.approx(1.5 / (1.0 + 0.5 + 1.5))
    empty_rooms, empty = friedkin_johnsen_weights(nx.Graph())
    assert empty_rooms == [] and empty.shape == (0, 0)


def test_network_json() -> None:
    flats = six_storeys(**{"401": {"residents": (MEMBER,), "stance": Stance.SUPPORT}})
    data = network_json(unit(*flats))
    json.dumps(data, ensure_ascii=False)
    assert set(data) == {"nodes", "edges", "candidates", "unreached"}
    node = next(n for n in data["nodes"] if n["id"] == "401")
    assert node["party"] is True and node["support"] == 1.0 and node["floor"] == 4
    assert {"source", "target", "weight", "kinds"} <= set(data["edges"][0])
    assert data["candidates"][0]["room"] == "401"


@st.composite
def snapshots(draw: st.DrawFn) -> UnitSnapshot:
    n = draw(st.integers(0, 12))
    flats = [
        hh(
            f"{draw(st.integers(1, 7))}{i:02d}" if draw(st.booleans()) else f"R{i}",
            draw(st.integers(1, 7)),
            tenure=draw(st.sampled_from(list(Tenure))),
            stance=draw(st.sampled_from(list(Stance))),
            residents=(MEMBER,) if draw(st.booleans()) else (),
        )
        for i in range(n)
    ]
    rooms = sorted({f.room for f in flats})
    flats = [next(f for f in flats if f.room == r) for r in rooms]
    pick = st.sampled_from(rooms) if rooms else st.just("none")
    ties = tuple(
        Tie(draw(pick), draw(pick), draw(st.sampled_from(["kin", "friend", "odd"])))
        for _ in range(draw(st.integers(0, 4)))
    )
    return unit(*flats, ties=ties)


@settings(max_examples=100, deadline=None)
@given(snapshots())
def test_random_units_give_stochastic_weights_and_bounded_scores(snap: UnitSnapshot) -> None:
    g = influence_network(snap)
    rooms, w = friedkin_johnsen_weights(g)
    assert rooms == list(snap.rooms)
    if rooms:
        np.testing.assert_allclose(w.toarray().sum(axis=1), 1.0)
    for c in opinion_leader_candidates(snap, g, k=5):
        assert 0.0 <= c.centrality <= 1.0 + 1e-9 and 0.0 <= c.trust <= 1.0
    assert set(unreached(snap, g)) <= set(rooms)
    json.dumps(network_json(snap), ensure_ascii=False)
