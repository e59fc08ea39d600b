"""Names of domain values in the page language, from the model's own zh names and English ids."""

from __future__ import annotations

from colift.coproduction.catalogue import load_catalogue
from colift.coproduction.cooperation import LEVEL_NAMES, LEVEL_NAMES_ZH
from colift.model import ROLE_NAMES_ZH, Role
from colift.model.accounts import ACCOUNT_ROLE_NAMES_ZH
from colift.model.coproduction import STAGE_NAMES_ZH
from colift.model.money import yuan as money_yuan
from colift.model.records import LEDGER_ACTION_NAMES_ZH
from colift.model.voting import OBJECTION_STATUS_NAMES_ZH

_ZH: dict[str, dict[str, str]] = {
    "stage": {s.value: zh for s, zh in STAGE_NAMES_ZH.items()},
    "role": {r.value: zh for r, zh in ROLE_NAMES_ZH.items()},
    "account_role": {r.value: zh for r, zh in ACCOUNT_ROLE_NAMES_ZH.items()},
    "objection_status": {s.value: zh for s, zh in OBJECTION_STATUS_NAMES_ZH.items()},
    "ledger_action": dict(LEDGER_ACTION_NAMES_ZH),
    "round_status": {"open": "进行中", "closed": "已结束", "void": "已作废"},
    "level": {str(k): v for k, v in LEVEL_NAMES_ZH.items()},
    "stance": {
        "support": "支持",
        "lean_support": "倾向支持",
        "undecided": "观望",
        "lean_oppose": "倾向反对",
        "oppose": "反对",
        "unknown": "未接触",
    },
    "vote": {"agree": "同意", "disagree": "不同意", "abstain": "弃权", "absent": "未表决"},
    "tenure": {
        "owner_occupied": "自住",
        "rented": "出租",
        "absentee": "外住/空置",
        "developer_unsold": "开发商未售",
        "developer_undelivered": "已售未交付",
    },
    "reason": {
        "light": "采光",
        "noise": "噪音",
        "privacy": "隐私",
        "value": "房屋价值",
        "cost": "费用",
        "safety": "安全",
        "access": "通行/消防通道",
        "ventilation": "通风",
        "other": "其他",
    },
    "guidance": {"direct": "直接引领", "embedded": "嵌入式引领", "none": "无党建引领"},
    "dimension": {
        "interest": "利益（楼层）",
        "demographic": "人口（老人与行动不便）",
        "economic": "经济（承受能力）",
        "tenure": "产权与居住",
        "trust_information": "信任与信息",
        "technical": "技术条件",
    },
    "basis": {"heads": "人数", "area": "面积"},
    "operator": {"以上": "以上", "超过": "超过", ">=": "以上", ">": "超过"},
    "failure": {
        "no_consent": "未达成同意",
        "objection": "异议未化解",
        "funding": "资金不足",
        "technical": "技术条件",
        "initiator_exit": "带头人退出",
        "deadline": "超过期限",
    },
    "step": {"quorum": "参与表决", "approval": "同意"},
    # the subsidy profiles' line labels (rules/profiles/subsidy/*.toml), as printed on documents
    "subsidy_line": {
        "Haidian district top-up": "海淀区追加补贴",
        "city and district subsidy": "市、区两级补贴",
        "city pipeline relocation subsidy": "市级管线迁改补贴",
        "city subsidy (ceiling)": "市级补贴（上限）",
        "city subsidy (construction and running)": "市级补贴（建设及运行）",
        "city subsidy by storeys": "市级补贴（按层数）",
        "city subsidy for purchase and installation": "市级补贴（购置及安装）",
        "city subsidy": "市级补贴",
        "city subsidy, existing shaft": "市级补贴（利用原有井道）",
        "district and city subsidy": "区、市两级补贴",
        "district match (at least the city's)": "区级配套补贴（不低于市级）",
        "district match, existing shaft": "区级配套补贴（利用原有井道）",
        "district subsidy": "区级补贴",
        "of which 10 years of maintenance and ¥3,000 electricity": "其中10年维保费及¥3,000电费",
        "pipeline relocation": "管线迁改补贴",
    },
}

_EN_SPECIAL: dict[str, dict[str, str]] = {
    "level": {str(k): v for k, v in LEVEL_NAMES.items()},
    "dimension": {"trust_information": "trust and information"},
    "basis": {"heads": "owners", "area": "area"},
    "operator": {"以上": "or more", "超过": "more than", ">=": "or more", ">": "more than"},
    "step": {"quorum": "taking part", "approval": "agreeing"},
    "subsidy_line": {},
    "guidance": {"none": "no Party guidance"},
    "tenure": {"owner_occupied": "owner-occupied", "absentee": "absentee"},
}


def label(kind: str, value: object, lang: str) -> str:
    """The name of `value` (an enum member or its value) of `kind` in `lang`."""
    key = str(getattr(value, "value", value))
    if kind == "tool":
        tool = load_catalogue().tools.get(key)
        if tool is not None:
            return tool.name_zh if lang != "en" else tool.name_en
        return key
    if kind in ("lever", "work_step"):
        return _law_label(kind, key, lang)
    if lang == "en":
        special = _EN_SPECIAL.get(kind, {}).get(key)
        if kind == "subsidy_line":
            return key
        return special or key.replace("_", " ")
    return _ZH.get(kind, {}).get(key, key)


def choices(kind: str, lang: str) -> list[tuple[str, str]]:
    """(value, label) pairs of a kind, in the model's order."""
    if kind == "role":
        return [(r.value, label("role", r, lang)) for r in Role]
    return [(k, label(kind, k, lang)) for k in _ZH[kind]]


def yuan(fen: int | None) -> str:
    """¥12,345.67 from integer fen, exact (no float); a dash when not known."""
    return "—" if fen is None else money_yuan(fen)


def _law_label(kind: str, key: str, lang: str) -> str:
    """Funding levers and work steps, named where the law module defines them."""
    if kind == "lever":
        from colift.rules.costshare import LeverKind, lever_rules

        rule = lever_rules().get(LeverKind(key)) if key in set(LeverKind) else None
        if rule is None:
            return key
        return rule.name_en if lang == "en" else rule.name_zh
    from colift.coproduction.workflow import WORK_STEP_NAMES, WorkStep

    name = WORK_STEP_NAMES.get(WorkStep(key)) if key in set(WorkStep) else None
    return key if name is None else name.render(lang)
