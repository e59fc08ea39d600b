"""Crafted .xlsx rosters: refused by the limits before parsing vs the old full parse.

Three files a hostile or careless upload could be, each small on the wire:

- dense: one sheet filled out to column XFD (16,384 columns) on every row;
- long: a plain roster of 16 columns, but far more rows than any compound has;
- bomb: a sheet whose XML unpacks to more than the limit (highly repetitive, so it zips small).

For each, the importer's reader (`colift.io.roster._read_xlsx`: zip sizes checked first, then
openpyxl in read-only mode, streamed, stopping at the row and column limits) is timed side by
side with the reader as it was before the limits (openpyxl read-only, every row of the sheet
read into memory, then parsed). The old reader is stopped after `--old-budget` seconds; its line
then says how far it got. Prints a table, the load average and a JSON line with every figure.

    .venv/bin/python benchmarks/roster_limits.py [--quick] [--old-budget 20] [--json-out FILE]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from colift.errors import BadInput
from colift.io.roster import MAX_ROSTER_COLUMNS, MAX_ROSTER_ROWS, MAX_XLSX_UNPACKED, _read_xlsx

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="住户" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
_HEADER = ["楼栋", "单元", "楼层", "房号", "面积", "业主"]


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _sheet(rows: int, columns: int) -> bytes:
    """Sheet XML: an inline-string header row, then `rows` rows of `columns` number cells."""
    letters = [_column(i) for i in range(columns)]
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><worksheet '
        'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    ]
    head = "".join(
        f'<c r="{letters[i]}1" t="inlineStr"><is><t>{text}</t></is></c>'
        for i, text in enumerate(_HEADER[:columns])
    )
    parts.append(f'<row r="1">{head}</row>')
    for r in range(2, rows + 2):
        cells = "".join(
            f'<c r="{letter}{r}"><v>{3 if i < 2 else 1}</v></c>' for i, letter in enumerate(letters)
        )
        parts.append(f'<row r="{r}">{cells}</row>')
    parts.append("</sheetData></worksheet>")
    return "".join(parts).encode()


def _xlsx(sheet: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return buffer.getvalue()


def _old_read(data: bytes, budget: float) -> tuple[float, int, bool]:
    """The reader before the limits: every row into memory. (seconds, rows read, finished)."""
    import openpyxl

    start = time.perf_counter()
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    sheet = workbook.worksheets[0]
    sheet.reset_dimensions()
    rows: list[list[object]] = []
    finished = True
    for row in sheet.iter_rows(values_only=True):
        rows.append(list(row))
        if time.perf_counter() - start > budget:
            finished = False
            break
    workbook.close()
    return time.perf_counter() - start, len(rows), finished


def _new_read(data: bytes) -> tuple[float, str]:
    start = time.perf_counter()
    try:
        _read_xlsx(data)
        outcome = "read (not refused!)"
    except BadInput as exc:
        outcome = exc.render("en")
    return time.perf_counter() - start, outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller files, shorter budget")
    parser.add_argument("--old-budget", type=float, default=None, help="seconds for the old reader")
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)
    budget = args.old_budget if args.old_budget is not None else (5.0 if args.quick else 60.0)
    scale = 1 if args.quick else 2
    bomb_rows = (MAX_XLSX_UNPACKED // (16 * 24)) + 1000
    cases = {
        "dense": (60 * scale, 16_384),
        "long": (MAX_ROSTER_ROWS * 3 * scale, 16),
        "bomb": (bomb_rows * scale, 16),
    }
    import openpyxl  # noqa: F401  (imported once, before any timing)

    load_before = os.getloadavg()[0]
    print(
        f"limits: {MAX_ROSTER_ROWS} rows, {MAX_ROSTER_COLUMNS} columns, "
        f"{MAX_XLSX_UNPACKED // 2**20} MB unpacked; old reader budget {budget:.0f} s"
    )
    print(
        f"{'file':6} {'cells':>11} {'zip KB':>8} {'xml MB':>7} {'new s':>7} {'old s':>8} "
        f"{'old/new':>8}  refused with"
    )
    results: dict[str, Any] = {"budget_s": budget, "load_1min_before": round(load_before, 2)}
    for name, (rows, columns) in cases.items():
        sheet = _sheet(rows, columns)
        data = _xlsx(sheet)
        new_s, outcome = _new_read(data)
        old_s, old_rows, finished = _old_read(data, budget)
        old_text = f"{old_s:.2f}" if finished else f">{old_s:.1f}"
        print(
            f"{name:6} {rows * columns:>11,} {len(data) // 1024:>8,} "
            f"{len(sheet) / 2**20:>7.1f} {new_s:>7.3f} {old_text:>8} {old_s / new_s:>7.0f}x  "
            f"{outcome[:70]}"
        )
        if not finished:
            print(
                f"{'':6} old reader stopped at the budget after {old_rows:,} of {rows + 1:,} rows"
            )
        results[name] = {
            "cells": rows * columns,
            "zip_bytes": len(data),
            "sheet_xml_bytes": len(sheet),
            "new_s": round(new_s, 4),
            "old_s": round(old_s, 3),
            "old_finished": finished,
            "old_rows_read": old_rows,
            "ratio_old_to_new": round(old_s / new_s, 1),
            "refused_with": outcome,
        }
    results["load_1min_after"] = round(os.getloadavg()[0], 2)
    print(f"load average (1 min): {load_before:.2f} before, {results['load_1min_after']:.2f} after")
    line = json.dumps(results, ensure_ascii=False)
    print(line)
    if args.json_out:
        args.json_out.write_text(line + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
