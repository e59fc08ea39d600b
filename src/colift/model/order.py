"""Natural order of buildings, units and rooms: 2栋 before 10栋, 2A after 2, 101 before 1001.

People number buildings, units and rooms with digits and sometimes a letter; sorting them as
text puts "10" before "2". Every list, export and view orders them with `natural_key`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

NaturalKey = tuple[tuple[int, int, str], ...]

# ASCII digits only: "²" or "٣" are text here, so any string has a key.
_PARTS = re.compile(r"[0-9]+|[^0-9]+")

__all__ = ["NaturalKey", "group_naturally", "natural_key", "natural_sorted"]


def natural_key(text: str) -> NaturalKey:
    """A sort key: runs of digits compare as numbers, before any text at the same place.

    >>> sorted(["10", "2", "2A", "B", "1"], key=natural_key)
    ['1', '2', '2A', '10', 'B']
    """
    return tuple(
        (0, int(part), "") if part[0] in "0123456789" else (1, 0, part)
        for part in _PARTS.findall(text)
    )


def natural_sorted(items: Iterable[T], *keys: Callable[[T], str]) -> list[T]:
    """`items` in natural order of the texts `keys` give (first key first), stable otherwise."""
    return sorted(items, key=lambda item: tuple(natural_key(k(item)) for k in keys))


def group_naturally(items: Iterable[T], key: Callable[[T], str]) -> list[tuple[str, list[T]]]:
    """Items grouped by `key` (2栋's units, then 10栋's), groups and members in natural order."""
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return [(name, groups[name]) for name in sorted(groups, key=natural_key)]
