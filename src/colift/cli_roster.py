"""`colift import --update/--dry-run`: show a roster update's preview as a table, then apply it."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from sqlalchemy import Engine

from colift.cli_common import out
from colift.services.roster_update import (
    FlatChange,
    RosterPreview,
    confirm_roster_update,
    preview_roster_update,
)

_FIELDS = {
    "owner": "业主 owner",
    "phone": "电话 phone",
    "area_m2": "面积 area",
    "tenure": "居住状态 tenure",
}


def _pair(change: FlatChange, name: str) -> str:
    new, old = {
        "owner": (change.owner, change.owner_was),
        "phone": (change.phone, change.phone_was),
        "area_m2": (change.area_m2, change.area_was),
        "tenure": (change.tenure_zh, change.tenure_was_zh),
    }[name]
    return f"{old or '—'} → {new or '—'}" if new != old else ""


def print_preview(preview: RosterPreview) -> None:
    """The per-flat diff: added, changed (what → what), missing (kept), and the unchanged count."""
    table = Table(title=f"名册更新预览 roster update preview · {preview.filename}")
    table.add_column("行 row", justify="right")
    table.add_column("房屋 flat")
    table.add_column("变化 change")
    for name in _FIELDS.values():
        table.add_column(name)
    table.add_column("撤回 withdrawn")
    for c in preview.added:
        table.add_row(
            str(c.row), c.label, "新增 added", c.owner, c.phone, c.area_m2, c.tenure_zh, ""
        )
    for c in preview.changed:
        withdrawn = []
        if c.withdraws_ballots:
            withdrawn.append(f"{c.withdraws_ballots} 张选票 ballots")
        if c.withdraws_stance:
            withdrawn.append("态度 stance")
        table.add_row(
            str(c.row),
            c.label,
            "修改 changed",
            *(_pair(c, name) for name in _FIELDS),
            "、".join(withdrawn),
        )
    for c in preview.missing:
        table.add_row(
            "", c.label, "文件中没有，保留 not in file, kept", c.owner_was, "", "", "", ""
        )
    out.print(table)
    out.print(
        f"新增 added {len(preview.added)}, 修改 changed {len(preview.changed)}, "
        f"文件中没有 missing (kept) {len(preview.missing)}, 不变 unchanged {preview.unchanged}"
    )


def update_roster(engine: Engine, file: Path, compound: str, *, actor: str, dry_run: bool) -> None:
    """Preview the file as an update of `compound`; apply it unless `dry_run`."""
    preview = preview_roster_update(engine, file.read_bytes(), file.name, compound, actor=actor)
    print_preview(preview)
    if dry_run:
        out.print("试运行，未做任何修改 / dry run: nothing was changed")
        return
    if not preview.has_changes:
        out.print("没有需要修改的内容 / nothing to change")
        return
    report = confirm_roster_update(engine, preview.preview_id, compound, actor=actor)
    out.print(
        f"已更新 updated: {report.added} 户新增 added, {report.changed} 户修改 changed "
        f"({report.owners_changed} 户换业主 new owners; 撤回 withdrawn {report.ballots_withdrawn} "
        f"张选票 ballots, {report.stances_withdrawn} 个态度 stances)"
    )
