"""Natural order of buildings, units and rooms (colift.model.order)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from colift.model.order import group_naturally, natural_key, natural_sorted


def test_ten_comes_after_two() -> None:
    assert sorted(["10", "2", "1", "B", "2A", "A", "12"], key=natural_key) == [
        "1",
        "2",
        "2A",
        "10",
        "12",
        "A",
        "B",
    ]


def test_rooms_sort_by_number() -> None:
    assert natural_sorted(["1001", "301", "102", "1002"], str) == ["102", "301", "1001", "1002"]


@given(st.lists(st.integers(min_value=0, max_value=10**6)))
def test_digit_strings_sort_as_their_numbers(numbers: list[int]) -> None:
    assert natural_sorted([str(n) for n in numbers], str) == [str(n) for n in sorted(numbers)]


@given(st.lists(st.text(max_size=6)))
def test_any_text_has_a_key_and_sorting_is_stable_under_repetition(texts: list[str]) -> None:
    once = sorted(texts, key=natural_key)
    assert sorted(once, key=natural_key) == once
    assert sorted(reversed(once), key=natural_key) == sorted(once, key=natural_key) or len(
        {natural_key(t) for t in texts}
    ) < len(set(texts))


def test_units_grouped_by_building_in_natural_order() -> None:
    units = [("10", "10-1"), ("2", "2-2"), ("2", "2-1"), ("3", "3-1")]
    groups = group_naturally(natural_sorted(units, lambda u: u[0], lambda u: u[1]), lambda u: u[0])
    assert [b for b, _ in groups] == ["2", "3", "10"]
    assert [u[1] for u in groups[0][1]] == ["2-1", "2-2"]
