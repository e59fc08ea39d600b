"""Code suggestions from trigger words: ranking on crafted segments, weights, speed shape."""

from __future__ import annotations

import math

import pytest

from colift.evidence.codebook import Codebook, default_codebook
from colift.evidence.model import Code, Coding, Source
from colift.evidence.suggest import Suggester, suggest, suggest_uncoded, uncoded_spans


def _top(text: str, k: int = 5) -> list[str]:
    return [s.code for s in suggest(text, top_k=k)]


def test_low_floor_daylight_ranks_low_floor_loss_first() -> None:
    found = suggest("一楼的王阿姨担心装了电梯以后挡住采光，家里更暗了，低层住户普遍有顾虑。")
    assert found[0].code == "heterogeneity.low_floor_loss"
    assert set(found[0].because) >= {"采光", "低层住户"}
    assert 0 < found[0].score < 1


def test_party_member_building_leader_ranks_embedded_guidance_high() -> None:
    top = _top("党员楼栋长老赵晚上上门做工作，一户一户地谈。", k=4)
    assert "guidance.embedded" in top[:2]
    assert "role.action_leader" in top[:2]
    assert "tool.door_to_door" in top


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("社区党委书记牵头召开联席会议，规划局和住建局都来了人。", "tool.joint_meeting"),
        ("三楼的房子租出去了，房东在外地，电话一直联系不上。", "heterogeneity.tenure"),
        ("我母亲八十多了，腿脚不好，爬楼太难，一年没下楼了。", "heterogeneity.age_need"),
        ("改成玻璃井道以后透光，一楼基本不受影响。", "tool.design_change"),
        ("一楼起诉到法院，电梯停工一年多，最后还是搁置了。", "outcome.failure"),
        ("Low floors worry about daylight, noise and privacy.", "heterogeneity.low_floor_loss"),
    ],
)
def test_crafted_segments_rank_the_expected_code_first(text: str, code: str) -> None:
    assert _top(text, k=1) == [code]


def test_nothing_found_gives_nothing() -> None:
    assert suggest("今天天气很好。") == []
    assert suggest("") == []


def test_english_triggers_only_match_whole_words() -> None:
    assert suggest("The noisemaker left.") == []
    assert _top("Too much NOISE at night", k=1) == ["heterogeneity.low_floor_loss"]


def test_weights_are_transparent() -> None:
    cb = Codebook(
        [
            Code("a", "甲", "A", triggers=("采光", "低层住户")),
            Code("b", "乙", "B", triggers=("采光",)),
            Code("c", "丙", "C", triggers=("电梯",)),
        ]
    )
    sg = Suggester(cb)
    # 3 codes have triggers; 采光 is listed by 2 of them, 低层住户 by 1 and is 4 characters
    assert sg.weights["采光"] == pytest.approx(math.log(1 + 3 / 2))
    assert sg.weights["低层住户"] == pytest.approx(math.log(1 + 3 / 1) * 1.2)
    found = sg.suggest("低层住户说采光差，采光真的差")
    assert [s.code for s in found] == ["a", "b"]
    # a: 低层住户 once (ln 4 × 1.2) + 采光 twice (ln 2.5 × (1 + ln 2))
    raw_a = math.log(4) * 1.2 + math.log(2.5) * (1 + math.log(2))
    assert found[0].score == pytest.approx(1 - math.exp(-raw_a / 6), abs=1e-4)
    # strongest first: 低层住户 1.386 × 1.2 = 1.664 beats 采光 0.916 × 1.693 = 1.551
    assert found[0].because == ("低层住户", "采光")
    assert sg.explain("a") == {
        "采光": pytest.approx(0.9163, abs=1e-4),
        "低层住户": pytest.approx(1.6636, abs=1e-4),
    }


def test_longest_match_credits_other_codes_for_inner_triggers() -> None:
    cb = Codebook(
        [
            Code("emb", "嵌入", "E", triggers=("党员", "党员楼栋长")),
            Code("act", "行动", "A", triggers=("楼栋长",)),
        ]
    )
    found = {s.code: s.because for s in Suggester(cb).suggest("党员楼栋长上门")}
    assert found == {"emb": ("党员楼栋长",), "act": ("楼栋长",)}


def test_token_mode_rejects_matches_across_word_boundaries() -> None:
    text = "第一楼栋的人都同意。"
    assert "heterogeneity.low_floor_loss" in _top(text)
    assert "heterogeneity.low_floor_loss" not in [s.code for s in suggest(text, tokens=True)]


def test_top_k_min_score_and_exclude() -> None:
    sg = Suggester(default_codebook())
    text = "党员楼栋长老赵晚上上门做工作，把政策讲清楚。"
    assert len(sg.suggest(text, top_k=2)) == 2
    assert all(s.score >= 0.55 for s in sg.suggest(text, top_k=0, min_score=0.55))
    assert "guidance.embedded" not in [
        s.code for s in sg.suggest(text, exclude=["guidance.embedded"])
    ]


def test_uncoded_sentences_get_suggestions() -> None:
    text = "我们单元一共十二户。\r\n一楼担心采光。\r\n党员带头签字，承诺多出一份钱。"
    src = Source("s1", "访谈", text)
    coded = [
        Coding(
            "s1", text.index("一楼"), text.index("一楼") + 4, "heterogeneity.low_floor_loss", "a"
        )
    ]
    spans = uncoded_spans(src, coded)
    assert [s.text for s in spans] == ["我们单元一共十二户。", "党员带头签字，承诺多出一份钱。"]
    result = suggest_uncoded(src, coded)
    assert [r.span.text for r in result] == ["党员带头签字，承诺多出一份钱。"]
    assert result[0].suggestions[0].code == "tool.party_member_pledge"
    assert text[result[0].span.start : result[0].span.end] == result[0].span.text
