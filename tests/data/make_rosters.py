"""Writes the example rosters in this folder; run it again after changing them here.

The files are committed so the tests read exactly what a worker's Excel would hand us.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent

GOOD_HEADER = [
    "楼栋",
    "单元",
    "总层数",
    "楼层",
    "房号",
    "面积(㎡)",
    "业主",
    "联系电话",
    "居住状态",
    "住户",
    "年龄",
    "行动不便",
    "党员",
    "表决",
    "备注",
]
GOOD_ROWS = [
    [
        "3",
        "1",
        "6",
        "1",
        "101",
        "56.30",
        "张桂兰",
        "138****1234",
        "自住",
        "张桂兰",
        "78",
        "行动不便",
        "是",
        "同意",
        "",
    ],
    [
        "3",
        "1",
        "6",
        "1",
        "102",
        "62.15",
        "李建国",
        "13800001102",
        "出租",
        "赵磊",
        "34",
        "无",
        "否",
        "同意",
        "租户",
    ],
    [
        "3",
        "1",
        "6",
        "2",
        "201",
        "56.30",
        "王建华、刘淑芬",
        "",
        "自住",
        "刘淑芬",
        "80岁以上",
        "轮椅",
        "",
        "反对",
        "担心采光",
    ],
    [
        "3",
        "1",
        "6",
        "2",
        "202",
        "62.15",
        "李建国",
        "13800001102",
        "空置/外住",
        "",
        "",
        "",
        "",
        "同意",
        "同一业主两套房",
    ],
    ["3", "1", "6", "6", "601", "56.3", "", "", "开发商未售", "", "", "", "", "", ""],
    [
        "3",
        "1",
        "6",
        "6",
        "602",
        "62.1500",
        "陈秀英",
        "",
        "自住",
        "陈秀英",
        "66",
        "",
        "1",
        "弃权",
        "",
    ],
]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([header, *rows])
    path.write_bytes(buffer.getvalue().encode(encoding))


def good_xlsx(path: Path) -> None:
    workbook = openpyxl.Workbook()
    cover = workbook.active
    cover.title = "封面"
    cover["A1"] = "幸福里小区加装电梯住户名册"
    sheet = workbook.create_sheet("住户")
    sheet.append(["3号楼1单元住户名册"])
    sheet.append(
        [
            "楼号",
            "单元",
            "总层数",
            "楼层",
            "房号",
            "建筑面积（平方米）",
            "产权人",
            "手机",
            "产权状态",
            "居民",
            "年龄",
            "行动不便",
            "党员",
            "意见",
            "备注",
        ]
    )
    sheet.append(
        [
            3,
            1,
            6,
            1,
            101,
            56.3,
            "张桂兰",
            "138****1234",
            "自住",
            "张桂兰",
            78,
            "行动不便",
            True,
            "同意",
            None,
        ]
    )
    sheet.append(
        [
            3,
            1,
            6,
            1,
            102,
            62.15,
            "李建国",
            13800001102,
            "出租",
            "赵磊",
            34.0,
            "无",
            False,
            "同意",
            "租户",
        ]
    )
    sheet.append(
        [
            3,
            1,
            6,
            2,
            201,
            56.300000000000004,
            "王建华、刘淑芬",
            None,
            "自住",
            "刘淑芬",
            "80岁以上",
            "轮椅",
            None,
            "反对",
            "担心采光",
        ]
    )
    sheet.append(
        [
            3,
            1,
            6,
            2,
            202,
            62.15,
            "李建国",
            13800001102,
            "空置/外住",
            None,
            None,
            None,
            None,
            "同意",
            "同一业主两套房",
        ]
    )
    sheet.append([3, 1, 6, 6, 601, 56.3, None, None, "开发商未售"])
    sheet.append(
        [3, 1, 6, 6, 602, "62.1500", "陈秀英", None, "自住", "陈秀英", 66, None, 1, "弃权"]
    )
    sheet.append([None] * 5)
    sheet.append([None, "  "])
    workbook.save(path)


MESSY_HEADER = [" 楼 号 ", "UNIT", "Floor", "门牌号", "面积（㎡）", "业主姓名", "电话", "tenure"]
MESSY_ROWS = [
    ["3栋", "2单元", "3层", "301", "56.3㎡", " 王 建华 ， 刘淑芬 ", "138 0000 1234", "自住"],
    ["３号楼", "二单元", "第4楼", "４０２", "５６．３０平方米", "李建国", "", "rented"],
    ["12#", "第3单元", "10F", "1001室", " 92 ", "张桂兰", "", "Owner_Occupied"],
    ["", "", "", "", "", "", "", ""],
    ["", "", "", "", "", "", "", ""],
]

BAD_HEADER = [
    "楼栋",
    "单元",
    "总层数",
    "楼层",
    "房号",
    "面积",
    "业主",
    "联系电话",
    "居住状态",
    "年龄",
    "行动不便",
    "党员",
    "表决",
]
BAD_ROWS = [
    # row 2: fine, the reference for duplicates, votes and storeys
    ["5", "1", "6", "3", "301", "60", "周玉梅", "13800005301", "自住", "", "", "", "同意"],
    # row 3: non-positive area, unknown tenure
    ["5", "1", "6", "3", "302", "-3", "吴志强", "", "租出去了", "", "", "", ""],
    # row 4: floor above storeys, room not on its floor
    ["5", "1", "6", "7", "501", "60", "郑丽华", "", "自住", "", "", "", ""],
    # row 5: duplicate of row 2, owner empty on a lived-in flat
    ["5", "1", "6", "3", "301", "60", "", "", "自住", "", "", "", ""],
    # row 6: same owner and phone as row 2 voting differently, unknown vote-free words
    ["5", "1", "6", "4", "401", "60", "周玉梅", "13800005301", "自住", "", "飞行", "也许", "反对"],
    # row 7: too many decimals, floor 0, unknown vote
    ["5", "1", "6", "0", "102", "60.12345", "孙大伟", "", "自住", "", "", "", "可以"],
    # row 8: storeys disagree with row 2, age out of range
    ["5", "1", "7", "2", "201", "60", "钱小红", "", "自住", "130", "", "", ""],
    # row 9: missing building, floor not a whole number, area not a number
    ["", "1", "6", "2.5", "202", "大约六十", "冯建军", "", "自住", "", "", "", ""],
]


def bad_xlsx(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "roster"
    sheet.append(["楼栋", "单元", "楼层", "房号", "面积", "业主"])
    sheet.append([1, 1, 1, 101, 48.5, "何桂芝"])
    # Excel turned "1-2" into a date
    sheet.append([1, datetime(2024, 1, 2), 1, 102, 48.5, "罗志明"])
    sheet.append([1, 1, 2, 201, 48.123456, "高淑珍"])
    sheet.append([1, 1, 2, 202, None, "林国庆"])
    workbook.save(path)


def main() -> None:
    write_csv(HERE / "good.csv", GOOD_HEADER, GOOD_ROWS, "utf-8-sig")
    write_csv(HERE / "good_gbk.csv", GOOD_HEADER, GOOD_ROWS, "gb18030")
    good_xlsx(HERE / "good.xlsx")
    write_csv(HERE / "messy.csv", MESSY_HEADER, MESSY_ROWS, "utf-8-sig")
    write_csv(HERE / "bad.csv", BAD_HEADER, BAD_ROWS, "utf-8")
    bad_xlsx(HERE / "bad.xlsx")
    write_csv(
        HERE / "missing_column.csv",
        ["楼号", "单元", "房号", "建筑面积", "业主"],
        [["3", "1", "101", "56.3", "张桂兰"]],
        "utf-8",
    )


if __name__ == "__main__":
    main()
