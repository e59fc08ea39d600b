"""What the ledger implies about the tables, and the first place the tables disagree.

A `Replay` reads one compound's chain entry by entry and builds the rows the tables must hold:
the registry a tally reads (compound, buildings, units, owners, flats with area, tenure and
owner, the flat that carries each owner's head, occupied flats), vote rounds with their close
or void, ballots, objections and their status, cost plans, each unit's project and stage
transitions, stances, technical issues and activities. `compare` then reads the compound's rows
and names the first difference: the table, the row, what the ledger says and what the table
says, and the entry that said it.

Free text is compared after resolving the kept text (`ledger.keep_text`); an erased text is
expected to be empty in its table too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NoReturn

from sqlalchemy import Connection, Select, Table, select

from colift.i18n import msg
from colift.store import ledger as chain_ledger
from colift.store.ledger import KeptText, LedgerEntry, Problem, canonical_json, text_ref
from colift.store.tables import (
    activities,
    ballots,
    buildings,
    compounds,
    cost_plans,
    households,
    metadata,
    objections,
    occupied_households,
    owners,
    stage_transitions,
    stances,
    technical_issues,
    unit_projects,
    units,
    vote_rounds,
)

Key = tuple[Any, ...]
DEVELOPER_TENURES = frozenset({"developer_unsold", "developer_undelivered"})


@dataclass
class Image:
    """The values the ledger implies for one row, and the entry that last set them."""

    values: dict[str, Any]
    seq: int


@dataclass(frozen=True)
class Spec:
    """How one table is compared: its key, the columns the ledger records, its JSON columns,
    and the query for one compound's rows."""

    table: Table
    key: tuple[str, ...]
    columns: tuple[str, ...]
    rows: Callable[[int], Select[Any]]
    json_columns: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return self.table.name


def _units_of(compound_id: int) -> Select[Any]:
    return (
        select(units.c.id)
        .join(buildings, buildings.c.id == units.c.building_id)
        .where(buildings.c.compound_id == compound_id)
    )


def _flats_of(compound_id: int) -> Select[Any]:
    return select(households.c.id).where(households.c.unit_id.in_(_units_of(compound_id)))


def _round_columns() -> tuple[str, ...]:
    base = (
        "compound_id",
        "scope_kind",
        "scope_id",
        "profile",
        "title",
        "opened_on",
        "closed_on",
        "status",
        "closed_by",
        "closed_head",
        "tally",
        "void_reason",
    )
    return (*base, "profile_sha256")


