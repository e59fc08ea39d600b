"""Frequencies by case attribute, co-occurrence, the path-model view and saturation."""

from __future__ import annotations

from collections import Counter

import pytest

from colift.evidence.analysis import (
    MISSING,
    code_frequencies,
    cooccurrence,
    cooccurrence_graph,
    is_saturated,
    path_view,
    saturation,
)
from colift.evidence.codebook import default_codebook
from colift.evidence.model import Case, Coding, Memo, Source


def _c(source: str, start: int, end: int, code: str, coder: str = "A") -> Coding:
    return Coding(source, start, end, code, coder)


def test_frequencies_by_floor_through_cases() -> None:
    cases = [
        Case("p1", "一楼王阿姨", {"floor": "1", "role": "household"}),
        Case("p2", "六楼刘师傅", {"floor": "6"}),
        Case("p3", "楼栋长老赵", {"role": "building_leader"}),
    ]
    sources = [
        Source("i1", "访谈一", "x" * 50, case_ids=("p1",)),
        Source("i2", "访谈二", "x" * 50, case_ids=("p2",)),
        Source("m1", "会议", "x" * 50, case_ids=("p1", "p2")),
        Source("m2", "会议", "x" * 50),
    ]
    codings = [
        _c("i1", 0, 5, "heterogeneity.low_floor_loss"),
        _c("i1", 10, 15, "heterogeneity.low_floor_loss"),
        _c("i2", 0, 5, "heterogeneity.age_need"),
        _c("m1", 0, 5, "tool.deliberation_meeting"),
        _c("m2", 0, 5, "tool.public_notice"),
        _c("i1", 20, 25, "heterogeneity.low_floor_loss", coder="B"),
    ]
    freq = code_frequencies(codings, sources, cases, "floor", coder="A")
    assert freq == {
        "1": Counter({"heterogeneity.low_floor_loss": 2, "tool.deliberation_meeting": 1}),
        "6": Counter({"heterogeneity.age_need": 1, "tool.deliberation_meeting": 1}),
        MISSING: Counter({"tool.public_notice": 1}),
    }
    by_source = code_frequencies(codings, sources, cases, "floor", count="sources")
    assert by_source["1"]["heterogeneity.low_floor_loss"] == 1
    rolled = code_frequencies(
        codings, sources, cases, "floor", coder="A", rollup=default_codebook()
    )
    assert rolled["1"]["heterogeneity"] == 2 and rolled["1"]["coproduction.path"] == 3


def test_cooccurrence_counts_overlapping_pairs() -> None:
    codings = [
        _c("s", 0, 10, "a"),
        _c("s", 5, 15, "b"),  # overlaps a
        _c("s", 10, 20, "c"),  # overlaps b (10-15), touches a only
        _c("s", 0, 20, "a"),  # overlaps b and c (and a: same code, not counted)
        _c("t", 0, 10, "b"),
        _c("t", 0, 10, "c"),  # overlaps b in another source
    ]
    co = cooccurrence(codings)
    assert co.codes == ("a", "b", "c")
    assert dict(co.counts) == {("a", "b"): 2, ("a", "c"): 1, ("b", "c"): 2}
    assert co.get("c", "b") == 2
    assert co.matrix() == [[2, 2, 1], [2, 2, 2], [1, 2, 2]]
    g = cooccurrence_graph(codings, min_count=2)
    assert set(g.nodes) == {"a", "b", "c"}
    assert {tuple(sorted(e)) for e in g.edges} == {("a", "b"), ("b", "c")}
    assert g.edges["a", "b"]["weight"] == 2 and g.nodes["a"]["frequency"] == 2


def test_cooccurrence_graph_carries_codebook_names() -> None:
    codings = [_c("s", 0, 9, "guidance.embedded"), _c("s", 0, 9, "tool.door_to_door")]
    g = cooccurrence(codings).graph(default_codebook())
    assert g.nodes["guidance.embedded"]["name"] == "嵌入式引领"
    assert g.nodes["tool.door_to_door"]["color"].startswith("#")


