"""Names of the ledger's actions (what an entry records), for people reading the record."""

from __future__ import annotations

LEDGER_ACTION_NAMES_ZH: dict[str, str] = {
    "compound.add": "登记小区",
    "building.add": "登记楼栋",
    "unit.add": "登记单元",
    "owner.add": "登记业主",
    "owner.update": "更正业主信息",
    "household.add": "登记房屋",
    "household.update": "更正房屋信息",
    "roster.import": "导入住户名册",
    "round.open": "开始表决",
    "round.close": "结束表决",
    "round.void": "宣布表决作废",
    "ballot.set": "记录表决意见",
    "objection.raise": "提出书面异议",
    "objection.status": "异议处理进展",
    "occupied.mark": "登记占用专有部分",
    "occupied.unmark": "撤销占用登记",
    "costplan.set": "制定费用分摊方案",
    "stage.transition": "项目阶段变更",
    "activity.record": "记录协商活动",
    "regeneration.record": "记录社区更新事件",
    "stance.set": "记录住户态度",
    "technical.record": "登记技术问题",
    "technical.resolve": "技术问题已解决",
    "text.erase": "依申请删除个人文字信息",
    "ledger.rollup": "汇总各小区账本",
    "ledger.baseline": "账本起点（升级时的数据）",
}