# Compared in this order; the first difference found is the one reported.
SPECS: tuple[Spec, ...] = (
    Spec(
        compounds,
        ("id",),
        (
            "code",
            "name",
            "city",
            "district",
            "street",
            "community",
            "built_year",
            "consent_profile",
            "subsidy_profile",
        ),
        lambda c: select(compounds).where(compounds.c.id == c),
    ),
    Spec(
        buildings,
        ("id",),
        ("compound_id", "number", "storeys", "built_year"),
        lambda c: select(buildings).where(buildings.c.compound_id == c),
    ),
    Spec(
        units,
        ("id",),
        ("building_id", "number", "consent_profile"),
        lambda c: select(units).where(units.c.id.in_(_units_of(c))),
    ),
    Spec(
        owners,
        ("id",),
        ("compound_id", "kind", "name"),
        lambda c: select(owners).where(owners.c.compound_id == c),
    ),
    Spec(
        households,
        ("id",),
        ("unit_id", "room", "floor", "area_cm2", "area_source", "tenure", "owner_id", "owner_head"),
        lambda c: select(households).where(households.c.unit_id.in_(_units_of(c))),
    ),
    Spec(
        occupied_households,
        ("household_id",),
        ("note",),
        lambda c: select(occupied_households).where(
            occupied_households.c.household_id.in_(_flats_of(c))
        ),
    ),
    Spec(
        vote_rounds,
        ("id",),
        _round_columns(),
        lambda c: select(vote_rounds).where(vote_rounds.c.compound_id == c),
        frozenset({"tally"}),
    ),
    Spec(
        ballots,
        ("round_id", "household_id"),
        ("vote", "signed_on", "recorded_by"),
        lambda c: select(ballots).where(
            ballots.c.round_id.in_(select(vote_rounds.c.id).where(vote_rounds.c.compound_id == c))
        ),
    ),
    Spec(
        objections,
        ("id",),
        ("household_id", "reasons", "status", "raised_on", "updated_on", "handled_by", "notes"),
        lambda c: select(objections).where(objections.c.household_id.in_(_flats_of(c))),
    ),
    Spec(
        cost_plans,
        ("unit_id",),
        ("total_fen", "plan", "updated_on", "updated_by"),
        lambda c: select(cost_plans).where(cost_plans.c.unit_id.in_(_units_of(c))),
        frozenset({"plan"}),
    ),
    Spec(
        unit_projects,
        ("unit_id",),
        tuple(col.name for col in unit_projects.c if col.name != "unit_id"),
        lambda c: select(unit_projects).where(unit_projects.c.unit_id.in_(_units_of(c))),
    ),
    Spec(
        stage_transitions,
        ("id",),
        ("unit_id", "from_stage", "to_stage", "on", "actor", "reason", "reference"),
        lambda c: select(stage_transitions).where(stage_transitions.c.unit_id.in_(_units_of(c))),
    ),
    Spec(
        stances,
        ("household_id",),
        ("stance", "reasons", "recorded_on", "activity_id"),
        lambda c: select(stances).where(stances.c.household_id.in_(_flats_of(c))),
    ),
    Spec(
        technical_issues,
        ("id",),
        ("unit_id", "kind", "severity", "resolved", "note", "found_on", "resolved_on"),
        lambda c: select(technical_issues).where(technical_issues.c.unit_id.in_(_units_of(c))),
    ),
    Spec(
        activities,
        ("id",),
        (
            "unit_id",
            "person_id",
            "actor_name",
            "role",
            "guidance",
            "tool",
            "on",
            "notes",
            "outcome",
            "money_fen",
            "labour_hours",
            "participants",
        ),
        lambda c: select(activities).where(activities.c.unit_id.in_(_units_of(c))),
        frozenset({"outcome"}),
    ),
)
# Work steps the law requires (revision 0007).
_steps = metadata.tables["work_steps"]
SPECS = (
    *SPECS,
    Spec(
        _steps,
        ("unit_id", "step"),
        ("done_on", "reference", "recorded_by"),
        lambda c: select(_steps).where(_steps.c.unit_id.in_(_units_of(c))),
    ),
)
# Community regeneration records (revision 0011): what happened after a lift ran.
_regeneration = metadata.tables["regeneration_events"]
SPECS = (
    *SPECS,
    Spec(
        _regeneration,
        ("id",),
        ("compound_id", "unit_id", "kind", "on", "households", "of_households", "title"),
        lambda c: select(_regeneration).where(_regeneration.c.compound_id == c),
    ),
)
SPEC_BY_NAME = {s.name: s for s in SPECS}
# Project facts a stage transition may set besides the stage (store.coproduction.PROJECT_FIELDS).
_TRANSITION_KEYS = frozenset({"transition_id", "from", "to", "on", "reason", "reference"})


def normal(value: Any) -> Any:
    """A table value as the ledger's JSON holds it: dates as ISO text, the rest as is."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class Verdict(Exception):
    """Raised inside a replay to stop at the first problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.text.render("en"))
        self.problem = problem


