"""The set-based tally against the scalar consent engine, unit by unit, on SQLite and PostgreSQL.

Random units are written straight into the tables (shared owners, developer-held flats,
several rounds, explicit and missing ballots, objections, occupied flats); each unit is then
counted twice: by `tally_units` in SQL and by `count_votes` + `decide` on the same flats.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, insert

from colift.errors import BadInput, NotFound
from colift.model import ObjectionStatus, Tenure, Vote
from colift.rules.consent import (
    ConsentCounts,
    Flat,
    Objection,
    Scope,
    available_profiles,
    count_votes,
    decide,
    load_profile,
)
from colift.store import tables as t
from colift.store import tally
from colift.store.repository import mark_owner_heads
from colift.store.tally import UnitTally, tally_units

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "tally_city.py"
VOTES = [Vote.AGREE, Vote.AGREE, Vote.AGREE, Vote.DISAGREE, Vote.ABSTAIN, Vote.ABSENT]
OPENED = date(2024, 1, 1)


@dataclass
class FlatRow:
    id: int
    room: str
    area_cm2: int
    owner_id: int
    tenure: Tenure


@dataclass
class UnitRow:
    id: int
    compound_id: int
    profile: str
    flats: list[FlatRow] = field(default_factory=list)
    votes: dict[int, Vote] = field(default_factory=dict)  # current round only; missing: absent
    objections: list[tuple[str, ObjectionStatus]] = field(default_factory=list)
    occupied: list[str] = field(default_factory=list)
    round_id: int | None = None


class City:
    """Random compounds written to the database, with what each unit's current round holds."""

    def __init__(self, conn: Connection, seed: int, *, consistent: bool = True) -> None:
        self.conn = conn
        self.rng = random.Random(seed)
        self.consistent = consistent
        self.units: dict[int, UnitRow] = {}
        self.ids: dict[str, int] = {}

    def next_id(self, table: str) -> int:
        self.ids[table] = self.ids.get(table, 0) + 1
        return self.ids[table]

    def add(self, table: Any, **values: Any) -> None:
        self.conn.execute(insert(table).values(**values))

    def build(self, compounds: int = 3) -> City:
        profiles = available_profiles()
        for _ in range(compounds):
            cid = self.next_id("compounds")
            profile = self.rng.choice(profiles)
            self.add(
                t.compounds,
                id=cid,
                code=f"c{cid}",
                name=f"小区{cid}",
                city="成都",
                consent_profile=profile,
            )
            developers = [self.owner(cid, "developer") for _ in range(2)]
            shared = [self.owner(cid, "person") for _ in range(3)]  # flats in several units
            for b in range(self.rng.randint(1, 3)):
                bid = self.next_id("buildings")
                self.add(t.buildings, id=bid, compound_id=cid, number=str(b + 1), storeys=7)
                for n in range(self.rng.randint(1, 4)):
                    own = self.rng.choice(profiles) if self.rng.random() < 0.3 else None
                    uid = self.next_id("units")
                    self.add(
                        t.units, id=uid, building_id=bid, number=str(n + 1), consent_profile=own
                    )
                    unit = UnitRow(uid, cid, own or profile)
                    self.units[uid] = unit
                    self.fill(unit, developers, shared)
        return self

    def owner(self, compound_id: int, kind: str) -> int:
        oid = self.next_id("owners")
        self.add(t.owners, id=oid, compound_id=compound_id, name=f"{kind}{oid}", kind=kind)
        return oid

    def fill(self, unit: UnitRow, developers: list[int], shared: list[int]) -> None:
        rng = self.rng
        count = rng.choice([0, 1, 2, 5, 8, 12, 12, 13, 14])
        unit_owners: list[int] = []
        for i in range(count):
            roll = rng.random()
            if roll < 0.12:
                tenure = rng.choice([Tenure.DEVELOPER_UNSOLD, Tenure.DEVELOPER_UNDELIVERED])
                # Undelivered flats may already name their buyer: still the developer's head.
                owner = rng.choice(developers + unit_owners[:1])
            elif roll < 0.3 and unit_owners:
                tenure, owner = Tenure.RENTED, rng.choice(unit_owners)
            elif roll < 0.36:
                tenure, owner = Tenure.ABSENTEE, rng.choice(shared + developers)
            else:
                tenure, owner = Tenure.OWNER_OCCUPIED, self.owner(unit.compound_id, "person")
                unit_owners.append(owner)
            hid = self.next_id("households")
            floor = i // 2 + 1
            room = f"{floor}0{i % 2 + 1}"
            area = rng.randint(400_000, 1_200_000) if rng.random() < 0.9 else rng.randint(1, 9)
            self.add(
                t.households,
                id=hid,
                unit_id=unit.id,
                room=room,
                floor=floor,
                area_cm2=area,
                area_source="registered",
                tenure=tenure.value,
                owner_id=owner,
            )
            unit.flats.append(FlatRow(hid, room, area, owner, tenure))
        self.rounds(unit)
        statuses = list(ObjectionStatus)
        for flat in unit.flats:
            for _ in range(rng.choice([1, 2]) if rng.random() < 0.1 else 0):
                status = rng.choice(statuses)
                self.add(
                    t.objections,
                    id=self.next_id("objections"),
                    household_id=flat.id,
                    reasons="light",
                    status=status.value,
                    raised_on=OPENED,
                    updated_on=OPENED,
                )
                unit.objections.append((flat.room, status))
            if rng.random() < 0.1:
                self.add(t.occupied_households, household_id=flat.id)
                unit.occupied.append(flat.room)

    def rounds(self, unit: UnitRow) -> None:
        """0-3 unit rounds (plus a building round the tally ignores); the last one created counts."""
        rng = self.rng
        planned = []
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            planned.append((self.next_id("vote_rounds"), OPENED + timedelta(rng.randint(0, 3))))
        if unit.flats and rng.random() < 0.2:
            rid = self.next_id("vote_rounds")
            self.add(
                t.vote_rounds,
                id=rid,
                scope_kind="building",
                scope_id=unit.id,
                profile=unit.profile,
                opened_on=OPENED + timedelta(9),
            )
            self.ballots(rid, unit, {f.id: Vote.AGREE for f in unit.flats})
        if not planned:
            return
        current = max(rid for rid, _ in planned)  # the latest row, whatever its opening date
        for rid, opened in planned:
            self.add(
                t.vote_rounds,
                id=rid,
                scope_kind="unit",
                scope_id=unit.id,
                profile=unit.profile,
                opened_on=opened,
            )
            votes = self.draw_votes(unit)
            self.ballots(rid, unit, votes)
            if rid == current:
                unit.round_id = rid
                unit.votes = {h: v for h, v in votes.items() if v is not Vote.ABSENT}

    def draw_votes(self, unit: UnitRow) -> dict[int, Vote]:
        """One vote per owner key (developer-held flats share one), or per flat if inconsistent."""
        by_key: dict[object, Vote] = {}
        votes: dict[int, Vote] = {}
        for flat in unit.flats:
            key = "developer" if flat.tenure.developer_held else flat.owner_id
            if self.consistent:
                vote = by_key.setdefault(key, self.rng.choice(VOTES))
            else:
                vote = self.rng.choice(VOTES)
            votes[flat.id] = vote
        return votes

    def ballots(self, round_id: int, unit: UnitRow, votes: dict[int, Vote]) -> None:
        for hid, vote in votes.items():
            # Absent is stored either as an explicit ballot or as no ballot at all.
            if vote is Vote.ABSENT and self.rng.random() < 0.5:
                continue
            self.add(t.ballots, round_id=round_id, household_id=hid, vote=vote.value)


