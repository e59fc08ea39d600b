"""What the web pages show, read in one transaction per page: a unit, a compound, a street.

Each function gathers the results of the other services (consent, cost shares, advice, stage,
objections, activities) so an adapter renders them without touching the store or a rule.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sqlalchemy import Engine

from colift.coproduction.advisor import Advice
from colift.coproduction.catalogue import Catalogue, load_catalogue
from colift.coproduction.stalls import STALLED_AFTER_DAYS  # policy data: stalls.toml
from colift.coproduction.workflow import next_stage
from colift.model import Compound, Person
from colift.model.coproduction import STAGE_ORDER, Activity, Stage, StageTransition
from colift.model.order import group_naturally, natural_key, natural_sorted
from colift.rules.consent import ConsentResult
from colift.rules.consent import Objection as RuleObjection
from colift.rules.costshare import CostShareResult
from colift.services.access import Principal, own_room, sees_phones_in_full
from colift.services.advice import advice_of, build_snapshot
from colift.services.consent import UnitConsent, unit_consent_in
from colift.services.costshare import unit_shares_in
from colift.services.reports import UnitReport
from colift.services.summary import current_lines
from colift.store import UnitOfWork, VoteRound
from colift.store import summary as summary_store
from colift.store.coproduction import StanceRecord, UnitProject
from colift.store.ledger import ChainHead, compound_chain
from colift.store.personal import mask_phone
from colift.store.repository import UnitInfo
from colift.store.steps import StepRecord
from colift.store.summary import SummaryLine
from colift.store.voting import Objection


@dataclass(frozen=True)
class Flat:
    """One flat as the stairwell drawing shows it; names and phones only for managers."""

    room: str
    floor: int
    area_m2: str
    tenure: str
    stance: str
    vote: str | None
    share_fen: int | None
    residents: tuple[Person, ...] = ()
    withheld: bool = False  # another household's flat in a resident's view: room and area only


@dataclass(frozen=True)
class UnitPage:
    compound_code: str
    compound_name: str
    info: UnitInfo
    project: UnitProject
    next_stage: Stage | None
    consent: UnitConsent
    shares: CostShareResult | None  # the split of the unit's stored plan
    objections: list[Objection]
    activities: list[Activity]
    stances: dict[str, StanceRecord]
    transitions: list[StageTransition]
    advice: Advice | None  # None in a resident's view: the advice names households and leaders
    floors: list[list[Flat]]  # top floor first, as the stairwell is drawn
    today: date
    subsidy_profile: str | None = None  # the compound's subsidy rule
    steps: tuple[StepRecord, ...] = ()  # work steps recorded (workflow.WorkStep)
    rounds: tuple[VoteRound, ...] = ()  # every round over the unit, newest first
    ledger_head: ChainHead | None = None  # the compound's ledger head when the page was read
    reader_room: str | None = None  # a resident's own view (`own_page`): their flat; else None


def unit_page(
    engine: Engine, unit_id: int, today: date | None = None, catalogue: Catalogue | None = None
) -> UnitPage:
    today = today or date.today()
    catalogue = catalogue or load_catalogue()
    with UnitOfWork(engine, read_only=True) as uow:
        info = uow.units.info(unit_id)
        compound = uow.compounds.get(info.compound_id)
        code = uow.compounds.code_of(info.compound_id)
        project = uow.projects.get(unit_id)
        consent = unit_consent_in(uow, unit_id)
        shares = unit_shares_in(uow, unit_id)
        snapshot = build_snapshot(uow, unit_id, today, consent=consent, shares=shares)
        objections = uow.objections.list_by_unit(unit_id)
        activities = uow.activities.list_by_unit(unit_id)
        stances = uow.stances.for_unit(unit_id)
        transitions = uow.projects.transitions(unit_id)
        steps = tuple(uow.steps.for_unit(unit_id))
        rounds = tuple(uow.votes.rounds_for_unit(unit_id))
        head = uow.ledger.chain_head(compound_chain(info.compound_id))
        people: dict[str, tuple[Person, ...]] = {}
        for flat in uow.households.list_by_unit(unit_id):
            assert flat.id is not None
            people[flat.room] = tuple(uow.persons.list_by_household(flat.id))
    advice = advice_of(snapshot, catalogue)  # pure computation: after the read transaction ends
    by_floor: dict[int, list[Flat]] = {}
    for h in snapshot.households:
        by_floor.setdefault(h.floor, []).append(
            Flat(
                room=h.room,
                floor=h.floor,
                area_m2=f"{h.area_m2:.2f}",
                tenure=h.tenure.value,
                stance=h.stance.value,
                vote=h.vote.value if h.vote is not None else None,
                share_fen=h.share_fen,
                residents=people.get(h.room, ()),
            )
        )
    floors = [natural_sorted(by_floor[f], lambda x: x.room) for f in sorted(by_floor, reverse=True)]
    upcoming = project.suspended_from or next_stage(project.stage)
    return UnitPage(
        compound_code=code,
        compound_name=compound.name,
        info=info,
        project=project,
        next_stage=upcoming,
        consent=consent,
        shares=shares.result if shares is not None else None,
        objections=objections,
        activities=sorted(activities, key=lambda a: (a.on, a.id or 0), reverse=True),
        stances=stances,
        transitions=transitions,
        advice=advice,
        floors=floors,
        today=today,
        subsidy_profile=compound.subsidy_profile,
        steps=steps,
        rounds=rounds,
        ledger_head=head,
    )


# --- what one household reads ----------------------------------------------------------------
# A resident reads their own flat's line and the unit's counts: the functions below take the
# other households' names, phones, votes, stances, amounts and objection reasons out of the data
# itself, so a template or a JSON encoder cannot show what it never receives.


def own_consent(consent: UnitConsent, room: str) -> UnitConsent:
    """The consent as household `room` reads it: its own row, the counts, and the reasons the
    unit has not passed without naming a flat (objectors and occupied flats only counted)."""
    result = consent.result
    counts = result.counts
    anonymous = replace(
        counts,
        unresolved_objections=tuple(
            RuleObjection("", o.status) for o in counts.unresolved_objections
        ),
        occupied_not_agreeing=tuple("" for _ in counts.occupied_not_agreeing),
    )
    data = consent.input
    mine = tuple(r for r in data.rows if r.room == room)
    return UnitConsent(
        unit=consent.unit,
        input=replace(
            data,
            rows=mine,
            objections=tuple(o for o in data.objections if o.room == room),
            occupied=tuple(o for o in data.occupied if o.room == room),
        ),
        result=replace(result, counts=anonymous, reasons=_unnamed_reasons(result)),
    )


def _unnamed_reasons(result: ConsentResult) -> tuple[str, ...]:
    """Why the unit has not passed, without naming the flats that object or have not agreed."""
    reasons = [check.describe() for check in result.checks if not check.met]
    rule = result.profile.id
    if result.profile.no_unresolved_objection and result.counts.unresolved_objections:
        n = len(result.counts.unresolved_objections)
        reasons.append(f"{n} objection(s) unresolved; {rule} requires that no owner objects")
    if result.profile.occupied_owners_must_agree and result.counts.occupied_not_agreeing:
        n = len(result.counts.occupied_not_agreeing)
        reasons.append(
            f"{n} owner(s) whose flat the plan occupies have not agreed; {rule} "
            "requires their agreement"
        )
    return tuple(reasons)


def own_shares(result: CostShareResult, room: str) -> CostShareResult:
    """The split as household `room` reads it: the totals and its own line only."""
    return replace(
        result,
        lines=tuple(line for line in result.lines if line.id == room),
        running=tuple(
            replace(r, fen_by_id=tuple((i, fen) for i, fen in r.fen_by_id if i == room))
            for r in result.running
        ),
        levers=tuple(lever for lever in result.levers if lever.household == room),
        explanation=(),
    )


def own_objections(objections: list[Objection], room: str) -> list[Objection]:
    """Every objection's status, dates and handler; the room, reasons and notes only of the
    household's own."""
    return [
        o if o.room == room else replace(o, household_id=0, room="", reasons=(), notes="")
        for o in objections
    ]