@dataclass
class Replay:
    """The rows one compound's chain implies, built entry by entry."""

    chain: str
    tables: dict[str, dict[Key, Image]] = field(default_factory=dict)
    texts: dict[str, int] = field(default_factory=dict)  # kept-text digest → first seq using it
    erasures: set[str] = field(default_factory=set)  # digests an erasure entry names

    def rows(self, table: str) -> dict[Key, Image]:
        return self.tables.setdefault(table, {})

    def _set(self, table: str, key: Key, values: Mapping[str, Any], seq: int) -> None:
        self.rows(table)[key] = Image(dict(values), seq)

    def _update(self, e: LedgerEntry, table: str, key: Key, values: Mapping[str, Any]) -> Image:
        image = self.rows(table).get(key)
        if image is None:
            self._fail(
                e,
                msg(
                    "chain {chain}: entry {seq} ({action}) changes {table} row {row}, which no "
                    "earlier entry created",
                    chain=e.chain,
                    seq=e.seq,
                    action=e.action,
                    table=table,
                    row=describe_key(SPEC_BY_NAME[table].key, key),
                ),
            )
        image.values.update(values)
        image.seq = e.seq
        return image

    def _fail(self, e: LedgerEntry, text: Any) -> NoReturn:
        raise Verdict(Problem(text, chain=e.chain, seq=e.seq))

    def apply(self, e: LedgerEntry) -> None:
        for digest in chain_ledger.text_refs(e.payload):
            self.texts.setdefault(digest, e.seq)
        handler = _HANDLERS.get(e.action)
        if handler is None and e.action.endswith(".baseline"):
            handler = _baseline
        if handler is None:
            return
        try:
            handler(self, e, e.payload)
        except (KeyError, TypeError, ValueError, AttributeError):
            self._fail(
                e,
                msg(
                    "chain {chain}: entry {seq} ({action}) has a payload colift cannot read",
                    chain=e.chain,
                    seq=e.seq,
                    action=e.action,
                ),
            )

    # --- derived facts ---------------------------------------------------------------------

    def derive_owner_heads(self) -> None:
        """Which flat carries each owner's head: the lowest id per owner (developer: one)."""
        first: dict[tuple[Any, Any], int] = {}
        flats = self.rows("households")
        for (household_id,), image in sorted(flats.items()):
            v = image.values
            owner = -1 if v.get("tenure") in DEVELOPER_TENURES else v.get("owner_id")
            first.setdefault((v.get("unit_id"), owner), household_id)
        carriers = set(first.values())
        for (household_id,), image in flats.items():
            image.values["owner_head"] = 1 if household_id in carriers else 0


def describe_key(columns: Iterable[str], key: Key) -> str:
    return ", ".join(f"{c}={v}" for c, v in zip(columns, key, strict=True))


# --- handlers, one per action ----------------------------------------------------------------


Handler = Callable[[Replay, LedgerEntry, dict[str, Any]], None]
_HANDLERS: dict[str, Handler] = {}


