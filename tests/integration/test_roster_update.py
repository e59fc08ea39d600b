"""Roster update: an export re-imported as a preview of changes, then confirmed, on both databases."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine

from colift.errors import BadInput, NotFound, RowError
from colift.i18n import render
from colift.model import Vote
from colift.model.coproduction import Stance
from colift.services.ledger import verify_ledger
from colift.services.registry import CompoundDetails, export_roster, import_roster
from colift.services.roster_update import (
    confirm_roster_update,
    preview_roster_update,
    read_preview,
)
from colift.services.views import compound_overview
from colift.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "roster.csv"
NEW = CompoundDetails(name="建设里小区", city="大连市", district="沙河口区")


@pytest.fixture(autouse=True)
def _preview_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLIFT_ROSTER_PREVIEW_DIR", str(tmp_path / "previews"))


def _exported(engine: Engine, tmp_path: Path) -> tuple[list[str], list[list[str]]]:
    out = tmp_path / "export.csv"
    export_roster(engine, "jsl", out)
    with out.open(encoding="utf-8-sig", newline="") as f:
        header, *rows = list(csv.reader(f))
    return header, rows


def _bytes(header: list[str], rows: list[list[str]]) -> bytes:
    lines = [",".join(header), *(",".join(r) for r in rows)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _flat(engine: Engine, building: str, unit: str, room: str) -> tuple[int, int, str, str]:
    """(household id, unit id, owner name, owner phone)."""
    with UnitOfWork(engine) as uow:
        info = next(
            u
            for u in uow.units.list_by_compound(1)
            if (u.building_number, u.number) == (building, unit)
        )
        flat = uow.households.get_by_room(info.id, room)
        owner = uow.owners.get(flat.owner_id)
        return flat.id or 0, info.id, owner.name, owner.phone


def test_the_export_re_imported_unchanged_is_an_update_with_nothing_to_do(
    engine: Engine, tmp_path: Path
) -> None:
    import_roster(engine, EXAMPLE, "jsl", actor="社区 王老师", create=NEW)
    header, rows = _exported(engine, tmp_path)
    preview = preview_roster_update(engine, _bytes(header, rows), "export.csv", "jsl", actor="王")
    assert (preview.added, preview.changed, preview.missing) == ([], [], [])
    assert preview.unchanged == len(rows) == 48
    assert not preview.has_changes


def test_owner_phone_area_and_new_flats_previewed_then_confirmed(
    engine: Engine, tmp_path: Path
) -> None:
    import_roster(engine, EXAMPLE, "jsl", actor="社区 王老师", create=NEW)
    header, rows = _exported(engine, tmp_path)
    col = {name: header.index(name) for name in ("楼栋", "单元", "房号", "业主", "联系电话")}
    area = next(i for i, h in enumerate(header) if h.startswith("面积") and "来源" not in h)
    by_room = {(r[col["楼栋"]], r[col["单元"]], r[col["房号"]]): r for r in rows}
    sold = by_room[("3", "1", "102")]  # 李建国 voted 同意 in the open round
    sold[col["业主"]], sold[col["联系电话"]] = "周晓梅", "13900000001"
    moved = by_room[("3", "1", "201")]  # same owners, a new phone
    moved[col["联系电话"]] = "13900000002"
    measured = by_room[("3", "1", "301")]
    measured[area] = "57.10"
    dropped = rows.pop(rows.index(by_room[("5", "2", "602")]))
    new_flat = list(rows[0])
    new_flat[col["楼栋"]], new_flat[col["单元"]], new_flat[col["房号"]] = "10", "1", "101"
    new_flat[col["业主"]], new_flat[col["联系电话"]] = "孙立新", "13900000003"
    new_flat[header.index("身份证号")] = "11010519491231002X"  # a new owner's ID number is kept
    rows.append(new_flat)
    hid, unit_id, _, _ = _flat(engine, "3", "1", "102")
    with UnitOfWork(engine) as uow:
        uow.stances.set(hid, Stance.SUPPORT, actor="王")
        uow.commit()

    preview = preview_roster_update(engine, _bytes(header, rows), "export.csv", "jsl", actor="王")
    assert [c.label for c in preview.added] == ["10栋1单元101"]
    changes = {c.label: c for c in preview.changed}
    assert set(changes) == {"3栋1单元102", "3栋1单元201", "3栋1单元301"}
    assert changes["3栋1单元102"].fields == ["owner", "phone"]
    assert (changes["3栋1单元102"].owner_was, changes["3栋1单元102"].owner) == ("李建国", "周晓梅")
    assert changes["3栋1单元102"].withdraws_ballots == 1
    assert changes["3栋1单元102"].withdraws_stance
    assert changes["3栋1单元201"].fields == ["phone"]
    assert (changes["3栋1单元301"].area_was, changes["3栋1单元301"].area_m2) == ("56.3", "57.1")
    assert [c.label for c in preview.missing] == [
        f"{dropped[col['楼栋']]}栋{dropped[col['单元']]}单元{dropped[col['房号']]}"
    ]
    assert preview.unchanged == 48 - 4
    # Nothing is written by a preview.
    assert _flat(engine, "3", "1", "102")[2] == "李建国"

    report = confirm_roster_update(engine, preview.preview_id, "jsl", actor="社区 王老师")
    assert (report.added, report.changed, report.owners_changed) == (1, 3, 1)
    assert (report.ballots_withdrawn, report.stances_withdrawn, report.kept_missing) == (1, 1, 1)
    assert _flat(engine, "3", "1", "102")[2:] == ("周晓梅", "13900000001")
    assert _flat(engine, "3", "1", "201")[2:] == ("王建华、刘淑芬", "13900000002")
    assert _flat(engine, "10", "1", "101")[2] == "孙立新"
    with UnitOfWork(engine) as uow:
        new_owner = uow.owners.get(uow.households.get(_flat(engine, "10", "1", "101")[0]).owner_id)
        assert new_owner.id_number == "11010519491231002X"
    assert _flat(engine, "5", "2", "602")[2]  # kept: an update never deletes a flat
    with UnitOfWork(engine) as uow:
        current = uow.votes.current_round(unit_id)
        assert current is not None
        ballots = {b.household_id: b.vote for b in uow.votes.list_ballots(current.id or 0)}
        assert ballots[hid] is Vote.ABSENT
        stance = uow.stances.find(hid)
        assert stance is not None and stance.stance is Stance.UNKNOWN
    assert verify_ledger(engine).ok
    assert read_preview(preview.preview_id, "jsl").applied is not None
    with pytest.raises(BadInput, match="confirmed already"):
        confirm_roster_update(engine, preview.preview_id, "jsl", actor="王")

    # The same file again: only the flat missing from it is listed, nothing to change.
    again = preview_roster_update(engine, _bytes(header, rows), "export.csv", "jsl", actor="王")
    assert (again.added, again.changed, len(again.missing)) == ([], [], 1)
    # Natural order: building 10 comes after 3 and 5 on the compound page and in the export.
    assert [b for b, _ in compound_overview(engine, "jsl").buildings] == ["3", "5", "10"]
    _, exported = _exported(engine, tmp_path)
    assert [r[col["楼栋"]] for r in exported][-1] == "10"


def test_confirm_is_refused_when_the_registry_changed_since_the_preview(
    engine: Engine, tmp_path: Path
) -> None:
    import_roster(engine, EXAMPLE, "jsl", actor="王", create=NEW)
    header, rows = _exported(engine, tmp_path)
    rows[0][header.index("联系电话")] = "13900000009"
    preview = preview_roster_update(engine, _bytes(header, rows), "e.csv", "jsl", actor="王")
    first = preview.changed[0]
    with UnitOfWork(engine) as uow:
        owner_id = uow.households.get_by_room(
            _flat(engine, first.building, first.unit, first.room)[1], first.room
        ).owner_id
        uow.owners.update(owner_id, actor="王", phone="13700000000")
        uow.commit()
    with pytest.raises(BadInput, match="changed after this preview"):
        confirm_roster_update(engine, preview.preview_id, "jsl", actor="王")
    assert verify_ledger(engine).ok


def test_a_preview_belongs_to_its_compound_and_a_bad_file_previews_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    import_roster(engine, EXAMPLE, "jsl", actor="王", create=NEW)
    header, rows = _exported(engine, tmp_path)
    preview = preview_roster_update(engine, _bytes(header, rows), "e.csv", "jsl", actor="王")
    with pytest.raises(NotFound):
        read_preview(preview.preview_id, "other")
    with pytest.raises(NotFound):
        confirm_roster_update(engine, "not-a-preview-id-at-all", "jsl", actor="王")
    rows[3][header.index("楼栋")] = "九十九栋x"
    with pytest.raises(RowError) as caught:
        preview_roster_update(engine, _bytes(header, rows), "e.csv", "jsl", actor="王")
    ((row, column, message),) = caught.value.errors
    assert (row, column) == (5, "楼栋") and "九十九栋x" in render(message, "zh-CN")


def test_an_owner_change_that_cannot_be_stored_changes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    import_roster(engine, EXAMPLE, "jsl", actor="王", create=NEW)
    header, rows = _exported(engine, tmp_path)
    phone = header.index("联系电话")
    before = _flat(engine, rows[0][0], rows[0][1], rows[0][4])
    rows[0][header.index("业主")] = "赵新"
    rows[1][phone] = "1" * 200  # longer than the phone column: refused at storage
    preview = preview_roster_update(engine, _bytes(header, rows), "e.csv", "jsl", actor="王")
    with pytest.raises((RowError, BadInput)):
        confirm_roster_update(engine, preview.preview_id, "jsl", actor="王")
    assert _flat(engine, rows[0][0], rows[0][1], rows[0][4]) == before
    assert verify_ledger(engine).ok


def test_cli_dry_run_then_update(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from colift.cli import app

    runner = CliRunner()
    db = ["--database", f"sqlite:///{tmp_path / 'c.db'}"]
    assert runner.invoke(app, ["init", *db]).exit_code == 0
    first = ["import", str(EXAMPLE), "-c", "jsl", "--name", "建设里", "--city", "大连市", *db]
    assert runner.invoke(app, first).exit_code == 0
    out = tmp_path / "export.csv"
    assert runner.invoke(app, ["export", str(out), "-c", "jsl", *db]).exit_code == 0
    text = out.read_text(encoding="utf-8-sig").replace(
        ",李建国,13800000102,", ",周晓梅,13900000001,"
    )
    out.write_text(text, encoding="utf-8")
    dry = runner.invoke(app, ["import", str(out), "-c", "jsl", "--dry-run", *db])
    assert dry.exit_code == 0, dry.output
    assert "李建国 → 周晓梅" in dry.stdout and "dry run: nothing was changed" in dry.stdout
    done = runner.invoke(app, ["import", str(out), "-c", "jsl", "--update", *db])
    assert done.exit_code == 0, done.output
    # 李建国 owned two flats: both pass to 周晓梅.
    assert "2 户修改 changed" in done.stdout and "2 户换业主 new owners" in done.stdout
    again = runner.invoke(app, ["import", str(out), "-c", "jsl", "--update", *db])
    assert "nothing to change" in again.stdout
    assert runner.invoke(app, ["ledger", "verify", *db]).exit_code == 0


def test_patterns_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from colift.services.registry import roster_patterns

    assert roster_patterns().building == r"[0-9]{1,3}|[A-Z][0-9]{0,2}"
    monkeypatch.setenv("COLIFT_ROSTER_BUILDING_PATTERN", r"[0-9]{1,2}-[0-9]{1,2}")
    monkeypatch.setenv("COLIFT_ROSTER_UNIT_PATTERN", r"[A-Z]")
    assert roster_patterns().building == r"[0-9]{1,2}-[0-9]{1,2}"
    assert roster_patterns().unit == r"[A-Z]"
    monkeypatch.setenv("COLIFT_ROSTER_UNIT_PATTERN", r"[A-Z")
    with pytest.raises(BadInput, match="not a valid regular expression"):
        roster_patterns()


def test_previews_expire_after_an_hour(engine: Engine, tmp_path: Path) -> None:
    import os
    import time

    import_roster(engine, EXAMPLE, "jsl", actor="王", create=NEW)
    header, rows = _exported(engine, tmp_path)
    old = preview_roster_update(engine, _bytes(header, rows), "e.csv", "jsl", actor="王")
    folder = tmp_path / "previews"
    hour_ago = time.time() - 3601
    for kept in folder.iterdir():
        os.utime(kept, (hour_ago, hour_ago))
    preview_roster_update(engine, _bytes(header, rows), "e.csv", "jsl", actor="王")
    with pytest.raises(NotFound, match="expired"):
        read_preview(old.preview_id, "jsl")


def test_a_new_flat_of_an_owner_whose_phone_is_corrected_finds_the_same_owner(
    engine: Engine, tmp_path: Path
) -> None:
    import_roster(engine, EXAMPLE, "jsl", actor="王", create=NEW)
    header, rows = _exported(engine, tmp_path)
    at = {name: header.index(name) for name in ("楼栋", "房号", "业主", "联系电话")}
    first = rows[0]
    first[at["联系电话"]] = "13900000077"
    extra = list(first)
    extra[at["楼栋"]], extra[at["房号"]] = "10", "101"
    rows.append(extra)
    preview = preview_roster_update(engine, _bytes(header, rows), "e.csv", "jsl", actor="王")
    confirm_roster_update(engine, preview.preview_id, "jsl", actor="王")
    with UnitOfWork(engine) as uow:
        named = [o for o in uow.owners.list_by_compound(1) if o.name == first[at["业主"]]]
    assert [(o.phone) for o in named] == ["13900000077"]
    assert verify_ledger(engine).ok


def test_an_oversized_upload_is_refused_before_it_is_kept(engine: Engine, tmp_path: Path) -> None:
    import_roster(engine, EXAMPLE, "jsl", actor="王", create=NEW)
    with pytest.raises(BadInput, match="at most 5120 KB"):
        preview_roster_update(engine, b"x" * (5 * 1024 * 1024 + 1), "big.csv", "jsl", actor="王")
    assert not list((tmp_path / "previews").glob("*.csv"))
