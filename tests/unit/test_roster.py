"""Household roster import and export: tolerant reading, complete error reports, round trips."""

from __future__ import annotations

import csv
import tempfile
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from colift.errors import BadInput, RowError
from colift.i18n import Message, bilingual
from colift.io import (
    ROSTER_COLUMNS,
    RosterRow,
    format_errors,
    parse_rows,
    read_roster,
    write_roster,
    write_template,
)
from colift.io.roster import MAX_ROSTER_BYTES, MAX_ROSTER_ROWS, CodePatterns
from colift.model import AgeBand, AreaSource, Mobility, Tenure, Vote

DATA = Path(__file__).resolve().parent.parent / "data"

HEADER = ["楼栋", "单元", "楼层", "房号", "面积", "业主"]

EXPECTED_GOOD = [
    RosterRow(
        "3",
        "1",
        1,
        "101",
        Decimal("56.3"),
        "张桂兰",
        "138****1234",
        storeys=6,
        resident="张桂兰",
        age=78,
        mobility=Mobility.REDUCED,
        party_member=True,
        vote=Vote.AGREE,
    ),
    RosterRow(
        "3",
        "1",
        1,
        "102",
        Decimal("62.15"),
        "李建国",
        "13800001102",
        Tenure.RENTED,
        storeys=6,
        resident="赵磊",
        age=34,
        mobility=Mobility.NONE,
        party_member=False,
        vote=Vote.AGREE,
        notes="租户",
    ),
    RosterRow(
        "3",
        "1",
        2,
        "201",
        Decimal("56.3"),
        "王建华、刘淑芬",
        storeys=6,
        resident="刘淑芬",
        age_band=AgeBand.AGE_80_PLUS,
        mobility=Mobility.WHEELCHAIR,
        vote=Vote.DISAGREE,
        notes="担心采光",
    ),
    RosterRow(
        "3",
        "1",
        2,
        "202",
        Decimal("62.15"),
        "李建国",
        "13800001102",
        Tenure.ABSENTEE,
        storeys=6,
        vote=Vote.AGREE,
        notes="同一业主两套房",
    ),
    RosterRow("3", "1", 6, "601", Decimal("56.3"), "", tenure=Tenure.DEVELOPER_UNSOLD, storeys=6),
    RosterRow(
        "3",
        "1",
        6,
        "602",
        Decimal("62.15"),
        "陈秀英",
        storeys=6,
        resident="陈秀英",
        age=66,
        party_member=True,
        vote=Vote.ABSTAIN,
    ),
]


def _said(errors: list[tuple[int, str, str | Message]]) -> list[tuple[int, str, str]]:
    """Row problems as the command line prints them: both languages."""
    return [(row, column, bilingual(message)) for row, column, message in errors]


def errors_of(path: Path) -> list[tuple[int, str, str]]:
    with pytest.raises(RowError) as caught:
        read_roster(path)
    return _said(caught.value.errors)


def find(errors: list[tuple[int, str, str]], row: int, column: str, text: str) -> str:
    """The one message at (row, column) containing `text`; fails listing all errors if none."""
    hits = [m for r, c, m in errors if r == row and c == column and text in m]
    assert len(hits) == 1, f"no single {text!r} at row {row} [{column}]:\n{format_errors(errors)}"
    return hits[0]


# --- good files ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["good.csv", "good_gbk.csv", "good.xlsx"])
def test_good_files_read_the_same(name: str) -> None:
    rows = read_roster(DATA / name)
    assert rows == EXPECTED_GOOD


def test_gbk_file_is_really_not_utf8() -> None:
    with pytest.raises(UnicodeDecodeError):
        (DATA / "good_gbk.csv").read_bytes().decode("utf-8")


def test_csv_rows_are_numbered_as_in_excel() -> None:
    rows = read_roster(DATA / "good.csv")
    assert [r.source_row for r in rows] == [2, 3, 4, 5, 6, 7]


def test_xlsx_uses_the_roster_sheet_and_skips_the_title_row() -> None:
    rows = read_roster(DATA / "good.xlsx")
    # Sheet 住户 is picked over the first sheet; its title row pushes the header to row 2.
    assert rows[0].source_row == 3
    assert rows[-1].source_row == 8