def _handles(*actions: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        for action in actions:
            _HANDLERS[action] = func
        return func

    return register


def _without(payload: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in names}


@_handles("compound.add")
def _compound_add(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    r._set("compounds", (p["compound_id"],), _without(p, "compound_id"), e.seq)


@_handles("building.add")
def _building_add(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    r._set("buildings", (p["building_id"],), _without(p, "building_id"), e.seq)


@_handles("unit.add")
def _unit_add(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    r._set("units", (p["unit_id"],), _without(p, "unit_id"), e.seq)


@_handles("owner.add")
def _owner_add(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    r._set("owners", (p["owner_id"],), _without(p, "owner_id"), e.seq)


@_handles("owner.update")
def _owner_update(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    r._update(e, "owners", (p["owner_id"],), p["set"])


@_handles("household.add")
def _household_add(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    r._set("households", (p["household_id"],), _without(p, "household_id"), e.seq)


@_handles("household.update")
def _household_update(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    r._update(e, "households", (p["household_id"],), p["set"])


@_handles("occupied.mark")
def _occupied_mark(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    r._set("occupied_households", (p["household_id"],), {"note": p["note"]}, e.seq)


@_handles("occupied.unmark")
def _occupied_unmark(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    r.rows("occupied_households").pop((p["household_id"],), None)


@_handles("round.open")
def _round_open(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    values = {
        "compound_id": p["compound_id"],
        "scope_kind": p["scope_kind"],
        "scope_id": p["scope_id"],
        "profile": p["profile"],
        "title": p["title"],
        "opened_on": p["opened_on"],
        "closed_on": None,
        "status": "open",
        "closed_by": None,
        "closed_head": None,
        "tally": None,
        "void_reason": "",
    }
    values["profile_sha256"] = p.get("profile_sha256")
    r._set("vote_rounds", (p["round_id"],), values, e.seq)


def _open_round(r: Replay, e: LedgerEntry, round_id: int) -> Image:
    image = r.rows("vote_rounds").get((round_id,))
    if image is None or image.values["status"] != "open":
        r._fail(
            e,
            msg(
                "chain {chain}: entry {seq} ({action}) acts on vote round {round}, which the "
                "ledger does not show open",
                chain=e.chain,
                seq=e.seq,
                action=e.action,
                round=round_id,
            ),
        )
    assert image is not None
    return image


@_handles("round.close")
def _round_close(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    _open_round(r, e, p["round_id"])
    r._update(
        e,
        "vote_rounds",
        (p["round_id"],),
        {
            "closed_on": p["closed_on"],
            "status": "closed",
            "closed_by": e.actor,
            "closed_head": e.hash,
            "tally": p["tally"],
        },
    )


@_handles("round.void")
def _round_void(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    _open_round(r, e, p["round_id"])
    r._update(
        e,
        "vote_rounds",
        (p["round_id"],),
        {
            "closed_on": p["closed_on"],
            "status": "void",
            "closed_by": e.actor,
            "closed_head": e.hash,
            "void_reason": p["reason"],
        },
    )


@_handles("ballot.set")
def _ballot_set(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    _open_round(r, e, p["round_id"])
    key = (p["round_id"], p["household_id"])
    before = r.rows("ballots").get(key)
    known = None if before is None else before.values["vote"]
    if p.get("previous") != known:
        r._fail(
            e,
            msg(
                "chain {chain}: entry {seq} says the previous vote of household {household} in "
                "round {round} was {said}, but the ledger before it records {known}",
                chain=e.chain,
                seq=e.seq,
                household=p["household_id"],
                round=p["round_id"],
                said=p.get("previous") or "—",
                known=known or "—",
            ),
        )
    values = {"vote": p["vote"], "signed_on": p["signed_on"], "recorded_by": e.actor}
    r._set("ballots", key, values, e.seq)


@_handles("objection.raise")
def _objection_raise(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    values = {
        "household_id": p["household_id"],
        "reasons": ",".join(p["reasons"]),
        "status": "open",
        "raised_on": p["raised_on"],
        "updated_on": p["raised_on"],
        "handled_by": e.actor,
        "notes": p["notes"],
    }
    r._set("objections", (p["objection_id"],), values, e.seq)


@_handles("objection.status")
def _objection_status(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    key = (p["objection_id"],)
    current = r.rows("objections").get(key)
    if current is not None and current.values["status"] != p["from"]:
        r._fail(
            e,
            msg(
                "chain {chain}: entry {seq} moves objection {id} from {said}, but the ledger "
                "before it has it at {known}",
                chain=e.chain,
                seq=e.seq,
                id=p["objection_id"],
                said=p["from"],
                known=current.values["status"],
            ),
        )
    values: dict[str, Any] = {"status": p["to"], "updated_on": p["on"], "handled_by": e.actor}
    if "notes" in p:
        values["notes"] = p["notes"]
    r._update(e, "objections", key, values)


@_handles("costplan.set")
def _costplan_set(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    plan = p["plan"]
    values = {
        "total_fen": plan.get("total_fen") if isinstance(plan, dict) else None,
        "plan": plan,
        "updated_on": p["on"],
        "updated_by": e.actor,
    }
    r._set("cost_plans", (p["unit_id"],), values, e.seq)


@_handles("stage.transition")
def _stage_transition(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    unit_id = e.unit_id
    key = (unit_id,)
    current = r.rows("unit_projects").get(key)
    known = None if current is None else current.values["stage"]
    if p["from"] != known:
        r._fail(
            e,
            msg(
                "chain {chain}: entry {seq} moves unit {unit} from {said}, but the ledger before "
                "it has the unit at {known}",
                chain=e.chain,
                seq=e.seq,
                unit=unit_id,
                said=p["from"] or "—",
                known=known or "—",
            ),
        )
    extra = {k: v for k, v in p.items() if k not in _TRANSITION_KEYS}
    if current is None:
        values: dict[str, Any] = {
            col: None for col in SPEC_BY_NAME["unit_projects"].columns if col != "unit_id"
        }
        values.update({"stage": p["to"], "stage_since": p["on"], **extra})
        r._set("unit_projects", key, values, e.seq)
    else:
        r._update(
            e,
            "unit_projects",
            key,
            {
                "stage": p["to"],
                "stage_since": p["on"],
                "suspended_from": p["from"] if p["to"] == "suspended" else None,
                **extra,
            },
        )
    r._set(
        "stage_transitions",
        (p["transition_id"],),
        {
            "unit_id": unit_id,
            "from_stage": p["from"],
            "to_stage": p["to"],
            "on": p["on"],
            "actor": e.actor,
            "reason": p["reason"],
            "reference": p["reference"],
        },
        e.seq,
    )


@_handles("stance.set")
def _stance_set(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    values = {
        "stance": p["stance"],
        "reasons": ",".join(p["reasons"]),
        "recorded_on": p["on"],
        "activity_id": p["activity_id"],
    }
    r._set("stances", (p["household_id"],), values, e.seq)


@_handles("technical.record")
def _technical_record(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    values = {
        "unit_id": p["unit_id"],
        "kind": p["kind"],
        "severity": p["severity"],
        "resolved": bool(p["resolved"]),
        "note": p["note"],
        "found_on": p["found_on"],
        "resolved_on": p["found_on"] if p["resolved"] else None,
    }
    r._set("technical_issues", (p["technical_id"],), values, e.seq)


@_handles("technical.resolve")
def _technical_resolve(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    values: dict[str, Any] = {"resolved": True, "resolved_on": p["on"]}
    if "note" in p:
        values["note"] = p["note"]
    r._update(e, "technical_issues", (p["technical_id"],), values)


@_handles("activity.record")
def _activity_record(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    values = {
        "unit_id": p["unit_id"],
        "person_id": p["person_id"],
        "actor_name": p["actor_name"],
        "role": p["role"],
        "guidance": p["guidance"],
        "tool": p["tool"],
        "on": p["on"],
        "notes": p["notes"],
        "outcome": p["outcome"],
        "money_fen": p["money_fen"],
        "labour_hours": p["labour_hours"],
        "participants": p["participants"],
    }
    r._set("activities", (p["activity_id"],), values, e.seq)


@_handles("step.record")
def _step_record(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    unit_id = e.unit_id if e.unit_id is not None else int(e.subject.partition(":")[2])
    values = {"done_on": p["done_on"], "reference": p["reference"], "recorded_by": e.actor}
    r._set("work_steps", (unit_id, p["step"]), values, e.seq)


@_handles("regeneration.record")
def _regeneration_record(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    values = {
        "compound_id": int(e.subject.partition(":")[2]),
        "unit_id": p["unit_id"],
        "kind": p["kind"],
        "on": p["on"],
        "households": p["households"],
        "of_households": p["of_households"],
        "title": p["title"],
    }
    r._set("regeneration_events", (p["regeneration_id"],), values, e.seq)


@_handles("text.erase")
def _text_erase(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    r.erasures.update(p.get("digests", []))


def _baseline(r: Replay, e: LedgerEntry, p: dict[str, Any]) -> None:
    """A row as it stood when the ledger began protecting its table (revision 0008)."""
    table = e.action.removesuffix(".baseline")
    if table in SPEC_BY_NAME and "key" in p and "row" in p:
        r._set(table, tuple(p["key"]), p["row"], e.seq)


# --- comparing with the tables ---------------------------------------------------------------


def resolve(value: Any, texts: Mapping[str, KeptText]) -> Any:
    """`value` with kept-text references replaced by their text ("" when erased)."""
    ref = text_ref(value)
    if ref is not None:
        kept = texts.get(ref)
        return "" if kept is None or kept.text is None else kept.text
    if isinstance(value, dict):
        return {k: resolve(v, texts) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, texts) for v in value]
    return value


def check_texts(conn: Connection, replay: Replay) -> tuple[dict[str, KeptText], list[int]]:
    """The kept texts of a chain, checked against their digests; the seqs of erased ones."""
    texts = chain_ledger.kept_texts(conn, replay.texts)
    erased: list[int] = []
    for digest, seq in sorted(replay.texts.items(), key=lambda item: item[1]):
        kept = texts.get(digest)
        where = {"chain": replay.chain, "seq": seq}
        if kept is None:
            raise Verdict(
                Problem(
                    msg(
                        "chain {chain}: entry {seq} refers to a text that ledger_texts no "
                        "longer holds (deleted?)",
                        **where,
                    ),
                    chain=replay.chain,
                    seq=seq,
                    table="ledger_texts",
                    row=f"digest={digest}",
                )
            )
        if kept.text is None:
            if digest not in replay.erasures:
                raise Verdict(
                    Problem(
                        msg(
                            "chain {chain}: the text of entry {seq} was erased without an "
                            "erasure entry in the ledger",
                            **where,
                        ),
                        chain=replay.chain,
                        seq=seq,
                        table="ledger_texts",
                        row=f"digest={digest}",
                    )
                )
            erased.append(seq)
            continue
        actual = hashlib.sha256(((kept.salt or "") + kept.text).encode("utf-8")).hexdigest()
        if actual != digest:
            raise Verdict(
                Problem(
                    msg(
                        "chain {chain}: the text of entry {seq} was edited in ledger_texts",
                        **where,
                    ),
                    chain=replay.chain,
                    seq=seq,
                    table="ledger_texts",
                    row=f"digest={digest}",
                    ledger_says=digest,
                    table_says=actual,
                )
            )
    return texts, sorted(set(erased))


def _expected(spec: Spec, column: str, value: Any, texts: Mapping[str, KeptText]) -> Any:
    resolved = resolve(value, texts)
    if column in spec.json_columns and resolved is not None:
        return canonical_json(resolved)
    return resolved


def _shown(value: Any) -> str:
    return "NULL" if value is None else str(value)


def compare(
    conn: Connection, replay: Replay, compound_id: int, texts: Mapping[str, KeptText]
) -> int:
    """Compare every protected table's rows of the compound with the replay; returns the rows
    checked, or raises Verdict naming the first difference."""
    replay.derive_owner_heads()
    checked = 0
    for spec in SPECS:
        expected = replay.rows(spec.name)
        actual: dict[Key, Any] = {
            tuple(row._mapping[k] for k in spec.key): row._mapping
            for row in conn.execute(spec.rows(compound_id))
        }
        for key in sorted(expected.keys() | actual.keys(), key=_sortable):
            row_name = describe_key(spec.key, key)
            image, found = expected.get(key), actual.get(key)
            if image is None:
                raise Verdict(
                    Problem(
                        msg(
                            "{table} row {row} is in the table but in no ledger entry: it was "
                            "added behind colift's back",
                            table=spec.name,
                            row=row_name,
                        ),
                        chain=replay.chain,
                        table=spec.name,
                        row=row_name,
                        ledger_says="(no row)",
                        table_says="(a row)",
                    )
                )
            if found is None:
                raise Verdict(
                    Problem(
                        msg(
                            "{table} row {row} is in the ledger (chain {chain}, entry {seq}) "
                            "but not in the table: it was deleted or moved",
                            table=spec.name,
                            row=row_name,
                            chain=replay.chain,
                            seq=image.seq,
                        ),
                        chain=replay.chain,
                        seq=image.seq,
                        table=spec.name,
                        row=row_name,
                        ledger_says="(a row)",
                        table_says="(no row)",
                    )
                )
            for column in spec.columns:
                if column not in image.values:
                    continue  # a column the ledger does not record for this row
                want = _expected(spec, column, image.values[column], texts)
                have = normal(found[column])
                if want != have:
                    raise Verdict(
                        Problem(
                            msg(
                                "{table} row {row}: the ledger says {column} = {ledger} "
                                "(chain {chain}, entry {seq}), the table says {actual}",
                                table=spec.name,
                                row=row_name,
                                column=column,
                                ledger=_shown(want),
                                chain=replay.chain,
                                seq=image.seq,
                                actual=_shown(have),
                            ),
                            chain=replay.chain,
                            seq=image.seq,
                            table=spec.name,
                            row=row_name,
                            ledger_says=_shown(want),
                            table_says=_shown(have),
                        )
                    )
            checked += 1
    return checked


def _sortable(key: Key) -> tuple[Any, ...]:
    return tuple((0, k) if isinstance(k, int) else (1, str(k)) for k in key)
