"""Stage and activity use cases end to end on both databases: the whole path from survey to
operation, each gate refusing at the wrong moment, and nothing written by a refusal."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields, replace
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, Table, func, select

from colift.coproduction.workflow import GateClosed, WorkStep
from colift.errors import BadInput, NotFound, RuleViolation
from colift.model import ObjectionStatus, Vote
from colift.model.coproduction import (
    Activity,
    GuidanceMode,
    Outcome,
    Stage,
    Stance,
    StanceChange,
    TechnicalIssue,
)
from colift.rules.costshare import parse_plan
from colift.services.activities import (
    add_tie,
    record_activity,
    record_technical_issue,
    resolve_technical_issue,
    set_ability_to_pay,
    set_stance,
    unit_activities,
    unit_stances,
)
from colift.services.consent import (
    cast_vote,
    open_vote_round,
    raise_objection,
    set_objection_status,
    unit_consent,
)
from colift.services.costshare import set_cost_plan
from colift.services.ledger import verify_ledger
from colift.services.workflow import (
    advance_stage,
    check_stage,
    compound_stages,
    record_step,
    stage_history,
    unit_stage,
)
from colift.store import UnitOfWork, tables
from factories import UnitFixture, make_compound, make_unit

WORKER = "玉林社区 陈书记"
PLAN = parse_plan({"total_fen": 40_000_000, "scheme": {"kind": "equal"}})
ROOMS = [f"{floor}{side:02d}" for floor in range(1, 7) for side in (1, 2)]
NOTICE_DAY = date(2025, 5, 1)


@pytest.fixture
def unit(engine: Engine) -> UnitFixture:
    with UnitOfWork(engine) as uow:
        made = make_unit(uow)
        uow.commit()
    return made


def uid(unit: UnitFixture) -> int:
    assert unit.unit.id is not None
    return unit.unit.id


def count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def snapshot(engine: Engine) -> tuple[int, ...]:
    """Row counts of everything a stage change or an activity may write."""
    return tuple(
        count(engine, t)
        for t in (
            tables.ledger,
            tables.unit_projects,
            tables.stage_transitions,
            tables.activities,
            tables.activity_targets,
            tables.stances,
            tables.objections,
        )
    )


def vote_all(engine: Engine, unit_id: int, vote: Vote, rooms: list[str] = ROOMS) -> None:
    for room in rooms:
        cast_vote(engine, unit_id, room, vote, actor=WORKER, signed_on=date(2025, 4, 10))


# The role each tool is used in, as the tool catalogue lists it.
ROLE_OF = {
    "mediation": "coordinator",
    "written_agreement": "consultation_organizer",
    "door_to_door": "opinion_leader",
}


def activity(unit_id: int, tool: str, on: date, **outcome: object) -> Activity:
    return Activity(
        unit_id=unit_id,
        person_id=None,
        actor_name="王阿姨",
        role=ROLE_OF.get(tool, "opinion_leader"),
        guidance=GuidanceMode.EMBEDDED,
        tool=tool,
        on=on,
        outcome=Outcome(**outcome),  # type: ignore[arg-type]
    )


def plain(made: Activity) -> Activity:
    """The activity as the log reads it back, without what recording it returned besides."""
    return Activity(**{f.name: getattr(made, f.name) for f in fields(Activity)})


def refused(engine: Engine, exc: type[Exception], match: str, *args: object, **kw: object) -> None:
    """The call raises `exc` matching `match` and writes nothing at all."""
    before = snapshot(engine)
    with pytest.raises(exc, match=match):
        advance_stage(engine, *args, **kw)  # type: ignore[arg-type]
    assert snapshot(engine) == before


def test_the_whole_path_with_every_gate_refusing_at_the_wrong_moment(
    engine: Engine, unit: UnitFixture
) -> None:
    u = uid(unit)
    # A refused first move records nothing, not even the project.
    refused(engine, RuleViolation, "advance one stage at a time", u, Stage.VOTE, actor=WORKER)
    assert not unit_stage(engine, u).recorded

    advance_stage(engine, u, Stage.CONSULTATION, actor=WORKER, on=date(2025, 3, 1))
    refused(
        engine,
        GateClosed,
        "不能进入表决：没有费用分摊方案",
        u,
        Stage.VOTE,
        actor=WORKER,
        on=date(2025, 3, 20),
    )
    set_cost_plan(engine, u, PLAN, actor=WORKER)
    unsigned = advance_stage(engine, u, Stage.VOTE, actor=WORKER, on=date(2025, 4, 1))
    assert unsigned.warnings and "加装协议" in unsigned.warnings[0]

    open_vote_round(engine, u, actor=WORKER, opened_on=date(2025, 4, 1))
    refused(
        engine,
        GateClosed,
        "表决未通过 / cannot start the design: consent has not passed under Civil Code art. 278",
        u,
        Stage.DESIGN,
        actor=WORKER,
        on=date(2025, 4, 5),
    )
    vote_all(engine, u, Vote.AGREE)
    advance_stage(engine, u, Stage.DESIGN, actor=WORKER, on=date(2025, 4, 15))

    # Consent is read again at the notice: votes changed since the design began.
    vote_all(engine, u, Vote.DISAGREE, ROOMS[:8])
    gas = record_technical_issue(
        engine, u, TechnicalIssue("pipes", 3), actor="燃气公司", found_on=date(2025, 4, 20)
    )
    before = snapshot(engine)
    with pytest.raises(GateClosed) as caught:
        advance_stage(engine, u, Stage.NOTICE, actor=WORKER, on=NOTICE_DAY)
    assert snapshot(engine) == before
    message = caught.value.message
    assert message.startswith(
        "不能进入公示：表决未通过；存在未解决的严重技术问题 / cannot open the public notice: "
        "consent has not passed under Civil Code art. 278: "
    )
    for reason in unit_consent(engine, u).result.reasons:
        assert reason in message
    vote_all(engine, u, Vote.AGREE, ROOMS[:8])
    refused(engine, GateClosed, "severity-3", u, Stage.NOTICE, actor=WORKER, on=NOTICE_DAY)
    resolve_technical_issue(engine, gas.id, actor="燃气公司", on=date(2025, 4, 28))
    advance_stage(engine, u, Stage.NOTICE, actor=WORKER, on=NOTICE_DAY)
    assert unit_stage(engine, u).notice_opened_on == NOTICE_DAY

    # An objection raised during the notice blocks passing it until it is resolved.
    oid = raise_objection(engine, u, "101", ["采光"], actor="101业主", raised_on=date(2025, 5, 3))
    # 10 days from 2 May (art. 201); Sun 11 May is a rest day, so the last day is 12 May.
    last_day, elapsed = date(2025, 5, 12), date(2025, 5, 13)
    refused(
        engine,
        GateClosed,
        "it can be passed from 2025-05-13",
        u,
        Stage.APPROVAL,
        actor=WORKER,
        on=last_day,
    )
    refused(
        engine,
        GateClosed,
        r"unresolved objection by 101",
        u,
        Stage.APPROVAL,
        actor=WORKER,
        on=elapsed,
    )
    set_objection_status(engine, oid, ObjectionStatus.MEDIATION, actor="街道调解委员会", on=elapsed)
    refused(
        engine, GateClosed, "异议尚未处理完毕（101）", u, Stage.APPROVAL, actor=WORKER, on=elapsed
    )
    set_objection_status(engine, oid, ObjectionStatus.RESOLVED, actor="街道调解委员会", on=elapsed)
    advance_stage(engine, u, Stage.APPROVAL, actor=WORKER, on=elapsed)

    refused(
        engine,
        GateClosed,
        "不能进入施工：缺少审批或备案编号",
        u,
        Stage.CONSTRUCTION,
        actor=WORKER,
        on=date(2025, 6, 20),
    )
    refused(
        engine,
        GateClosed,
        "no written installation notice to market supervision is on record",
        u,
        Stage.CONSTRUCTION,
        actor="区住建局",
        reference="建审〔2025〕18号",
        on=date(2025, 6, 20),
    )
    record_step(engine, u, WorkStep.INSTALLATION_NOTICE, actor="电梯安装单位", on=date(2025, 6, 18))
    advance_stage(
        engine,
        u,
        Stage.CONSTRUCTION,
        actor="区住建局",
        reference="建审〔2025〕18号",
        on=date(2025, 6, 20),
    )
    assert unit_stage(engine, u).approval_reference == "建审〔2025〕18号"
    refused(
        engine,
        GateClosed,
        "no supervision inspection of the lift is on record",
        u,
        Stage.ACCEPTANCE,
        actor="监理",
        on=date(2025, 9, 1),
    )
    record_step(engine, u, WorkStep.SUPERVISION_INSPECTION, actor="检验机构", on=date(2025, 8, 29))
    advance_stage(engine, u, Stage.ACCEPTANCE, actor="监理", on=date(2025, 9, 1))
    refused(
        engine,
        GateClosed,
        "缺少竣工验收日期；缺少特种设备使用登记编号",
        u,
        Stage.OPERATION,
        actor=WORKER,
        on=date(2025, 9, 20),
    )
    accepted = date(2025, 9, 10)
    done = advance_stage(
        engine,
        u,
        Stage.OPERATION,
        actor="市场监管局",
        reference="梯11川A00123(25)",
        acceptance_on=accepted,
        on=accepted + timedelta(days=35),
    )
    assert done.warnings and "5 days late" in done.warnings[0]
    project = unit_stage(engine, u)
    assert project.stage is Stage.OPERATION
    assert (project.acceptance_on, project.registration_reference) == (
        accepted,
        "梯11川A00123(25)",
    )

    history = stage_history(engine, u)
    assert [t.to_stage for t in history] == [
        Stage.SURVEY,
        Stage.CONSULTATION,
        Stage.VOTE,
        Stage.DESIGN,
        Stage.NOTICE,
        Stage.APPROVAL,
        Stage.CONSTRUCTION,
        Stage.ACCEPTANCE,
        Stage.OPERATION,
    ]
    assert history[6].actor == "区住建局" and history[6].reference == "建审〔2025〕18号"
    with UnitOfWork(engine) as uow:
        log = uow.ledger.history(subject=f"unit:{u}")
    moves = [
        (e.payload["from"], e.payload["to"], e.actor) for e in log if e.action == "stage.transition"
    ]
    assert moves == [
        (None if t.from_stage is None else t.from_stage.value, t.to_stage.value, t.actor)
        for t in history
    ]
    assert verify_ledger(engine).ok


def test_suspend_resume_and_go_back(engine: Engine, unit: UnitFixture) -> None:
    u = uid(unit)
    set_cost_plan(engine, u, PLAN, actor=WORKER)
    open_vote_round(engine, u, actor=WORKER, opened_on=date(2025, 3, 1))
    vote_all(engine, u, Vote.AGREE)
    for stage in (Stage.CONSULTATION, Stage.VOTE, Stage.DESIGN, Stage.NOTICE):
        advance_stage(engine, u, stage, actor=WORKER, on=NOTICE_DAY)

    refused(engine, RuleViolation, "needs a reason", u, Stage.SUSPENDED, actor=WORKER)
    advance_stage(
        engine, u, Stage.SUSPENDED, actor=WORKER, reason="一楼业主起诉", on=date(2025, 5, 5)
    )
    paused = unit_stage(engine, u)
    assert (paused.stage, paused.suspended_from) == (Stage.SUSPENDED, Stage.NOTICE)
    refused(
        engine,
        RuleViolation,
        "resumes at the stage it left",
        u,
        Stage.APPROVAL,
        actor=WORKER,
        reason="x",
    )
    advance_stage(engine, u, Stage.NOTICE, actor=WORKER, reason="法院驳回", on=date(2025, 7, 1))
    resumed = unit_stage(engine, u)
    assert resumed.stage is Stage.NOTICE and resumed.suspended_from is None
    assert resumed.notice_opened_on == NOTICE_DAY  # resuming does not re-post the notice

    refused(
        engine, RuleViolation, "退回设计与管线踏勘阶段需要说明理由", u, Stage.DESIGN, actor=WORKER
    )
    back = advance_stage(
        engine, u, Stage.DESIGN, actor=WORKER, reason="改用玻璃井道", on=date(2025, 7, 2)
    )
    assert (back.from_stage, back.reason) == (Stage.NOTICE, "改用玻璃井道")
    advance_stage(engine, u, Stage.NOTICE, actor=WORKER, on=date(2025, 7, 10))
    assert unit_stage(engine, u).notice_opened_on == date(2025, 7, 10)  # a new notice
    refused(
        engine,
        BadInput,
        "cannot come before the current stage began",
        u,
        Stage.APPROVAL,
        actor=WORKER,
        on=date(2025, 7, 9),
    )
    assert [t.reason for t in stage_history(engine, u)][-4:] == [
        "一楼业主起诉",
        "法院驳回",
        "改用玻璃井道",
        "",
    ]


def test_a_no_objection_rule_blocks_the_notice_on_any_unresolved_objection(
    engine: Engine,
) -> None:
    with UnitOfWork(engine) as uow:
        fixture = make_unit(uow, compound=make_compound(uow, "cd", profile="chengdu-2018"))
        uow.commit()
    u = uid(fixture)
    set_cost_plan(engine, u, PLAN, actor=WORKER)
    open_vote_round(engine, u, actor=WORKER, opened_on=date(2025, 3, 1))
    vote_all(engine, u, Vote.AGREE)
    for stage in (Stage.CONSULTATION, Stage.VOTE, Stage.DESIGN, Stage.NOTICE):
        advance_stage(engine, u, stage, actor=WORKER, on=NOTICE_DAY)
    # Raised after the notice elapsed: late under art. 278, still blocking under this rule.
    oid = raise_objection(engine, u, "102", ["noise"], actor="102业主", raised_on=date(2025, 6, 1))
    report = check_stage(engine, u, on=date(2025, 6, 2))
    assert report.target is Stage.APPROVAL and not report.open
    assert "chengdu-2018 requires that no owner objects" in report.failures[0].en
    set_objection_status(
        engine, oid, ObjectionStatus.WITHDRAWN, actor="102业主", on=date(2025, 6, 2)
    )
    assert check_stage(engine, u, on=date(2025, 6, 2)).open


def test_a_late_objection_does_not_block_under_art_278(engine: Engine, unit: UnitFixture) -> None:
    u = uid(unit)
    set_cost_plan(engine, u, PLAN, actor=WORKER)
    open_vote_round(engine, u, actor=WORKER, opened_on=date(2025, 3, 1))
    vote_all(engine, u, Vote.AGREE)
    for stage in (Stage.CONSULTATION, Stage.VOTE, Stage.DESIGN, Stage.NOTICE):
        advance_stage(engine, u, stage, actor=WORKER, on=NOTICE_DAY)
    raise_objection(engine, u, "102", ["noise"], actor="102业主", raised_on=date(2025, 5, 21))
    assert check_stage(engine, u, on=date(2025, 5, 21)).open
    assert compound_stages(engine, unit.compound.id or 0) == {u: Stage.NOTICE}


def test_an_activity_stores_its_targets_and_applies_its_outcome(
    engine: Engine, unit: UnitFixture
) -> None:
    u = uid(unit)
    set_stance(engine, u, "101", "反对", ["采光", "value"], actor=WORKER, on=date(2025, 3, 1))
    set_stance(engine, u, "102", Stance.OPPOSE, ["noise"], actor=WORKER, on=date(2025, 3, 1))
    oid = raise_objection(engine, u, "101", ["light"], actor="101业主", raised_on=date(2025, 3, 2))
    talk = activity(
        u,
        "door_to_door",
        date(2025, 3, 10),
        stances_changed=(
            StanceChange("101", Stance.OPPOSE, Stance.LEAN_SUPPORT),
            StanceChange("102", Stance.OPPOSE, Stance.UNDECIDED),
        ),
        objections_resolved=(oid,),
        participants=2,
        note="同意改用玻璃井道",
    )
    made = record_activity(engine, replace(talk, targets=("102", "101")), actor=WORKER)
    assert made.id is not None and made.targets == ("101", "102")
    assert unit_activities(engine, u) == [plain(made)]
    stances = unit_stances(engine, u)
    assert stances["101"].stance is Stance.LEAN_SUPPORT and stances["101"].reasons == ()
    assert stances["102"].stance is Stance.UNDECIDED and stances["102"].reasons == ("noise",)
    assert stances["102"].activity_id == made.id
    assert unit_consent(engine, u).input.objections[0].status is ObjectionStatus.RESOLVED
    with UnitOfWork(engine) as uow:
        assert uow.ledger.history(subject=f"objection:{oid}")[-1].actor == WORKER
        assert [e.action for e in uow.ledger.history(subject_prefix=f"unit:{u}/")] == [
            "activity.record"
        ]


def test_a_bad_activity_writes_nothing(engine: Engine, unit: UnitFixture) -> None:
    u = uid(unit)
    oid = raise_objection(engine, u, "101", ["light"], actor="101业主", raised_on=date(2025, 3, 2))
    set_objection_status(engine, oid, ObjectionStatus.WITHDRAWN, actor="101业主")
    before = snapshot(engine)
    base = activity(u, "door_to_door", date(2025, 3, 10))
    with pytest.raises(NotFound, match="3栋2单元 has no room 909"):
        record_activity(engine, replace(base, targets=("101", "909")), actor=WORKER)
    stray = activity(
        u,
        "door_to_door",
        date(2025, 3, 10),
        stances_changed=(StanceChange("808", Stance.UNKNOWN, Stance.SUPPORT),),
    )
    with pytest.raises(NotFound, match="no room 808"):
        record_activity(engine, stray, actor=WORKER)
    with pytest.raises(BadInput, match="twice"):
        change = StanceChange("101", Stance.UNKNOWN, Stance.SUPPORT)
        record_activity(
            engine,
            activity(u, "mediation", date(2025, 3, 10), stances_changed=(change, change)),
            actor=WORKER,
        )
    with pytest.raises(BadInput, match="objection 999 is not an objection in 3栋2单元"):
        record_activity(
            engine,
            activity(u, "mediation", date(2025, 3, 10), objections_resolved=(999,)),
            actor=WORKER,
        )
    # A withdrawn objection cannot be resolved afterwards: the whole activity is refused.
    with pytest.raises(RuleViolation, match="final"):
        record_activity(
            engine,
            activity(u, "mediation", date(2025, 3, 10), objections_resolved=(oid,)),
            actor=WORKER,
        )

    def strict(candidate: Activity, rooms: Collection[str]) -> list[str]:
        if candidate.tool != "door_to_door":
            raise BadInput(f"unknown tool {candidate.tool!r}")
        return [f"checked against {len(rooms)} flats"]

    with pytest.raises(BadInput, match="unknown tool 'magic'"):
        record_activity(
            engine, activity(u, "magic", date(2025, 3, 10)), actor=WORKER, validator=strict
        )
    assert snapshot(engine) == before
    made = record_activity(engine, base, actor=WORKER, validator=strict)
    assert made.id is not None and made.warnings == ("checked against 12 flats",)
    with pytest.raises(BadInput, match="role 'juggler' is not a role"):
        record_activity(engine, replace(base, role="juggler"), actor=WORKER)


def test_a_signed_agreement_silences_the_vote_warning(engine: Engine, unit: UnitFixture) -> None:
    u = uid(unit)
    set_cost_plan(engine, u, PLAN, actor=WORKER)
    advance_stage(engine, u, Stage.CONSULTATION, actor=WORKER, on=date(2025, 3, 1))
    record_activity(
        engine, activity(u, "written_agreement", date(2025, 3, 15), participants=10), actor=WORKER
    )
    report = check_stage(engine, u, on=date(2025, 3, 16))
    assert report.open and report.warnings == ()
    assert advance_stage(engine, u, Stage.VOTE, actor=WORKER, on=date(2025, 3, 16)).warnings == ()


def test_stances_ties_and_ability_to_pay(engine: Engine, unit: UnitFixture) -> None:
    u = uid(unit)
    with pytest.raises(BadInput, match="unknown stance"):
        set_stance(engine, u, "101", "maybe", actor=WORKER)
    with pytest.raises(NotFound, match="no room 909"):
        set_ability_to_pay(engine, u, "909", 100)
    set_ability_to_pay(engine, u, "201", 2_000_000)
    tie = add_tie(engine, u, "101", "502", "kin", weight="0.75")
    assert tie.weight_permille == 750 and tie.to_tie().weight == 0.75
    assert add_tie(engine, u, "101", "201", "friend", weight=0.5).weight_permille == 500
    with pytest.raises(BadInput, match="more than 3 decimals"):
        add_tie(engine, u, "101", "502", "kin", weight="0.3333")
    with pytest.raises(BadInput, match="not a number"):
        add_tie(engine, u, "101", "502", "kin", weight="strong")
    with UnitOfWork(engine) as uow:
        assert uow.household_profiles.for_unit(u) == {"201": 2_000_000}
        assert len(uow.ties.list_by_unit(u)) == 2


def test_unknown_units_are_named(engine: Engine) -> None:
    with pytest.raises(NotFound, match="unit 404 does not exist"):
        advance_stage(engine, 404, Stage.CONSULTATION, actor=WORKER)
    with pytest.raises(NotFound, match="unit 404 does not exist"):
        stage_history(engine, 404)
    with pytest.raises(NotFound, match="unit 404 does not exist"):
        unit_stage(engine, 404)
    assert count(engine, tables.ledger) == 0


def test_objection_lifecycle_is_enforced_through_the_service(
    engine: Engine, unit: UnitFixture
) -> None:
    u = uid(unit)
    oid = raise_objection(engine, u, "101", ["light"], actor="101业主", raised_on=date(2025, 3, 2))
    before = snapshot(engine)
    with pytest.raises(RuleViolation, match="from 已提出 open it may go to"):
        set_objection_status(engine, oid, ObjectionStatus.OVERRULED, actor="规划科")
    assert snapshot(engine) == before
    for step in (ObjectionStatus.HEARING, ObjectionStatus.OVERRULED, ObjectionStatus.LITIGATION):
        set_objection_status(engine, oid, step, actor="规划科", on=date(2025, 4, 1))
    assert unit_consent(engine, u).input.objections[0].status is ObjectionStatus.LITIGATION


def test_the_gate_with_the_pages_consent_equals_the_gate_that_counts_it(
    engine: Engine, unit: UnitFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unit page hands check_stage the consent it has just counted: the same report, and
    the consent is not counted a second time."""
    from colift.services import workflow
    from colift.services.views import unit_page

    u = uid(unit)
    set_cost_plan(engine, u, PLAN, actor=WORKER)
    open_vote_round(engine, u, actor=WORKER, opened_on=date(2025, 3, 1))
    for stage in (Stage.CONSULTATION, Stage.VOTE):
        advance_stage(engine, u, stage, actor=WORKER, on=date(2025, 3, 2))
    day = date(2025, 4, 20)
    with UnitOfWork(engine) as uow:
        other = make_unit(uow, compound=unit.compound, building_number="9")
        uow.commit()
    for rooms in (ROOMS[:3], ROOMS):  # the vote gate closed by consent, then open
        vote_all(engine, u, Vote.AGREE, rooms)
        counted = unit_page(engine, u, today=day).consent
        recounted = check_stage(engine, u, on=day)
        with monkeypatch.context() as m:
            m.setattr(workflow, "unit_consent_in", _must_not_count)
            assert check_stage(engine, u, on=day, consent=counted) == recounted
        # another unit's count is not taken for this one
        wrong = unit_page(engine, uid(other), today=day).consent
        assert check_stage(engine, u, on=day, consent=wrong) == recounted
    assert recounted.open and recounted.target is Stage.DESIGN


def _must_not_count(*_: object) -> None:
    raise AssertionError("the consent was counted a second time")