def own_page(page: UnitPage, room: str) -> UnitPage:
    """The unit page as household `room` reads it.

    Other flats keep their room, floor and area (the stairwell is drawn), nothing else; no flat
    carries names or phones; activities, stances and the advice (which name households and
    leaders) are absent; a stage move does not say who made it.
    """
    floors = [
        [
            replace(flat, residents=())
            if flat.room == room
            else Flat(flat.room, flat.floor, flat.area_m2, "", "", None, None, withheld=True)
            for flat in floor
        ]
        for floor in page.floors
    ]
    return replace(
        page,
        consent=own_consent(page.consent, room),
        shares=own_shares(page.shares, room) if page.shares is not None else None,
        objections=own_objections(page.objections, room),
        activities=[],
        stances={k: v for k, v in page.stances.items() if v.room == room},
        transitions=unattributed(page.transitions),
        advice=None,
        floors=floors,
        reader_room=room,
    )


def consent_for(consent: UnitConsent, reader: Principal) -> UnitConsent:
    """The consent as `reader` may read it: a resident's own (`own_consent`), else whole."""
    room = own_room(reader)
    return consent if room is None else own_consent(consent, room)


def shares_for(result: CostShareResult, reader: Principal) -> CostShareResult:
    """The split as `reader` may read it: a resident's own line and the totals, else whole."""
    room = own_room(reader)
    return result if room is None else own_shares(result, room)