def test_xlsx_float_noise_in_area_is_rounded_away() -> None:
    rows = read_roster(DATA / "good.xlsx")
    assert rows[2].area_m2 == Decimal("56.3")
    assert str(rows[2].area_m2) == "56.3"


def test_developer_held_is_derived_from_tenure() -> None:
    rows = read_roster(DATA / "good.csv")
    assert [r.developer_held for r in rows] == [False, False, False, False, True, False]


def test_messy_cells_are_tolerated() -> None:
    rows = read_roster(DATA / "messy.csv")
    assert [(r.building, r.unit, r.floor, r.room, r.area_m2) for r in rows] == [
        ("3", "2", 3, "301", Decimal("56.3")),
        ("3", "2", 4, "402", Decimal("56.30")),
        ("12", "3", 10, "1001", Decimal("92")),
    ]
    assert rows[0].owner == "王建华、刘淑芬"
    assert rows[0].owner_phone == "13800001234"
    assert [r.tenure for r in rows] == [Tenure.OWNER_OCCUPIED, Tenure.RENTED, Tenure.OWNER_OCCUPIED]


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["３栋", "２单元", "３楼", "３０１", "５６．３㎡"], ("3", "2", 3, "301", Decimal("56.3"))),
        (
            ["第十二栋", "一单元", "十层", "1002号", "56.30 平方米"],
            ("12", "1", 10, "1002", Decimal("56.30")),
        ),
        (["A座", "3号", "3F", "301室", "56.3m²"], ("A", "3", 3, "301", Decimal("56.3"))),
        ([5, 2, 3.0, 301.0, 48], ("5", "2", 3, "301", Decimal(48))),
    ],
)
def test_suffixes_and_full_width_digits(cells: list[object], expected: tuple[object, ...]) -> None:
    (row,) = parse_rows(HEADER, [[*cells, "张桂兰"]])
    assert (row.building, row.unit, row.floor, row.room, row.area_m2) == expected


@pytest.mark.parametrize(
    "header",
    [
        ["楼号", "单元", "层", "室", "建筑面积（平方米）", "产权人"],
        ["Building", "UNIT", " floor ", "Room", "Area (m²)", "Owner"],
        ["栋", "单元号", "所在楼层", "门牌号", "面积(㎡)", "业主姓名"],
        ["building", "unit", "floor", "room", "area_m2", "owner"],
        ["楼栋*", "单元*", "楼层*", "房号*", "产权面积㎡", "业主*"],
    ],
)
def test_header_synonyms(header: list[str]) -> None:
    (row,) = parse_rows(header, [["3", "2", "3", "301", "56.3", "张桂兰"]])
    assert row == RosterRow("3", "2", 3, "301", Decimal("56.3"), "张桂兰")


@pytest.mark.parametrize(
    ("column", "cell", "field", "value"),
    [
        ("居住状态", "出租", "tenure", Tenure.RENTED),
        ("产权状态", "空置", "tenure", Tenure.ABSENTEE),
        ("tenure", "developer_undelivered", "tenure", Tenure.DEVELOPER_UNDELIVERED),
        ("面积来源", "测绘", "area_source", AreaSource.SURVEYED),
        ("面积来源", "合同", "area_source", AreaSource.CONTRACT),
        ("年龄", "５８", "age", 58),
        ("年龄", "60~69岁", "age_band", AgeBand.AGE_60_69),
        ("行动不便", "带婴幼儿", "mobility", Mobility.CARRIES_INFANT),
        ("mobility", "bedridden", "mobility", Mobility.BEDRIDDEN),
        ("党员", "Y", "party_member", True),
        ("党员", "0", "party_member", False),
        ("政治面貌", "中共党员", "party_member", True),
        ("是否党员", True, "party_member", True),
        ("意见", "不同意", "vote", Vote.DISAGREE),
        ("表决", "未投票", "vote", Vote.ABSENT),
        ("表决", "", "vote", None),
        ("总层数", "6层", "storeys", 6),
        ("住户", "赵 磊", "resident", "赵磊"),
    ],
)
def test_optional_columns(column: str, cell: object, field: str, value: object) -> None:
    (row,) = parse_rows([*HEADER, column], [["3", "2", "3", "301", "56.3", "张桂兰", cell]])
    assert getattr(row, field) == value


