"""The study's terms in plain words, for the glossary page (/help) and the pages' tooltips.

A worker meets 合作水平 L0–L4, 异质性, 直接引领 / 嵌入式引领 and the six leader roles on every
unit page; these are the sentences that explain them, in Chinese and English. The names come
from the model's own names tables, so a renamed term cannot drift from its explanation.
"""

from __future__ import annotations

from dataclasses import dataclass

from colift.coproduction.cooperation import LEVEL_NAMES, LEVEL_NAMES_ZH
from colift.model import ROLE_NAMES_ZH, Role


@dataclass(frozen=True)
class Term:
    anchor: str  # the id on /help
    name_zh: str
    name_en: str
    text_zh: str
    text_en: str

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh

    def text(self, lang: str) -> str:
        return self.text_en if lang == "en" else self.text_zh


_LEVELS = {
    0: (
        "本单元还没有开展任何加梯工作，居民也没有被告知。",
        "Nothing has been done yet; residents have not been told.",
    ),
    1: (
        "居民已经知道加梯的政策和打算（如宣讲、公示、参观已建电梯），但还没有被征求意见。",
        "Residents have been told about the policy and the plan, but not yet asked.",
    ),
    2: (
        "已经逐户听取居民的意见（如意愿征询、入户走访），但决定还没有一起作出。",
        "Residents have been asked, household by household, but have not decided together.",
    ),
    3: (
        "居民一起商量并作出决定：议事协商、签订协议或表决达到法定比例。",
        "Residents deliberate and decide together: a meeting, an agreement or a passed vote.",
    ),
    4: (
        "居民共同出钱出力推进实施：资金归集、自管维保、联合验收等。",
        "Residents carry the work out together: pooled funds, self-managed upkeep, joint checks.",
    ),
}

_ROLES = {
    Role.COORDINATOR: (
        "在街道、社区、物业、电梯企业和管线单位之间牵线搭桥、协调关系的人。",
        "Links the street office, community, property manager, vendor and utilities.",
    ),
    Role.CONSULTATION_ORGANIZER: (
        "按程序组织意愿征询、议事协商、签约和表决的人，通常是社区工作者或单元长。",
        "Runs the formal steps: survey, meeting, agreement and vote.",
    ),
    Role.VISION_PROMOTER: (
        "宣讲政策、讲清加梯好处，让大家形成共同愿景的人。",
        "Explains the policy and the benefits so that neighbours share one aim.",
    ),
    Role.OPINION_LEADER: (
        "在邻里中说话有分量、能影响别人态度的居民。",
        "A resident whose word moves the neighbours' minds.",
    ),
    Role.ACTION_LEADER: (
        "带头跑腿办事的居民：收签名、联系外地业主、跟进进度。",
        "A resident who does the legwork: signatures, absent owners, follow-up.",
    ),
    Role.COMMUNITY_ELITE: (
        "有专业知识或社会资源的居民（如工程师、退休干部），能解决技术或资源难题。",
        "A resident with expertise or connections who solves technical problems.",
    ),
}

TERMS: tuple[Term, ...] = (
    Term(
        "level",
        "合作水平（L0–L4）",
        "cooperation level (L0–L4)",
        "衡量居民参与加梯工作的程度，从L0到L4逐级提高："
        + "；".join(
            f"L{k} {LEVEL_NAMES_ZH[k]}：{zh.rstrip('。')}" for k, (zh, _en) in _LEVELS.items()
        )
        + "。",
        "How far residents take part, from L0 to L4: "
        + "; ".join(f"L{k} {LEVEL_NAMES[k]}: {en}" for k, (_zh, en) in _LEVELS.items())
        + ".",
    ),
    Term(
        "heterogeneity",
        "异质性",
        "heterogeneity",
        "同一单元住户之间差别有多大，0表示没有差别，1表示差别最大。看六个方面：楼层利益"
        "（低层住户得益少、受影响多）、老人与行动不便、经济承受能力、产权与居住情况、"
        "信任与信息、技术条件。差别越大，越需要耐心协商。",
        "How different the households of one stairwell are, from 0 (alike) to 1 (most "
        "different), over six sides: floor interests, elderly and disabled, ability to pay, "
        "tenure, trust and information, technical conditions.",
    ),
    Term(
        "direct",
        "直接引领",
        "direct Party guidance",
        "党组织或党员以组织的名义出面，直接召集、主持和推动加梯工作。",
        "The Party organisation acts in its own name: it convenes, chairs and drives the work.",
    ),
    Term(
        "embedded",
        "嵌入式引领",
        "embedded Party guidance",
        "党员以普通邻居的身份参与，在日常交往中带头表态、做工作，不以组织名义出面。",
        "Party members take part as ordinary neighbours and lead by example, not in the "
        "organisation's name.",
    ),
    *(
        Term(f"role-{role.value}", ROLE_NAMES_ZH[role], role.value.replace("_", " "), zh, en)
        for role, (zh, en) in _ROLES.items()
    ),
)

BY_ANCHOR = {t.anchor: t for t in TERMS}


def explain(kind: str, value: object, lang: str) -> str:
    """The tooltip for a term on a page ('' when the glossary has none)."""
    key = str(getattr(value, "value", value))
    anchor = {"level": "level", "guidance": key, "role": f"role-{key}"}.get(kind, kind)
    term = BY_ANCHOR.get(anchor)
    return term.text(lang) if term else ""