def objections_for(objections: list[Objection], reader: Principal) -> list[Objection]:
    """A unit's objections as `reader` may read them (`own_objections` for a resident)."""
    room = own_room(reader)
    return objections if room is None else own_objections(objections, room)


def transitions_for(transitions: list[StageTransition], reader: Principal) -> list[StageTransition]:
    """A unit's stage moves as `reader` may read them: a resident's do not say who made them."""
    return transitions if own_room(reader) is None else unattributed(transitions)


def unattributed(transitions: list[StageTransition]) -> list[StageTransition]:
    """The stage moves without who made them (a resident's copy)."""
    return [replace(t, actor="") for t in transitions]


def unit_page_for(
    engine: Engine,
    unit_id: int,
    reader: Principal,
    today: date | None = None,
    catalogue: Catalogue | None = None,
) -> UnitPage:
    """The unit page as `reader` may read it: a resident's own view (`own_page`) for a
    resident; every household for the others, phone numbers masked (138****5678) except for the
    compound's own worker, who calls them."""
    page = unit_page(engine, unit_id, today, catalogue)
    room = own_room(reader)
    if room is not None:
        return own_page(page, room)
    if sees_phones_in_full(reader, page.compound_code):
        return page
    return masked_phones(page)


def masked_phones(page: UnitPage) -> UnitPage:
    """The page with every resident's phone number masked."""
    return replace(
        page,
        floors=[
            [
                replace(
                    flat,
                    residents=tuple(replace(r, phone=mask_phone(r.phone)) for r in flat.residents),
                )
                for flat in floor
            ]
            for floor in page.floors
        ],
    )


@dataclass(frozen=True)
class UnitLine:
    """One unit in a compound or street overview."""

    unit_id: int
    label: str
    building: str
    stage: Stage
    since: date | None
    days_in_stage: int | None
    stalled: bool
    passed: bool
    agree_heads: int
    total_heads: int
    heads_short: int
    area_short: str
    open_objections: int
    cooperation_level: int
    heterogeneity: float
    next_action: str


@dataclass(frozen=True)
class CompoundOverview:
    code: str
    name: str
    city: str
    district: str
    street: str
    units: list[UnitLine]
    stage_counts: dict[Stage, int] = field(default_factory=dict)

    @property
    def stalled(self) -> list[UnitLine]:
        return [u for u in self.units if u.stalled]

    @property
    def buildings(self) -> list[tuple[str, list[UnitLine]]]:
        """The units grouped by building, 2栋 before 10栋 (`colift.model.order`)."""
        return group_naturally(self.units, lambda u: u.building)


