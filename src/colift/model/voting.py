"""Votes and objections as the consent rules read them."""

from __future__ import annotations

from enum import StrEnum


class Vote(StrEnum):
    AGREE = "agree"  # 同意
    DISAGREE = "disagree"  # 反对
    ABSTAIN = "abstain"  # 弃权: takes part in the vote, does not agree
    ABSENT = "absent"  # 未参与表决

    @property
    def participates(self) -> bool:
        return self is not Vote.ABSENT


VOTE_ALIASES: dict[str, Vote] = {
    "agree": Vote.AGREE,
    "yes": Vote.AGREE,
    "同意": Vote.AGREE,
    "disagree": Vote.DISAGREE,
    "no": Vote.DISAGREE,
    "against": Vote.DISAGREE,
    "反对": Vote.DISAGREE,
    "不同意": Vote.DISAGREE,
    "abstain": Vote.ABSTAIN,
    "弃权": Vote.ABSTAIN,
    "absent": Vote.ABSENT,
    "未投票": Vote.ABSENT,
    "未参与": Vote.ABSENT,
    "": Vote.ABSENT,
}


def parse_vote(text: str) -> Vote:
    """Read a vote in English or Chinese; raises ValueError naming the accepted words."""
    vote = VOTE_ALIASES.get(text.strip().lower())
    if vote is None:
        raise ValueError(
            f"unknown vote {text!r}: use agree/同意, disagree/反对, abstain/弃权 or absent/未投票"
        )
    return vote


class ObjectionStatus(StrEnum):
    """Objection lifecycle: open → negotiation → mediation → hearing → an end state."""

    OPEN = "open"  # 已提出
    NEGOTIATION = "negotiation"  # 协商中
    MEDIATION = "mediation"  # 调解中
    HEARING = "hearing"  # 听证
    LITIGATION = "litigation"  # 诉讼中
    WITHDRAWN = "withdrawn"  # 已撤回
    RESOLVED = "resolved"  # 已化解 (also read from "mediated")
    OVERRULED = "overruled"  # 经决定驳回

    @property
    def unresolved(self) -> bool:
        """An unresolved objection is a live objection: "no objection" rules are blocked by it."""
        return self not in (
            ObjectionStatus.WITHDRAWN,
            ObjectionStatus.RESOLVED,
            ObjectionStatus.OVERRULED,
        )


OBJECTION_STATUS_NAMES_ZH: dict[ObjectionStatus, str] = {
    ObjectionStatus.OPEN: "已提出",
    ObjectionStatus.NEGOTIATION: "协商中",
    ObjectionStatus.MEDIATION: "调解中",
    ObjectionStatus.HEARING: "听证",
    ObjectionStatus.LITIGATION: "诉讼中",
    ObjectionStatus.WITHDRAWN: "已撤回",
    ObjectionStatus.RESOLVED: "已化解",
    ObjectionStatus.OVERRULED: "已驳回",
}

OBJECTION_STATUS_ALIASES: dict[str, ObjectionStatus] = {
    **{s.value: s for s in ObjectionStatus},
    **{zh: s for s, zh in OBJECTION_STATUS_NAMES_ZH.items()},
    "mediated": ObjectionStatus.RESOLVED,
}


def parse_objection_status(text: str) -> ObjectionStatus:
    status = OBJECTION_STATUS_ALIASES.get(text.strip().lower())
    if status is None:
        accepted = ", ".join(s.value for s in ObjectionStatus)
        raise ValueError(f"unknown objection status {text!r}: use one of {accepted}")
    return status


class ObjectionReason(StrEnum):
    """Why a household objects; low floors mostly name light, noise, privacy and value."""

    LIGHT = "light"  # 采光、日照
    NOISE = "noise"  # 噪音
    PRIVACY = "privacy"  # 隐私
    VALUE = "value"  # 房屋价值
    COST = "cost"  # 费用
    SAFETY = "safety"  # 结构与施工安全
    ACCESS = "access"  # 通行、消防通道
    OTHER = "other"  # 其他


def parse_objection_reason(text: str) -> ObjectionReason:
    zh = {
        "采光": "light",
        "日照": "light",
        "噪音": "noise",
        "隐私": "privacy",
        "房价": "value",
        "价值": "value",
        "费用": "cost",
        "安全": "safety",
        "通行": "access",
        "其他": "other",
    }
    key = text.strip().lower()
    try:
        return ObjectionReason(zh.get(key, key))
    except ValueError:
        accepted = ", ".join(r.value for r in ObjectionReason)
        raise ValueError(f"unknown objection reason {text!r}: use one of {accepted}") from None