def test_tab_separated_csv(tmp_path: Path) -> None:
    path = tmp_path / "tabs.csv"
    path.write_text("楼栋\t单元\t楼层\t房号\t面积\t业主\n3\t2\t3\t301\t56.3\t张桂兰\n", "utf-8")
    assert read_roster(path) == [RosterRow("3", "2", 3, "301", Decimal("56.3"), "张桂兰")]


def test_header_only_gives_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "empty_roster.csv"
    path.write_text(",".join(HEADER) + "\n\n,,,\n", "utf-8")
    assert read_roster(path) == []


def test_notes_keep_one_line_break_convention() -> None:
    (row,) = parse_rows([*HEADER, "备注"], [["3", "2", "3", "301", "56.3", "张桂兰", "a\r\nb\x0b"]])
    assert row.notes == "a\nb"


def test_the_shipped_example_roster_reads() -> None:
    rows = read_roster(DATA.parent.parent / "examples" / "roster.csv")
    assert len(rows) == 48
    assert {r.building for r in rows} == {"3", "5"}
    assert all(Decimal(48) <= r.area_m2 <= Decimal(92) for r in rows)


# --- bad files -------------------------------------------------------------------------------


def test_all_errors_are_collected_in_one_pass() -> None:
    with pytest.raises(RowError) as caught:
        read_roster(DATA / "bad.csv")
    errors = _said(caught.value.errors)
    assert len({row for row, _, _ in errors}) == 7
    assert len(errors) == 17
    assert str(caught.value).endswith(
        "roster rejected: 17 problems in 7 rows; nothing was imported"
    )
    assert errors == sorted(errors, key=lambda e: e[0])


@pytest.mark.parametrize(
    ("row", "column", "text"),
    [
        (3, "面积", "面积必须是正数 / area must be a positive number, got '-3'"),
        (3, "居住状态", "unknown tenure '租出去了'; use owner_occupied, rented"),
        (3, "居住状态", "自住、出租、空置/外住、开发商未售、未交付"),
        (4, "楼层", "floor 7 is above the building's 6 storeys"),
        (4, "房号", "room 501 is not on floor 7"),
        (5, "房号", "already in row 2"),
        (5, "业主", "owner is required unless"),
        (6, "行动不便", "无、行动不便、轮椅、卧床、带婴幼儿"),
        (6, "党员", "是/否"),
        (6, "表决", "voted agree in row 2 but disagree here"),
        (7, "楼层", "floor must be 1 or higher, got '0'"),
        (7, "面积", "area has more than 4 decimals, got '60.12345'"),
        (7, "表决", "unknown vote '可以'"),
        (8, "总层数", "row 2 says 6"),
        (8, "年龄", "got '130'"),
        (9, "楼栋", "楼栋不能为空 / building is required"),
        (9, "楼层", "floor must be a whole number, got '2.5'"),
        (9, "面积", "area must be a number, got '大约六十'"),
    ],
)
def test_each_error_kind_names_row_and_column(row: int, column: str, text: str) -> None:
    message = find(errors_of(DATA / "bad.csv"), row, column, text)
    assert " / " in message  # Chinese first, then English


def test_bad_xlsx_errors() -> None:
    errors = errors_of(DATA / "bad.xlsx")
    assert len(errors) == 3
    find(errors, 3, "单元", "format the column as text")
    find(errors, 4, "面积", "more than 4 decimals")
    find(errors, 5, "面积", "is required")


def test_missing_required_column_names_it_and_the_headers_found() -> None:
    with pytest.raises(RowError) as caught:
        read_roster(DATA / "missing_column.csv")
    message = str(caught.value)
    assert "楼层/floor" in message
    assert "楼号, 单元, 房号, 建筑面积, 业主" in message
    [(row, column, text)] = _said(caught.value.errors)
    assert (row, column) == (1, "")
    assert "缺少必填列 楼层" in text and "missing required column floor" in text