def _line(line: UnitReport, project: UnitProject, today: date, catalogue: Catalogue) -> UnitLine:
    info, result, advice = line.consent.unit, line.consent.result, line.advice
    margin = result.margin() or {}
    days = (today - project.stage_since).days if project.stage_since else None
    limit = STALLED_AFTER_DAYS.get(project.stage)
    first = advice.recommendations[0] if advice.recommendations else None
    tool = catalogue.tools.get(first.tool) if first else None
    return UnitLine(
        unit_id=info.id,
        label=info.label,
        building=info.building_number,
        stage=project.stage,
        since=project.stage_since,
        days_in_stage=days,
        stalled=bool(limit is not None and days is not None and days > limit),
        passed=result.passed,
        agree_heads=result.counts.agree_heads,
        total_heads=result.counts.total_heads,
        heads_short=int(margin.get("heads") or 0),
        area_short=str(margin.get("area_m2") or "0.00"),
        open_objections=line.open_objections,
        cooperation_level=advice.cooperation.level,
        heterogeneity=round(advice.heterogeneity.index, 3),
        next_action=(tool.name_zh if tool else first.tool) if first else "",
    )


_STAGES = {s.value: s for s in Stage}


def _summary_line(line: SummaryLine, today: date) -> UnitLine:
    stage = _STAGES.get(line.stage) or Stage(line.stage)
    days = (today - line.stage_since).days if line.stage_since else None
    limit = STALLED_AFTER_DAYS.get(stage)
    return UnitLine(
        unit_id=line.unit_id,
        label=line.label,
        building=line.building,
        stage=stage,
        since=line.stage_since,
        days_in_stage=days,
        stalled=bool(limit is not None and days is not None and days > limit),
        passed=line.passed,
        agree_heads=line.agree_heads,
        total_heads=line.total_heads,
        heads_short=line.heads_short,
        area_short=line.area_short,
        open_objections=line.open_objections,
        cooperation_level=line.cooperation_level,
        heterogeneity=line.heterogeneity_milli / 1000,
        next_action=line.next_action,
    )


def _compound_from_lines(
    compound: Compound, code: str, lines: list[SummaryLine], today: date
) -> CompoundOverview:
    units = sorted(
        (_summary_line(x, today) for x in lines),
        key=lambda u: (natural_key(u.building), natural_key(u.label)),
    )
    counts = Counter(u.stage for u in units)
    return CompoundOverview(
        code=code,
        name=compound.name,
        city=compound.city,
        district=compound.district,
        street=compound.street,
        units=units,
        stage_counts={s: counts.get(s, 0) for s in (*STAGE_ORDER, Stage.SUSPENDED)},
    )


def compound_overview(
    engine: Engine, code: str, today: date | None = None, catalogue: Catalogue | None = None
) -> CompoundOverview:
    """Each unit's stage, time in it, consent and advice, read from the maintained summary
    (services/summary.py): one query, no advice computed on a page view."""
    today = today or date.today()
    with UnitOfWork(engine, read_only=True) as uow:
        compound = uow.compounds.get_by_code(code)
        assert compound.id is not None
        lines = current_lines(
            uow,
            summary_store.page(
                uow.connection, summary_store.Filter(compound_id=compound.id), limit=1_000_000
            ),
            today,
        )
    return _compound_from_lines(compound, code, lines, today)


@dataclass(frozen=True)
class StreetOverview:
    street: str | None
    compounds: list[CompoundOverview]
    today: date

    @property
    def units(self) -> list[UnitLine]:
        return [u for c in self.compounds for u in c.units]

    def funnel(self) -> list[tuple[Stage, int]]:
        """Units that reached each stage or went beyond it (suspended ones at vote)."""
        order = list(STAGE_ORDER)
        reached = Counter[Stage]()
        for u in self.units:
            stage = Stage.VOTE if u.stage is Stage.SUSPENDED else u.stage
            for s in order[: order.index(stage) + 1]:
                reached[s] += 1
        return [(s, reached.get(s, 0)) for s in order]

    def days_in_stage(self) -> dict[Stage, list[int]]:
        found: dict[Stage, list[int]] = {}
        for u in self.units:
            if u.days_in_stage is not None and u.stage is not Stage.OPERATION:
                found.setdefault(u.stage, []).append(u.days_in_stage)
        return {s: found[s] for s in (*STAGE_ORDER, Stage.SUSPENDED) if s in found}


