"""Fuzzing the roster importer: any bytes, any cells give rows or clear errors, nothing else.

"Clear" means `BadInput` (a file-level message) or `RowError` whose every entry names a row
number inside the file and carries a message; any other exception fails the test.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from colift.errors import BadInput, RowError
from colift.i18n import bilingual
from colift.io import RosterRow, parse_rows, read_roster
from colift.io.roster import ROSTER_COLUMNS

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HEADERS = [c.zh for c in ROSTER_COLUMNS]
WORDS = [
    "3",
    "3栋",
    "九十九栋x",
    "2单元",
    "301",
    "56.3",
    "0",
    "-1",
    "1e400",
    "nan",
    "同意",
    "自住",
    "出租",
    "是",
    "否",
    "72",
    "80岁以上",
    "王建华、刘淑芬",
    "138****1234",
    "示例行",
    "=1+1",
    "'",
    "\x00",
    "\ud800",
    "１２",
    "二十三",
    "A座",
    "",
    " ",
    "\n",
]
cells = st.one_of(
    st.none(),
    st.sampled_from(WORDS),
    st.text(max_size=12),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
)
rows = st.lists(st.lists(cells, max_size=len(HEADERS) + 2), max_size=8)


def _clear(outcome: list[RosterRow] | Exception, first_row: int, last_row: int) -> None:
    if isinstance(outcome, RowError):
        assert outcome.errors, outcome.message
        for row_no, column, said in outcome.errors:
            message = bilingual(said)
            assert first_row - 1 <= row_no <= last_row, (row_no, column, message)
            assert isinstance(column, str) and message.strip()
    elif isinstance(outcome, BadInput):
        assert outcome.message.strip()
    else:
        assert isinstance(outcome, list) and all(isinstance(r, RosterRow) for r in outcome)
        for r in outcome:
            # Every text stored is valid UTF-8 (no NUL, no lone surrogate) and of bounded length.
            for text in (r.building, r.unit, r.room, r.owner, r.owner_phone, r.resident, r.notes):
                text.encode("utf-8")
                assert "\x00" not in text and len(text) <= 1000


def _run(call: object) -> list[RosterRow] | Exception:
    try:
        return call()  # type: ignore[operator,no-any-return]
    except (BadInput, RowError) as exc:
        return exc


@FUZZ
@given(header=st.permutations(HEADERS), body=rows)
def test_any_cells_under_a_good_header(header: list[str], body: list[list[object]]) -> None:
    outcome = _run(lambda: parse_rows(header, body))
    _clear(outcome, 2, len(body) + 1)


@FUZZ
@given(header=st.lists(cells, max_size=20), body=rows)
def test_any_header(header: list[object], body: list[list[object]]) -> None:
    _clear(_run(lambda: parse_rows(header, body)), 1, len(body) + 1)


@FUZZ
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".csv", ".xlsx"]))
def test_any_bytes_as_a_file(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"roster{suffix}"
        path.write_bytes(data)
        _clear(_run(lambda: read_roster(path)), 1, 10**6)


@FUZZ
@given(
    lines=st.lists(st.lists(st.sampled_from([*WORDS, '"', '""', "a,b", "\t", "\r"]), max_size=20))
)
def test_any_csv_text(lines: list[list[str]]) -> None:
    text = ",".join(HEADERS) + "\n" + "\n".join(",".join(line) for line in lines)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "roster.csv"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        _clear(_run(lambda: read_roster(path)), 1, 10**6)


xlsx_cells = st.one_of(
    st.none(),
    st.sampled_from([w for w in WORDS if w not in ("\x00", "\ud800")]),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(min_value=date(1900, 3, 1)),
    st.datetimes(min_value=datetime(1900, 3, 1)),
    st.times().map(lambda t: t.replace(microsecond=0)),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(Decimal),
    st.booleans(),
)


@FUZZ
@given(
    body=st.lists(st.lists(xlsx_cells, max_size=len(HEADERS)), max_size=6), cut=st.integers(0, 4000)
)
def test_any_xlsx_and_any_truncation_of_it(body: list[list[object]], cut: int) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADERS)
    for row in body:
        sheet.append([c if not isinstance(c, time) else c.isoformat() for c in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    with tempfile.TemporaryDirectory() as tmp:
        whole, cut_short = Path(tmp) / "whole.xlsx", Path(tmp) / "cut.xlsx"
        whole.write_bytes(data)
        cut_short.write_bytes(data[: len(data) - cut])
        _clear(_run(lambda: read_roster(whole)), 1, len(body) + 1)
        _clear(_run(lambda: read_roster(cut_short)), 1, 10**6)


@FUZZ
@given(part=st.binary(max_size=400))
def test_a_sheet_part_of_any_bytes(part: bytes) -> None:
    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source:
        parts = {i.filename: source.read(i) for i in source.infolist()}
    parts["xl/worksheets/sheet1.xml"] = part
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "roster.xlsx"
        path.write_bytes(out.getvalue())
        _clear(_run(lambda: read_roster(path)), 1, 10**6)