def test_two_columns_for_one_field_are_rejected() -> None:
    with pytest.raises(RowError) as caught:
        parse_rows([*HEADER, "电话", "手机"], [])
    [(row, column, text)] = _said(caught.value.errors)
    assert (row, column) == (1, "手机")
    assert "'电话' and '手机' both mean owner_phone" in text


def test_developer_flat_may_have_no_owner_but_others_may_not() -> None:
    header = [*HEADER, "居住状态"]
    rows = parse_rows(header, [["3", "2", "3", "301", "56.3", "", "未交付"]])
    assert rows[0].developer_held
    with pytest.raises(RowError) as caught:
        parse_rows(header, [["3", "2", "3", "301", "56.3", " ", "出租"]])
    assert [(r, c) for r, c, _ in _said(caught.value.errors)] == [(2, "业主")]


def test_same_name_different_phone_may_vote_differently() -> None:
    header = [*HEADER, "电话", "表决"]
    rows = parse_rows(
        header,
        [
            ["3", "2", "3", "301", "56.3", "张桂兰", "13800000001", "同意"],
            ["3", "2", "3", "302", "56.3", "张桂兰", "13800000002", "反对"],
        ],
    )
    assert [r.vote for r in rows] == [Vote.AGREE, Vote.DISAGREE]


def test_room_without_floor_digits_is_not_checked() -> None:
    (row,) = parse_rows(HEADER, [["3", "2", "3", "东户", "56.3", "张桂兰"]])
    assert row.room == "东户"


def test_date_cells_in_codes_are_explained() -> None:
    with pytest.raises(RowError) as caught:
        parse_rows(HEADER, [["3", "2", "3", date(2024, 3, 1), "56.3", "张桂兰"]])
    assert "房号被 Excel 当成了日期" in _said(caught.value.errors)[0][2]