def street_overview(
    engine: Engine, street: str | None = None, today: date | None = None
) -> StreetOverview:
    """Every compound of `street` (None: every compound) with its units' stages and stalls,
    from the maintained summary in one read transaction (two queries)."""
    today = today or date.today()
    with UnitOfWork(engine, read_only=True) as uow:
        codes = uow.compounds.codes()
        chosen = {
            cid: uow.compounds.get(cid)
            for cid in sorted(codes, key=lambda c: natural_key(codes[c]))
            if street is None or uow.compounds.get(cid).street == street
        }
        lines = current_lines(
            uow,
            summary_store.page(
                uow.connection, summary_store.Filter(street=street), limit=1_000_000
            ),
            today,
        )
    by_compound: dict[int, list[SummaryLine]] = {cid: [] for cid in chosen}
    for line in lines:
        if line.compound_id in by_compound:
            by_compound[line.compound_id].append(line)
    return StreetOverview(
        street,
        [_compound_from_lines(chosen[c], codes[c], by_compound[c], today) for c in chosen],
        today,
    )


STREET_PAGE_SIZE = 50


@dataclass(frozen=True)
class CompoundCounts:
    """One compound's totals on the street page (from one aggregate over the summary)."""

    code: str
    name: str
    units: int
    stalled: int
    stage_counts: dict[Stage, int]
    street: str = ""


@dataclass(frozen=True)
class StreetBoard:
    """The street office's page: totals over the whole street and one page of its unit list.

    The totals (compounds, stage counts, funnel, days in stage) never depend on the list's
    filters or page; the list is `summary.page` under the same `Filter` the API uses."""

    street: str | None
    today: date
    compounds: list[CompoundCounts]
    days: dict[Stage, tuple[int, int, int]]  # stage -> (units, median days, longest days)
    lines: list[tuple[CompoundCounts, UnitLine]]
    page: int
    pages: int
    matching: int  # lines under the list's filters, over all pages
    compound: str | None
    stage: Stage | None
    stalled_only: bool

    @property
    def units(self) -> int:
        return sum(c.units for c in self.compounds)

    @property
    def stalled(self) -> int:
        return sum(c.stalled for c in self.compounds)

    def stage_total(self, stage: Stage) -> int:
        return sum(c.stage_counts.get(stage, 0) for c in self.compounds)

    def funnel(self) -> list[tuple[Stage, int]]:
        """Units that reached each stage or went beyond it (suspended ones at vote)."""
        order = list(STAGE_ORDER)
        reached = Counter[Stage]()
        for c in self.compounds:
            for stage, n in c.stage_counts.items():
                stage = Stage.VOTE if stage is Stage.SUSPENDED else stage
                for s in order[: order.index(stage) + 1]:
                    reached[s] += n
        return [(s, reached.get(s, 0)) for s in order]


def stalled_cutoffs(today: date) -> tuple[tuple[str, date], ...]:
    """`STALLED_AFTER_DAYS` as (stage, entered-before day) pairs for the summary's filter."""
    return tuple((s.value, today - timedelta(days=n)) for s, n in STALLED_AFTER_DAYS.items())


def _days_stats(
    rows: list[tuple[str, date, int]], today: date
) -> dict[Stage, tuple[int, int, int]]:
    grouped: dict[Stage, list[tuple[int, int]]] = {}
    for stage, since, n in rows:
        st = Stage(stage)
        if st is not Stage.OPERATION:
            grouped.setdefault(st, []).append(((today - since).days, n))
    found: dict[Stage, tuple[int, int, int]] = {}
    for st, pairs in grouped.items():
        pairs.sort()
        total = sum(n for _, n in pairs)
        middle, seen, median = total // 2, 0, pairs[-1][0]
        for days, n in pairs:  # the element at index total // 2, as sorted(v)[len(v) // 2]
            if seen + n > middle:
                median = days
                break
            seen += n
        found[st] = (total, median, pairs[-1][0])
    return {s: found[s] for s in (*STAGE_ORDER, Stage.SUSPENDED) if s in found}