def scalar(unit: UnitRow) -> ConsentCounts:
    """The scalar engine's counts for one unit, from what was written."""
    flats = [
        Flat(
            id=f.room,
            area_cm2=f.area_cm2,
            owner=str(f.owner_id),
            vote=unit.votes.get(f.id, Vote.ABSENT),
            developer_held=f.tenure.developer_held,
        )
        for f in unit.flats
    ]
    objections = [Objection(room, status) for room, status in unit.objections]
    return count_votes(flats, objections, unit.occupied)


def by_rule(unit: UnitRow) -> ConsentCounts:
    """Counts under the documented rule for owners whose flats voted differently.

    The flat carrying the owner's head (the owner's lowest-numbered flat in the unit; one for
    all developer-held flats) speaks for the owner.
    """
    head_vote: dict[object, tuple[int, Vote]] = {}
    for f in unit.flats:
        key = "developer" if f.tenure.developer_held else f.owner_id
        vote = unit.votes.get(f.id, Vote.ABSENT)
        if key not in head_vote or f.id < head_vote[key][0]:
            head_vote[key] = (f.id, vote)
    keys = {k: [v] for k, (_, v) in head_vote.items()}
    votes = [unit.votes.get(f.id, Vote.ABSENT) for f in unit.flats]
    occupied = sorted(
        f.room
        for f in unit.flats
        if f.room in unit.occupied and unit.votes.get(f.id) is not Vote.AGREE
    )
    return ConsentCounts(
        total_area_cm2=sum(f.area_cm2 for f in unit.flats),
        participating_area_cm2=sum(
            f.area_cm2 for f, v in zip(unit.flats, votes, strict=True) if v.participates
        ),
        agree_area_cm2=sum(
            f.area_cm2 for f, v in zip(unit.flats, votes, strict=True) if v is Vote.AGREE
        ),
        total_heads=len(keys),
        participating_heads=sum(1 for vs in keys.values() if any(v.participates for v in vs)),
        agree_heads=sum(1 for vs in keys.values() if all(v is Vote.AGREE for v in vs)),
        unresolved_objections=tuple(
            sorted(
                (Objection(r, s) for r, s in unit.objections if s.unresolved),
                key=lambda o: o.household,
            )
        ),
        occupied_not_agreeing=tuple(occupied),
    )