@pytest.mark.parametrize("name", ["roster.xls", "roster.txt", "roster"])
def test_unknown_extension_is_bad_input(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("x", "utf-8")
    with pytest.raises(BadInput, match=r"\.xlsx 或 \.csv"):
        read_roster(path)


def test_missing_file_empty_file_and_broken_xlsx(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="cannot open"):
        read_roster(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(BadInput, match="empty"):
        read_roster(tmp_path / "empty.csv")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(BadInput, match=r"cannot read this \.xlsx"):
        read_roster(tmp_path / "broken.xlsx")


def test_roster_row_checks_itself() -> None:
    with pytest.raises(ValueError):
        RosterRow("3", "2", 0, "301", Decimal("56.3"), "张桂兰")
    with pytest.raises(ValueError):
        RosterRow("3", "2", 3, "301", Decimal("0"), "张桂兰")
    with pytest.raises(ValueError):
        RosterRow("3", "2", 3, "301", Decimal("56.3"), "张桂兰", age=72, age_band=AgeBand.UNDER_18)
    assert RosterRow("3", "2", 3, "301", Decimal("56.3"), "x", age=72).age_band is AgeBand.AGE_70_79


# --- writing ---------------------------------------------------------------------------------


def test_columns_are_described() -> None:
    keys = [c.key for c in ROSTER_COLUMNS]
    assert len(keys) == len(set(keys))
    assert {c.key for c in ROSTER_COLUMNS if c.required} == {
        "building",
        "unit",
        "floor",
        "room",
        "area_m2",
        "owner",
    }
    assert all(c.zh and c.en and c.help_zh and c.help_en for c in ROSTER_COLUMNS)


def test_csv_has_bom_and_chinese_headers(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_roster(EXPECTED_GOOD, path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    header = next(csv.reader(data.decode("utf-8-sig").splitlines()))
    assert header == [c.zh for c in ROSTER_COLUMNS]


def test_csv_does_not_write_live_formulas(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    row = replace(EXPECTED_GOOD[0], notes='=HYPERLINK("x")', owner_phone="+8613800001234")
    write_roster([row], path)
    text = path.read_text("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+86" in text
    assert read_roster(path) == [row]


def test_xlsx_layout(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    rows = [*EXPECTED_GOOD, replace(EXPECTED_GOOD[0], room="103", notes="=1+1")]
    write_roster(rows, path)
    sheet = openpyxl.load_workbook(path).active
    assert sheet.title == "住户"
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    area = sheet.cell(row=2, column=[c.key for c in ROSTER_COLUMNS].index("area_m2") + 1)
    assert area.value == 56.3 and area.number_format == "0.00##"
    notes = sheet.cell(row=8, column=len(ROSTER_COLUMNS))
    assert notes.value == "=1+1" and notes.data_type == "s"
    assert sheet.column_dimensions["A"].width >= 6
    assert read_roster(path) == rows


def test_area_that_a_float_cannot_hold_is_written_as_text(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    row = replace(EXPECTED_GOOD[0], area_m2=Decimal("12345678901234.5678"))
    write_roster([row], path)
    assert read_roster(path) == [row]


def test_unknown_output_extension(tmp_path: Path) -> None:
    with pytest.raises(BadInput):
        write_roster(EXPECTED_GOOD, tmp_path / "out.ods")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_template_example_row_is_refused_with_its_row(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"template{suffix}"
    write_template(path)
    ((row, column, message),) = errors_of(path)
    assert (row, column) == (2, "备注")
    assert "示例行" in message


def test_example_row_is_refused_even_without_its_note() -> None:
    """Detected by the mark in 备注, or by being the example itself (its flat, owner, phone)."""
    header = [*HEADER, "联系电话"]
    with pytest.raises(RowError) as caught:
        parse_rows(header, [["3", "2", "3", "301", "56.3", "王建华、刘淑芬", "138****1234"]])
    ((row, column, message),) = _said(caught.value.errors)
    assert (row, column) == (2, "业主")
    assert "示例行" in message
    # The same owner in another flat, or with another phone, is a household like any other.
    (kept,) = parse_rows(header, [["3", "2", "4", "401", "56.3", "王建华、刘淑芬", "138****1234"]])
    assert kept.room == "401"


def test_filled_template_reads_once_the_example_row_is_deleted(tmp_path: Path) -> None:
    path = tmp_path / "template.csv"
    write_template(path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    path.write_text("\n".join([lines[0], "5,1,6,1,101,60.5,登记,陈秀英,,,自住"]), encoding="utf-8")
    (row,) = read_roster(path)
    assert (row.building, row.unit, row.room, row.owner) == ("5", "1", "101", "陈秀英")


# --- building and unit numbers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("building", "unit", "expected"),
    [
        ("2栋", "1单元", ("2", "1")),
        ("2号楼", "1", ("2", "1")),
        ("10幢", "二单元", ("10", "2")),
        ("B座", "3单元", ("B", "3")),
        ("12#", "第1单元", ("12", "1")),
        ("九十九栋", "1", ("99", "1")),
        ("a1", "A", ("A1", "A")),
    ],
)
def test_building_and_unit_patterns_accept_the_usual_spellings(
    building: str, unit: str, expected: tuple[str, str]
) -> None:
    (row,) = parse_rows(HEADER, [[building, unit, "1", "101", "56.3", "张桂兰"]])
    assert (row.building, row.unit) == expected


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("楼栋", "九十九栋x"),
        ("楼栋", "2栋3"),
        ("楼栋", "1000"),
        ("单元", "1单元x"),
        ("单元", "100"),
    ],
)
def test_a_typo_in_building_or_unit_is_refused_with_row_and_column(column: str, cell: str) -> None:
    cells = {"楼栋": "2栋", "单元": "1"}
    cells[column] = cell
    rows = [
        ["2", "1", "1", "101", "56.3", "张桂兰"],
        [cells["楼栋"], cells["单元"], "1", "102", "56.3", "李建国"],
    ]
    with pytest.raises(RowError) as caught:
        parse_rows(HEADER, rows)
    ((row, where, message),) = _said(caught.value.errors)
    assert (row, where) == (3, column)
    assert cell in message and "写法" in message and "错字" in message


def test_patterns_are_configurable() -> None:
    dashed = CodePatterns(building=r"[0-9]{1,2}-[0-9]{1,2}")
    (row,) = parse_rows(HEADER, [["3-12", "1", "1", "101", "56.3", "张桂兰"]], patterns=dashed)
    assert row.building == "3-12"
    with pytest.raises(RowError):
        parse_rows(HEADER, [["3-12", "1", "1", "101", "56.3", "张桂兰"]])
    with pytest.raises(BadInput, match="not a valid regular expression"):
        CodePatterns(unit="[0-9")


# --- limits before parsing -------------------------------------------------------------------


def test_too_many_rows_is_refused_while_streaming(tmp_path: Path) -> None:
    rows = [["3", "1", "1", "101", "56.3", "张桂兰"]] * (MAX_ROSTER_ROWS + 1)
    with pytest.raises(BadInput, match=f"more than {MAX_ROSTER_ROWS} rows"):
        parse_rows(HEADER, iter(rows))
    path = tmp_path / "long.csv"
    path.write_text(",".join(HEADER) + "\n" + "3,1,1,101,56.3,张桂兰\n" * (MAX_ROSTER_ROWS + 20))
    with pytest.raises(BadInput, match=f"more than {MAX_ROSTER_ROWS} rows"):
        read_roster(path)


def test_too_many_columns_and_too_long_cells(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(HEADER) + "\n" + "3,1,1,101,56.3,张桂兰" + ",x" * 100 + "\n")
    with pytest.raises(BadInput, match="more than 64 filled columns"):
        read_roster(path)
    with pytest.raises(RowError) as caught:
        parse_rows(HEADER, [["3", "1", "1", "101", "56.3", "张" * 2000]])
    ((row, column, message),) = _said(caught.value.errors)
    assert (row, column) == (2, "业主") and "超过1000个字" in message


def test_too_big_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as out:
        out.truncate(MAX_ROSTER_BYTES + 1)
    with pytest.raises(BadInput, match="at most 5120 KB"):
        read_roster(path)


def test_xlsx_that_unpacks_too_far_is_refused_before_parsing(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "bomb.xlsx"
    write_template(path)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (41 * 1024 * 1024))
    assert path.stat().st_size < MAX_ROSTER_BYTES
    with pytest.raises(BadInput, match="unpacks to 41 MB"):
        read_roster(path)


def test_damaged_xlsx_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(BadInput, match=r"cannot read this \.xlsx"):
        read_roster(path)


def test_xlsx_template_has_a_guide_sheet(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    write_template(path)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["住户", "说明"]
    assert workbook["说明"].max_row == len(ROSTER_COLUMNS) + 1


# --- round trip ------------------------------------------------------------------------------

NAME_CHARS = "张王李赵刘陈杨黄周吴桂兰建国华淑芬秀英志强明丽"
names = st.text(alphabet=NAME_CHARS, min_size=2, max_size=3)
owners = st.lists(names, min_size=1, max_size=2).map("、".join)
phones = st.one_of(
    st.just(""),
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.from_regex(r"1[3-9][0-9]\*{4}[0-9]{4}", fullmatch=True),
)
notes = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Co", "Cn"))
    | st.sampled_from("=+-@'\"，。,\n"),
    max_size=12,
).map(str.strip)
areas = st.builds(
    lambda n, places: Decimal(n).scaleb(-places),
    st.integers(1, 9_999_999),
    st.integers(0, 4),
)
ages = st.one_of(
    st.none(),
    st.integers(0, 120).map(lambda a: (a, None)),
    st.sampled_from(list(AgeBand)).map(lambda b: (None, b)),
)


@st.composite
def rosters(draw: st.DrawFn) -> list[RosterRow]:
    storeys_of = draw(
        st.dictionaries(
            st.sampled_from(["1", "3", "12", "A"]),
            st.one_of(st.none(), st.integers(2, 18)),
            min_size=1,
        )
    )
    rows: list[RosterRow] = []
    flats: set[tuple[str, str, str]] = set()
    votes: dict[tuple[str, str], Vote | None] = {}
    for _ in range(draw(st.integers(0, 6))):
        building = draw(st.sampled_from(sorted(storeys_of)))
        storeys = storeys_of[building]
        floor = draw(st.integers(1, storeys or 30))
        unit = draw(st.sampled_from(["1", "2", "3"]))
        room = draw(st.sampled_from([f"{floor}01", f"{floor}02", f"{floor}-3", "东户"]))
        if (building, unit, room) in flats:
            continue
        flats.add((building, unit, room))
        tenure = draw(st.sampled_from(list(Tenure)))
        owner = "" if tenure.developer_held and draw(st.booleans()) else draw(owners)
        phone = draw(phones)
        vote = draw(st.none() | st.sampled_from(list(Vote)))
        if owner and vote is not None:
            vote = votes.setdefault((owner, phone), vote) or vote
        age = draw(ages) or (None, None)
        rows.append(
            RosterRow(
                building=building,
                unit=unit,
                floor=floor,
                room=room,
                area_m2=draw(areas),
                owner=owner,
                owner_phone=phone,
                tenure=tenure,
                area_source=draw(st.sampled_from(list(AreaSource))),
                storeys=storeys,
                resident=draw(st.just("") | names),
                age=age[0],
                age_band=age[1],
                mobility=draw(st.none() | st.sampled_from(list(Mobility))),
                party_member=draw(st.none() | st.booleans()),
                vote=vote,
                notes=draw(notes),
            )
        )
    return rows


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rosters())
def test_round_trip(suffix: str, rows: list[RosterRow]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"roster{suffix}"
        write_roster(rows, path)
        assert read_roster(path) == rows


def _xlsx_with_sheet(path: Path, sheet_xml: str) -> None:
    """The template, with its roster sheet's XML replaced (a crafted file)."""
    import zipfile

    write_template(path)
    with zipfile.ZipFile(path) as source:
        parts = {i.filename: source.read(i) for i in source.infolist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/sheet1"))
    parts[sheet] = sheet_xml.encode()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)


@pytest.mark.parametrize(
    ("rows", "columns", "refusal"),
    [(12, 30_000, "more than 320352 cells"), (MAX_ROSTER_ROWS + 20, 1, "more than 10000 rows")],
)
def test_crafted_sheet_is_refused_by_counting_before_parsing(
    tmp_path: Path, rows: int, columns: int, refusal: str
) -> None:
    cells = "".join(f'<x:c r="A{i}"><x:v>1</x:v></x:c>' for i in range(columns))
    body = "".join(f'<x:row r="{r}">{cells}</x:row>' for r in range(1, rows + 1))
    path = tmp_path / "crafted.xlsx"
    _xlsx_with_sheet(
        path,
        '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<x:sheetData>{body}</x:sheetData></x:worksheet>",
    )
    with pytest.raises(BadInput, match=refusal):
        read_roster(path)


def test_xlsx_with_too_many_parts_is_refused(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "parts.xlsx"
    write_template(path)
    with zipfile.ZipFile(path, "a") as archive:
        for i in range(200):
            archive.writestr(f"xl/media/p{i}.bin", b"x")
    with pytest.raises(BadInput, match="more than 200"):
        read_roster(path)


def test_cells_under_another_prefix_are_still_bounded(tmp_path: Path) -> None:
    """Tags are counted whatever their prefix: renaming the cells does not slip past the scan."""
    from colift.io.roster import MAX_XLSX_TAGS

    per_row = 1_000
    rows = MAX_XLSX_TAGS // per_row + 1
    cells = "<y:c/>" * per_row
    body = "".join(f'<y:row xmlns:y="urn:x">{cells}</y:row>' for _ in range(rows))
    path = tmp_path / "prefixed.xlsx"
    _xlsx_with_sheet(
        path,
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{body}</sheetData></worksheet>",
    )
    with pytest.raises(BadInput, match="cells"):
        read_roster(path)


def test_the_guide_sheet_says_the_example_row_must_go(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    write_template(path)
    guide = openpyxl.load_workbook(path)["说明"]
    notes = next(row for row in guide.iter_rows(values_only=True) if row[0] == "备注")
    assert "示例行" in str(notes[3]) and "删" in str(notes[3])