def _street_totals(
    uow: UnitOfWork, street: str | None, today: date, cutoffs: tuple[tuple[str, date], ...]
) -> tuple[dict[int, CompoundCounts], dict[Stage, tuple[int, int, int]]]:
    """Each compound's totals (by compound id, in the compounds' natural order) and the days
    in each stage, over the whole street: two aggregates over the summary and the compounds."""
    codes = uow.compounds.codes()
    whole = summary_store.Filter(street=street)
    conn = uow.connection
    by_compound: dict[int, tuple[Counter[Stage], int]] = {}
    for cid, st, n, k in summary_store.compound_stage_counts(conn, whole, cutoffs):
        counter, stalled = by_compound.get(cid, (Counter[Stage](), 0))
        counter[Stage(st)] += n
        by_compound[cid] = (counter, stalled + k)
    everyone = {c.id: c for c in uow.compounds.all()}
    chosen: dict[int, CompoundCounts] = {}
    for cid in sorted(codes, key=lambda c: natural_key(codes[c])):
        c = everyone[cid]
        if street is not None and c.street != street:
            continue
        counter, stalled = by_compound.get(cid, (Counter[Stage](), 0))
        chosen[cid] = CompoundCounts(
            codes[cid],
            c.name,
            sum(counter.values()),
            stalled,
            {s: counter.get(s, 0) for s in (*STAGE_ORDER, Stage.SUSPENDED)},
            c.street,
        )
    return chosen, _days_stats(summary_store.stage_since_counts(conn, whole), today)


STALLED_PAGE_SIZE = 200  # stalled lines a street view answers with by default
STALLED_PAGE_MAX = 500


def street_stalled(
    engine: Engine,
    street: str | None = None,
    today: date | None = None,
    *,
    offset: int = 0,
    limit: int = STALLED_PAGE_SIZE,
) -> StreetBoard:
    """The street office's view for the API: the totals of `street_board` and a page of its
    stalled units (`offset`, `limit` at most 500; compound by compound, then building and unit
    order), with their count over all pages (`matching`); what `street_board` gives with only
    the stalled lines, by offset. A city's 55,000 stalled lines came in one 20 MB answer."""
    today = today or date.today()
    limit = min(max(1, limit), STALLED_PAGE_MAX)
    offset = max(0, offset)
    cutoffs = stalled_cutoffs(today)
    with UnitOfWork(engine, read_only=True) as uow:
        chosen, days = _street_totals(uow, street, today, cutoffs)
        listed = summary_store.Filter(street=street, stalled_before=cutoffs)
        matching = summary_store.count(uow.connection, listed)
        lines = current_lines(
            uow, summary_store.page(uow.connection, listed, offset=offset, limit=limit), today
        )
    stalled = [
        (chosen[x.compound_id], _summary_line(x, today)) for x in lines if x.compound_id in chosen
    ]
    return StreetBoard(
        street,
        today,
        list(chosen.values()),
        days,
        stalled,
        offset // limit + 1,
        max(1, -(-matching // limit)),
        matching,
        None,
        None,
        True,
    )


def street_board(
    engine: Engine,
    street: str | None = None,
    *,
    page: int = 1,
    per_page: int = STREET_PAGE_SIZE,
    compound: str | None = None,
    stage: Stage | None = None,
    stalled_only: bool = True,
    today: date | None = None,
) -> StreetBoard:
    """The street page from the maintained summary: two aggregates for the totals, a count and
    one page of lines for the list; no advice computed, no street-wide list loaded.

    `page` past the last page shows the last page; below 1 the first. An unknown `compound`
    (or one of another street) is no filter."""
    today = today or date.today()
    per_page = min(max(1, per_page), 200)
    cutoffs = stalled_cutoffs(today)
    with UnitOfWork(engine, read_only=True) as uow:
        conn = uow.connection
        chosen, days = _street_totals(uow, street, today, cutoffs)
        compound_id = next((cid for cid, c in chosen.items() if c.code == compound), None)
        listed = summary_store.Filter(
            street=street,
            compound_id=compound_id,
            stage=stage.value if stage is not None else None,
            stalled_before=cutoffs if stalled_only else None,
        )
        matching = summary_store.count(conn, listed)
        pages = max(1, -(-matching // per_page))
        page = min(max(1, page), pages)
        lines = current_lines(
            uow,
            summary_store.page(conn, listed, offset=(page - 1) * per_page, limit=per_page),
            today,
        )
    return StreetBoard(
        street,
        today,
        list(chosen.values()),
        days,
        [
            (chosen[x.compound_id], _summary_line(x, today))
            for x in lines
            if x.compound_id in chosen
        ],
        page,
        pages,
        matching,
        compound if compound_id is not None else None,
        stage,
        stalled_only,
    )