PATH_CODINGS = [
    # source s1: one segment per stage, in order
    _c("s1", 0, 10, "heterogeneity.low_floor_loss"),
    _c("s1", 2, 10, "guidance.embedded"),  # same segment 0-10
    _c("s1", 20, 30, "tool.door_to_door"),
    _c("s1", 40, 50, "cooperation.collaborating"),
    _c("s1", 60, 70, "outcome.built"),
    # source s2: guidance followed by failure; a contradiction marked by the coder
    _c("s2", 0, 10, "guidance.direct"),
    _c("s2", 0, 10, "outcome.failure"),
    _c("s2", 30, 40, "heterogeneity.tenure"),
    _c("s2", 30, 40, "analytic.contradicts"),
]


def test_path_view_supporting_and_contradicting_segments() -> None:
    view = path_view(PATH_CODINGS)
    assert view.segments == 6
    links = {(lk.antecedent, lk.consequent): lk for lk in view.links}
    # s1 windows (own + neighbours): seg0 {het, guid, lt}, seg1 {het, guid, lt, coop},
    # seg2 {lt, coop, coprod}, seg3 {coop, coprod}. Support needs the antecedent in the
    # segment itself and the consequent in its window: one segment per link.
    # s2: both segments are marked (failure, contradicts); their windows hold {guid, het}:
    # each contradicts the links whose antecedent is heterogeneity or guidance.
    counts = {k: (lk.supporting, lk.contradicting) for k, lk in links.items()}
    assert counts == {
        ("heterogeneity", "guidance"): (1, 2),
        ("guidance", "leadership_tools"): (1, 2),
        ("leadership_tools", "cooperation"): (1, 0),
        ("cooperation", "coproduction"): (1, 0),
    }
    ex = links[("cooperation", "coproduction")].support_examples[0]
    assert (ex.source_id, ex.start, ex.end) == ("s1", 40, 50)
    assert view.segments_per_stage["coproduction"] == 1  # failure is a marker, not a stage


def test_path_view_without_adjacency_and_with_memo() -> None:
    alone = {
        (lk.antecedent, lk.consequent): lk.supporting
        for lk in path_view(PATH_CODINGS, adjacent=False).links
    }
    # only s1 seg0 holds two stages (heterogeneity and guidance)
    assert alone == {
        ("heterogeneity", "guidance"): 1,
        ("guidance", "leadership_tools"): 0,
        ("leadership_tools", "cooperation"): 0,
        ("cooperation", "coproduction"): 0,
    }
    memo = Memo("m1", "反例：通梯靠的是开发商出钱，不是合作", "A", "segment", "s1:60-70")
    other = Memo("m2", "普通备注", "A", "segment", "s1:40-50")
    view = path_view(PATH_CODINGS, memos=[memo, other])
    last = view.links[-1]
    # s1 seg3 (60-70) is now marked; its window {coprod, coop} holds the antecedent coop
    assert (last.supporting, last.contradicting) == (1, 1)


def test_path_view_reports_codes_outside_the_model() -> None:
    view = path_view([_c("s", 0, 5, "my.own.code"), _c("s", 0, 5, "guidance.direct")])
    assert view.unplaced_codes == ("my.own.code",)


def test_saturation_in_the_order_sources_were_added() -> None:
    codings = [
        _c("s1", 0, 5, "a"),
        _c("s1", 5, 9, "b"),
        _c("s2", 0, 5, "b"),
        _c("s2", 5, 9, "c"),
        _c("s3", 0, 5, "a"),
        _c("s5", 0, 5, "c"),
    ]
    steps = saturation(codings, ["s1", "s2", "s3", "s4", "s5"])
    assert [(s.index, s.new_codes, s.codes_so_far) for s in steps] == [
        (1, ("a", "b"), 2),
        (2, ("c",), 3),
        (3, (), 3),
        (4, (), 3),
        (5, (), 3),
    ]
    assert is_saturated(steps, window=3)
    assert not is_saturated(steps[:4], window=3)
    with pytest.raises(ValueError):
        is_saturated(steps, window=0)