def build(engine: Engine, seed: int, *, consistent: bool = True, compounds: int = 3) -> City:
    with engine.begin() as conn:
        city = City(conn, seed, consistent=consistent).build(compounds)
        mark_owner_heads(conn)  # raw inserts bypass the repository, which marks them itself
        return city


def tallies(engine: Engine, **kwargs: Any) -> dict[int, UnitTally]:
    with engine.connect() as conn:
        return {u.unit_id: u for u in tally_units(conn, **kwargs)}


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_matches_the_scalar_engine(engine: Engine, seed: int) -> None:
    city = build(engine, seed)
    fast = tallies(engine)
    explained = tallies(engine, explain=True)
    assert list(fast) == sorted(city.units)
    for uid, unit in city.units.items():
        got = fast[uid]
        assert got.profile == unit.profile
        assert got.round_id == unit.round_id
        assert got.result is None
        profile = load_profile(unit.profile)
        if not unit.flats:
            assert got.counts == ConsentCounts(0, 0, 0, 0, 0, 0)
            assert not got.passed
            continue
        want = scalar(unit)
        assert got.counts == want, f"unit {uid}"
        expected = decide(profile, want, Scope.UNIT)
        assert got.passed == expected.passed, f"unit {uid}"
        assert explained[uid].result == expected
        assert explained[uid].passed == expected.passed


@pytest.mark.parametrize("seed", [5, 6])
def test_owners_whose_flats_disagree(engine: Engine, seed: int) -> None:
    """The flat carrying the owner's head speaks for an owner whose flats disagree."""
    city = build(engine, seed, consistent=False)
    got = tallies(engine)
    disagreeing = 0
    for uid, unit in city.units.items():
        assert got[uid].counts == by_rule(unit), f"unit {uid}"
        try:
            scalar(unit)
        except BadInput:
            disagreeing += 1
    assert disagreeing > 0  # the seed must exercise the rule


