"""The stage machine: moves, every gate both ways, the notice day boundary, suspension and resume."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from colift.coproduction.workflow import (
    GateClosed,
    GateFacts,
    MoveKind,
    ObjectionFact,
    WorkStep,
    blocking_objections,
    check_transition,
    classify_move,
    gate_failures,
    next_stage,
    next_stages,
    notice_window,
)
from colift.errors import RuleViolation
from colift.model import ObjectionStatus, Vote
from colift.model.coproduction import STAGE_ORDER, Stage
from colift.rules.consent import (
    ConsentResult,
    Flat,
    ObjectionsBlock,
    WorkflowRule,
    evaluate,
    load_profile,
)

CIVIL = load_profile("cn-civil-code-278")
CHENGDU = load_profile("chengdu-2018")  # no owner may object
TODAY = date(2025, 6, 1)
S = Stage
OS = ObjectionStatus


def consent(votes: list[Vote]) -> ConsentResult:
    flats = [Flat(f"{i + 1}01", 800_000, f"owner{i}", v) for i, v in enumerate(votes)]
    return evaluate(CIVIL, flats)


PASSED = consent([Vote.AGREE] * 4)
FAILED = consent([Vote.AGREE, Vote.DISAGREE, Vote.DISAGREE, Vote.ABSENT])

# Everything in order: every gate open.
READY = GateFacts(
    profile=CIVIL,
    today=TODAY,
    consent=PASSED,
    has_cost_plan=True,
    written_agreement_signed=True,
    notice_opened_on=TODAY - timedelta(days=30),
    approval_reference="规建许〔2025〕0123号",
    acceptance_on=TODAY - timedelta(days=10),
    registration_reference="梯11川A00123(25)",
    steps={step: TODAY - timedelta(days=40) for step in WorkStep},
)


def forward(current: Stage, facts: GateFacts = READY) -> list[str]:
    target = next_stage(current)
    assert target is not None
    return check_transition(current, target, facts, "")


def test_the_whole_path_is_open_when_every_fact_is_in_place() -> None:
    for current in STAGE_ORDER[:-1]:
        assert forward(current) == []


def test_forward_is_one_stage_at_a_time() -> None:
    with pytest.raises(RuleViolation) as caught:
        check_transition(S.VOTE, S.NOTICE, READY, "in a hurry")
    assert "advance one stage at a time" in caught.value.message
    assert "the next stage is 设计与管线踏勘 design" in caught.value.message
    assert caught.value.message.startswith("不能从表决直接进入公示")
    with pytest.raises(RuleViolation, match="already at vote"):
        check_transition(S.VOTE, S.VOTE, READY, "x")


def test_next_stages_lists_forward_suspend_and_back() -> None:
    assert next_stages(S.SURVEY) == (S.CONSULTATION, S.SUSPENDED)
    assert next_stages(S.VOTE) == (S.DESIGN, S.SUSPENDED, S.CONSULTATION, S.SURVEY)
    assert next_stages(S.OPERATION)[0] is S.SUSPENDED
    assert next_stages(S.SUSPENDED, suspended_from=S.NOTICE) == (S.NOTICE,)
    assert next_stages(S.SUSPENDED) == ()
    assert next_stage(S.OPERATION) is None


def test_survey_to_consultation_has_no_gate() -> None:
    bare = GateFacts(profile=CIVIL, today=TODAY)
    assert check_transition(S.SURVEY, S.CONSULTATION, bare) == []


def test_the_vote_needs_a_cost_plan() -> None:
    with pytest.raises(GateClosed) as caught:
        forward(S.CONSULTATION, replace(READY, has_cost_plan=False))
    assert caught.value.message == (
        "不能进入表决：没有费用分摊方案 / cannot open the vote: "
        "there is no cost plan: what the owners vote on must be priced"
    )
    assert caught.value.target is S.VOTE


def test_the_vote_warns_without_a_signed_agreement() -> None:
    warnings = forward(S.CONSULTATION, replace(READY, written_agreement_signed=False))
    assert len(warnings) == 1 and "加装协议" in warnings[0]


def test_design_needs_consent_and_shows_why_it_failed() -> None:
    with pytest.raises(GateClosed) as caught:
        forward(S.VOTE, replace(READY, consent=FAILED))
    message = caught.value.message
    assert message.startswith(
        "不能进入设计与管线踏勘：表决未通过 / cannot start the design: "
        "consent has not passed under Civil Code art. 278: "
    )
    for reason in FAILED.reasons:
        assert reason in message
    with pytest.raises(GateClosed, match="no vote has been counted"):
        forward(S.VOTE, replace(READY, consent=None))
    assert forward(S.VOTE) == []


def test_the_notice_cannot_open_before_consent_passes() -> None:
    with pytest.raises(GateClosed) as caught:
        forward(S.DESIGN, replace(READY, consent=FAILED))
    assert caught.value.message.startswith(
        "不能进入公示：表决未通过 / cannot open the public notice: "
        "consent has not passed under Civil Code art. 278: "
    )


def test_a_severity_3_issue_holds_the_notice_back_and_every_failure_is_listed() -> None:
    assert forward(S.DESIGN, replace(READY, unresolved_technical_severity=2)) == []
    with pytest.raises(GateClosed) as caught:
        forward(S.DESIGN, replace(READY, consent=FAILED, unresolved_technical_severity=3))
    assert len(caught.value.failures) == 2
    zh, en = caught.value.message.split(" / ", 1)
    assert zh == "不能进入公示：表决未通过；存在未解决的严重技术问题"
    assert en.endswith(
        "; an unresolved severity-3 technical issue blocks any plan until it is solved"
    )


def test_the_notice_day_boundary_as_the_civil_code_counts() -> None:
    # A 10-day notice posted on Thu 1 May 2025 runs from 2 May (art. 201); its 10th day,
    # Sun 11 May, is a rest day, so the last day is Mon 12 May (art. 203).
    window = notice_window(CIVIL, date(2025, 5, 1))
    assert (window.first_day, window.nominal_last_day) == (date(2025, 5, 2), date(2025, 5, 11))
    assert window.last_day == date(2025, 5, 12) and window.moved
    assert window.elapsed_on == date(2025, 5, 13)
    facts = replace(READY, notice_opened_on=date(2025, 5, 1))
    with pytest.raises(GateClosed) as caught:
        forward(S.NOTICE, replace(facts, today=date(2025, 5, 12)))
    assert "runs through 2025-05-12: it can be passed from 2025-05-13" in caught.value.message
    assert "公示期未满" in caught.value.message and "自公示次日起算" in caught.value.message
    assert forward(S.NOTICE, replace(facts, today=date(2025, 5, 13))) == []
    with pytest.raises(GateClosed, match="not on record"):
        forward(S.NOTICE, replace(READY, notice_opened_on=None))


def test_an_old_rule_keeps_counting_the_posting_day() -> None:
    # chengdu-2018 keeps colift's earlier count: 20 days from the posting day, 1-20 May.
    window = notice_window(CHENGDU, date(2025, 5, 1))
    assert window.last_day == date(2025, 5, 20) and window.elapsed_on == date(2025, 5, 21)


def test_a_blocking_objection_holds_the_notice() -> None:
    with pytest.raises(GateClosed) as caught:
        forward(S.NOTICE, replace(READY, unresolved_blocking_objections=("101", "102")))
    assert "异议尚未处理完毕（101, 102）" in caught.value.message
    assert "objections raised during the notice must be handled first" in caught.value.message
    strict = replace(READY, profile=CHENGDU, unresolved_blocking_objections=("101",))
    with pytest.raises(GateClosed, match="chengdu-2018 requires that no owner objects"):
        forward(S.NOTICE, strict)


def test_which_objections_block_the_notice_is_the_profiles_choice() -> None:
    opened = date(2025, 5, 1)  # the Civil Code rule's notice runs through 12 May
    before = date(2025, 4, 1)
    during, last_day, late = date(2025, 5, 3), date(2025, 5, 12), date(2025, 5, 13)
    objections = [
        ObjectionFact("101", OS.OPEN, before),  # answered by the vote under art. 278
        ObjectionFact("102", OS.MEDIATION, during),
        ObjectionFact("201", OS.HEARING, last_day),
        ObjectionFact("202", OS.NEGOTIATION, late),  # late: after the notice's last day
        ObjectionFact("301", OS.RESOLVED, during),
        ObjectionFact("302", OS.OVERRULED, during),
        ObjectionFact("401", OS.LITIGATION, before),  # in court since before the notice
        ObjectionFact("402", OS.WITHDRAWN, during),
    ]
    # The national default: a lawsuit alone is no veto.
    assert not CIVIL.litigation_blocks_notice
    assert blocking_objections(objections, CIVIL, opened) == ("102", "201")
    assert blocking_objections(objections, CIVIL, None) == ()
    court = replace(CIVIL, litigation_blocks_notice=True)
    assert blocking_objections(objections, court, opened) == ("102", "201", "401")
    assert blocking_objections(objections, court, None) == ("401",)
    none = replace(CIVIL, objections_block=ObjectionsBlock.NONE)
    assert blocking_objections(objections, none, opened) == ()
    assert blocking_objections(objections, CHENGDU, opened) == (
        "101",
        "102",
        "201",
        "202",
        "401",
    )
    twice = [ObjectionFact("102", OS.OPEN, during), ObjectionFact("102", OS.HEARING, during)]
    assert blocking_objections(twice, CIVIL, opened) == ("102",)


def test_construction_needs_an_approval_reference() -> None:
    for missing in (None, "", "  "):
        with pytest.raises(GateClosed) as caught:
            forward(S.APPROVAL, replace(READY, approval_reference=missing))
        assert caught.value.message.startswith(
            "不能进入施工：缺少审批或备案编号 / cannot start construction: no approval reference"
        )
    assert forward(S.APPROVAL) == []


def test_works_need_the_installation_notice_and_acceptance_the_supervision_inspection() -> None:
    no_steps = replace(READY, steps={})
    with pytest.raises(GateClosed) as caught:
        forward(S.APPROVAL, no_steps)
    assert "no written installation notice to market supervision is on record" in (
        caught.value.message
    )
    assert "尚未记录特种设备安装书面告知" in caught.value.message
    with pytest.raises(GateClosed, match="no supervision inspection of the lift is on record"):
        forward(S.CONSTRUCTION, no_steps)
    dated_later = replace(READY, steps={WorkStep.SUPERVISION_INSPECTION: TODAY + timedelta(days=1)})
    with pytest.raises(GateClosed, match="is dated 2025-06-02, after 2025-06-01"):
        forward(S.CONSTRUCTION, dated_later)
    # A profile may say the steps are not its gates.
    lax = replace(
        CIVIL, workflow=WorkflowRule(installation_notice=False, supervision_inspection=False)
    )
    assert forward(S.CONSTRUCTION, replace(no_steps, profile=lax)) == []
    assert forward(S.APPROVAL, replace(no_steps, profile=lax)) == []


def test_plan_before_the_vote_and_the_structural_appraisal_come_from_the_profile() -> None:
    assert forward(S.CONSULTATION, replace(READY, steps={})) == []  # the national default
    beijing = load_profile("beijing-2023")
    assert beijing.workflow.plan_before_vote and beijing.workflow.structural_appraisal
    with pytest.raises(GateClosed) as caught:
        forward(S.CONSULTATION, replace(READY, profile=beijing, steps={}))
    assert [f.en for f in caught.value.failures] == [
        "no pipeline survey is on record: record it first",
        "no preliminary design is on record: record it first",
    ]
    with pytest.raises(GateClosed, match="no structural safety appraisal is on record"):
        forward(S.DESIGN, replace(READY, profile=beijing, steps={}))
    assert forward(S.CONSULTATION, replace(READY, profile=beijing)) == []


def test_operation_needs_acceptance_and_registration() -> None:
    with pytest.raises(GateClosed) as caught:
        forward(S.ACCEPTANCE, replace(READY, acceptance_on=None, registration_reference=None))
    assert [f.zh for f in caught.value.failures] == ["缺少竣工验收日期", "缺少特种设备使用登记编号"]
    with pytest.raises(GateClosed, match="is after 2025-06-01"):
        forward(S.ACCEPTANCE, replace(READY, acceptance_on=TODAY + timedelta(days=1)))


def test_late_registration_is_a_warning() -> None:
    on_time = replace(READY, acceptance_on=TODAY - timedelta(days=30))
    assert forward(S.ACCEPTANCE, on_time) == []
    late = replace(READY, acceptance_on=TODAY - timedelta(days=33))
    (warning,) = forward(S.ACCEPTANCE, late)
    assert "3 days late" in warning and "30日内" in warning


def test_going_back_needs_a_reason_and_skips_the_gates() -> None:
    bare = GateFacts(profile=CIVIL, today=TODAY)
    with pytest.raises(RuleViolation, match="needs a reason") as caught:
        check_transition(S.NOTICE, S.DESIGN, bare, "  ")
    assert caught.value.message.startswith("退回设计与管线踏勘阶段需要说明理由")
    assert check_transition(S.NOTICE, S.DESIGN, bare, "改用玻璃井道，重新设计") == []
    assert check_transition(S.DESIGN, S.VOTE, bare, "方案变更，重新表决") == []
    assert classify_move(S.DESIGN, S.SURVEY) is MoveKind.BACK


def test_suspend_and_resume() -> None:
    bare = GateFacts(profile=CIVIL, today=TODAY)
    with pytest.raises(RuleViolation, match="suspending the project needs a reason"):
        check_transition(S.NOTICE, S.SUSPENDED, bare, "")
    assert check_transition(S.NOTICE, S.SUSPENDED, bare, "一楼业主起诉") == []
    assert classify_move(S.OPERATION, S.SUSPENDED) is MoveKind.SUSPEND
    with pytest.raises(RuleViolation, match="already at suspended"):
        check_transition(S.SUSPENDED, S.SUSPENDED, bare, "again")
    # Resuming goes back to the stage left, with a reason, and no gate re-checks it.
    assert (
        check_transition(S.SUSPENDED, S.NOTICE, bare, "法院驳回起诉", suspended_from=S.NOTICE) == []
    )
    with pytest.raises(RuleViolation, match="resuming at notice needs a reason"):
        check_transition(S.SUSPENDED, S.NOTICE, bare, "", suspended_from=S.NOTICE)
    with pytest.raises(RuleViolation, match="resumes at the stage it left") as caught:
        check_transition(S.SUSPENDED, S.APPROVAL, READY, "skip", suspended_from=S.NOTICE)
    assert caught.value.message.startswith("暂停的项目只能恢复到暂停前的公示阶段")
    with pytest.raises(RuleViolation, match="not on record"):
        check_transition(S.SUSPENDED, S.NOTICE, bare, "resume")
    assert classify_move(S.SUSPENDED, S.VOTE, suspended_from=S.VOTE) is MoveKind.RESUME


def test_gate_failures_are_empty_for_moves_that_are_not_forward() -> None:
    bare = GateFacts(profile=CIVIL, today=TODAY)
    assert gate_failures(S.NOTICE, S.DESIGN, bare) == []
    assert gate_failures(S.NOTICE, S.SUSPENDED, bare) == []
    assert len(gate_failures(S.NOTICE, S.APPROVAL, bare)) == 1
