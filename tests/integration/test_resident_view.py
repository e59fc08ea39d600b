"""A resident's view is redacted once, in the service: the object handed to a template (the
unit page, the vote confirmation, a printed own copy) or to the JSON encoder holds no other
household's name, phone, vote, stance, share or objection reasons at all, so no template `if`
and no adapter branch is needed to hide them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from enum import Enum
from typing import Any

import pytest
from sqlalchemy import Engine

from colift.model.accounts import AccountRole
from colift.services.access import Principal
from colift.services.consent import raise_objection
from colift.services.demo import seed_demo
from colift.services.demo_accounts import seed_demo_accounts
from colift.services.documents import unit_document
from colift.services.registry import list_units
from colift.services.views import UnitPage, unit_page, unit_page_for


def strings(value: Any, seen: set[int] | None = None) -> Iterator[str]:
    """Every string reachable from `value`: dataclass fields, mappings (keys too), sequences."""
    seen = seen if seen is not None else set()
    if isinstance(value, str):
        yield value
        return
    if isinstance(value, Enum) or id(value) in seen:
        return
    seen.add(id(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from strings(getattr(value, f.name), seen)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from strings(k, seen)
            yield from strings(v, seen)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from strings(item, seen)


@dataclasses.dataclass
class Stairwell:
    engine: Engine
    unit_id: int
    room: str
    resident: Principal
    full: UnitPage


@pytest.fixture
def stairwell(engine: Engine) -> Stairwell:
    code, _ = seed_demo(engine)
    seed_demo_accounts(engine, code)
    unit = list_units(engine, code)[0]
    full = unit_page(engine, unit.id)
    rooms = [flat.room for floor in full.floors for flat in floor]
    room, other = rooms[0], rooms[1]
    # another household objects, with reasons only they and the managers may read
    raise_objection(engine, unit.id, other, ["noise"], actor="test")
    full = unit_page(engine, unit.id)
    who = Principal("resident", AccountRole.RESIDENT, code, unit.id, room)
    return Stairwell(engine, unit.id, room, who, full)


def other_households(s: Stairwell) -> set[str]:
    """Names and phone numbers of every household but the resident's own (at least one)."""
    found = {
        text
        for floor in s.full.floors
        for flat in floor
        if flat.room != s.room
        for person in flat.residents
        for text in (person.name, person.phone)
        if text
    }
    assert found, "the demo stairwell has named neighbours"
    return found


def test_the_unit_page_a_resident_receives_names_no_other_household(s: Stairwell) -> None:
    view = unit_page_for(s.engine, s.unit_id, s.resident)
    assert not other_households(s) & set(strings(view))
    assert view.reader_room == s.room and view.advice is None
    assert view.activities == [] and all(t.actor == "" for t in view.transitions)
    for floor in view.floors:
        for flat in floor:
            assert flat.residents == ()
            if flat.room != s.room:
                assert flat.withheld and (flat.vote, flat.stance, flat.share_fen) == (None, "", None)
    assert [r.room for r in view.consent.input.rows] == [s.room]
    assert all(o.household == "" for o in view.consent.result.counts.unresolved_objections)
    assert all(room == "" for room in view.consent.result.counts.occupied_not_agreeing)
    if view.shares is not None:
        assert [line.id for line in view.shares.lines] == [s.room]
        assert all(lever.household == s.room for lever in view.shares.levers)
        assert all(i == s.room for r in view.shares.running for i, _ in r.fen_by_id)
    others = [o for o in view.objections if o.room != s.room]
    assert others, "the neighbour's objection is listed (status and dates)"
    assert all(o.room == "" and o.reasons == () and o.notes == "" for o in others)
    assert set(view.stances) <= {s.room}


def test_a_manager_still_receives_every_household(s: Stairwell) -> None:
    worker = Principal("worker", AccountRole.WORKER, s.resident.compound)
    view = unit_page_for(s.engine, s.unit_id, worker)
    assert other_households(s) & set(strings(view))
    assert view.advice is not None and view.reader_room is None


def test_a_readers_phones_are_masked_in_the_data_unless_the_compound_calls_them(
    s: Stairwell,
) -> None:
    street = Principal("street", AccountRole.STREET_VIEWER)
    phones = {p.phone for floor in s.full.floors for f in floor for p in f.residents if p.phone}
    assert phones
    assert not phones & set(strings(unit_page_for(s.engine, s.unit_id, street)))


@pytest.mark.parametrize("kind", ["agreement", "signatures"])
def test_a_residents_own_copy_holds_no_other_household(s: Stairwell, kind: str) -> None:
    doc = unit_document(s.engine, s.unit_id, kind, only_room=s.room)
    assert not other_households(s) & set(strings(doc))
    assert doc.page.reader_room == s.room
    assert {o["room"] for o in doc.owners} <= {s.room}


@pytest.fixture
def s(stairwell: Stairwell) -> Stairwell:
    return stairwell