def test_hand_counted_unit(engine: Engine) -> None:
    """Two flats of one owner, three developer-held flats under two owner ids, one absent."""
    with engine.begin() as conn:
        conn.execute(
            insert(t.compounds).values(
                id=1, code="c", name="c", city="c", consent_profile="cn-civil-code-278"
            )
        )
        conn.execute(insert(t.buildings).values(id=1, compound_id=1, number="1", storeys=6))
        conn.execute(insert(t.units).values(id=1, building_id=1, number="1"))
        conn.execute(
            insert(t.owners),
            [{"id": i, "compound_id": 1, "name": f"o{i}", "kind": "person"} for i in range(1, 6)],
        )
        flats = [  # id, owner, tenure, area m², vote
            (1, 1, "owner_occupied", 60, "agree"),
            (2, 1, "rented", 80, "disagree"),  # same owner, other vote: flat 1 speaks for owner 1
            (3, 2, "developer_unsold", 70, "agree"),
            (4, 2, "developer_unsold", 70, None),
            (5, 3, "developer_undelivered", 70, "agree"),  # buyer named, still the developer
            (6, 4, "owner_occupied", 90, "agree"),
            (7, 5, "owner_occupied", 50, "absent"),
        ]
        conn.execute(
            insert(t.households),
            [
                {
                    "id": h,
                    "unit_id": 1,
                    "room": f"r{h}",
                    "floor": 1,
                    "area_cm2": a * 10_000,
                    "area_source": "registered",
                    "tenure": ten,
                    "owner_id": o,
                }
                for h, o, ten, a, _ in flats
            ],
        )
        mark_owner_heads(conn)
        conn.execute(
            insert(t.vote_rounds).values(
                id=1, scope_kind="unit", scope_id=1, profile="x", opened_on=OPENED
            )
        )
        conn.execute(
            insert(t.ballots),
            [{"round_id": 1, "household_id": h, "vote": v} for h, _, _, _, v in flats if v],
        )
    (got,) = tallies(engine).values()
    assert got.counts == ConsentCounts(
        total_area_cm2=490 * 10_000,
        participating_area_cm2=(60 + 80 + 70 + 70 + 90) * 10_000,
        agree_area_cm2=(60 + 70 + 70 + 90) * 10_000,
        total_heads=4,  # owner 1, the developer, owner 4, owner 5
        participating_heads=3,
        agree_heads=3,  # owner 1 (flat 1), the developer (flat 3), owner 4
    )
    assert got.round_id == 1


def test_scopes(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    city = build(engine, 7, compounds=3)
    everything = tallies(engine)
    compound = next(iter(city.units.values())).compound_id
    in_compound = tallies(engine, compound_id=compound)
    assert sorted(in_compound) == sorted(
        u.id for u in city.units.values() if u.compound_id == compound
    )
    assert all(in_compound[u] == everything[u] for u in in_compound)
    some = sorted(city.units)[1::2]
    listed = tallies(engine, unit_ids=reversed(some))
    assert list(listed) == some
    assert all(listed[u] == everything[u] for u in some)
    monkeypatch.setattr(tally, "UNITS_PER_STATEMENT", 2)  # long lists go in several statements
    assert tallies(engine, unit_ids=some) == listed
    with engine.connect() as conn:
        with pytest.raises(NotFound):
            list(tally_units(conn, unit_ids=[some[0], 10_000]))
        with pytest.raises(NotFound):
            list(tally_units(conn, compound_id=10_000))


def test_benchmark_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The benchmark runs end to end on a small city and reports what it measured."""
    spec = importlib.util.spec_from_file_location("tally_city", BENCHMARK)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["tally_city"] = bench
    spec.loader.exec_module(bench)
    out = tmp_path / "bench.json"
    figures = bench.main(
        [
            "--households",
            "2000",
            "--units",
            "160",
            "--backend",
            "sqlite",
            "--runs",
            "1",
            "--json-out",
            str(out),
        ]
    )
    (row,) = figures
    assert row["backend"] == "sqlite" and row["units"] == 160 and row["households"] == 2000
    assert row["tally_s"] > 0 and row["floor_join_s"] > 0
    assert out.read_text(encoding="utf-8").strip()
    assert "tally/join" in capsys.readouterr().out
