"""Household roster (住户名册) import and export: CSV and XLSX files kept by community workers.

Pure parsing, validation and writing. A roster is read whole, every problem is collected, and
either all rows come back validated or `RowError` lists every (row, column, message) found, so
the caller can store the rows in one transaction or nothing at all.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from colift.errors import BadInput, RowError
from colift.i18n import Label, Message, bilingual, msg
from colift.model import AgeBand, AreaSource, Mobility, Tenure, Vote
from colift.model.voting import VOTE_ALIASES

__all__ = [
    "DEFAULT_PATTERNS",
    "MAX_ROSTER_BYTES",
    "MAX_ROSTER_COLUMNS",
    "MAX_ROSTER_ROWS",
    "ROSTER_COLUMNS",
    "CodePatterns",
    "RosterColumn",
    "RosterRow",
    "format_errors",
    "parse_rows",
    "read_roster",
    "tenure_word",
    "write_roster",
    "write_template",
]

MAX_AREA_DECIMALS = 4
MAX_AGE = 120
SHEET_NAMES = ("住户", "名册", "住户名册", "roster")
# A title row such as "3号楼住户名册" may sit above the header; look this far down for it.
HEADER_SEARCH_ROWS = 10

# Limits checked before (or while streaming) a file is parsed, so a crafted file fails fast.
# A large compound has a few thousand flats; a roster is at most a few hundred kilobytes.
MAX_ROSTER_BYTES = 5 * 1024 * 1024  # the file as uploaded
MAX_ROSTER_ROWS = 10_000  # data rows below the header
MAX_ROSTER_COLUMNS = 64  # filled columns in any row (the roster has 16)
MAX_CELL_CHARS = 1_000  # characters in one cell
MAX_XLSX_UNPACKED = 40 * 1024 * 1024  # all parts of an .xlsx, uncompressed, as the zip declares
MAX_XLSX_PARTS = 200  # files inside the .xlsx zip
# Cells (filled or styled) in any one sheet: every allowed row with a generous 32 columns.
MAX_XLSX_CELLS = (MAX_ROSTER_ROWS + HEADER_SEARCH_ROWS + 1) * 32

# The template's example row is marked in its notes cell; a row starting with this is refused.
EXAMPLE_MARK = "示例行"


@dataclass(frozen=True)
class CodePatterns:
    """What a building and a unit number may look like once suffixes are taken off.

    The cell is first normalised (full-width to ASCII, 第/栋/号楼/幢/座/# and 单元/号 removed,
    Chinese numerals up to 99 turned into digits, letters upper case), then the result must match
    the pattern whole. The defaults accept 2栋, 2号楼, 10幢, 12#, 三栋, B座, A1 and 1单元, 二单元;
    a typo such as 九十九栋x is refused with its row. Other numbering schemes can be set per
    installation (environment variables COLIFT_ROSTER_BUILDING_PATTERN and
    COLIFT_ROSTER_UNIT_PATTERN, read by the registry service).
    """

    building: str = r"[0-9]{1,3}|[A-Z][0-9]{0,2}"
    unit: str = r"[0-9]{1,2}|[A-Z]"

    def __post_init__(self) -> None:
        for name in ("building", "unit"):
            try:
                re.compile(getattr(self, name))
            except re.error as exc:
                raise BadInput(
                    "the {name} pattern {pattern} is not a valid regular expression: {problem}",
                    name=name,
                    pattern=getattr(self, name),
                    problem=str(exc),
                ) from None


DEFAULT_PATTERNS = CodePatterns()


@dataclass(frozen=True)
class RosterRow:
    """One flat of the roster with its owner of record and, optionally, one resident."""

    building: str
    unit: str
    floor: int
    room: str
    area_m2: Decimal
    owner: str
    owner_phone: str = ""
    tenure: Tenure = Tenure.OWNER_OCCUPIED
    area_source: AreaSource = AreaSource.REGISTERED
    storeys: int | None = None
    resident: str = ""
    age: int | None = None
    age_band: AgeBand | None = None
    mobility: Mobility | None = None
    party_member: bool | None = None
    vote: Vote | None = None
    notes: str = ""
    # 身份证号, optional: stored encrypted, masked where not needed. Last, so that rows written
    # positionally before the column existed still mean what they meant.
    owner_id_number: str = ""
    # Where the row came from, so a later storage error can still point at the file's row.
    source_row: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.floor < 1:
            raise ValueError(f"floor must be 1 or higher, got {self.floor}")
        if not self.area_m2.is_finite() or self.area_m2 <= 0:
            raise ValueError(f"area must be positive, got {self.area_m2}")
        if self.storeys is not None and self.storeys < 1:
            raise ValueError(f"storeys must be 1 or higher, got {self.storeys}")
        if self.age is not None:
            if not 0 <= self.age <= MAX_AGE:
                raise ValueError(f"age must be between 0 and {MAX_AGE}, got {self.age}")
            band = AgeBand.from_age(self.age)
            if self.age_band is not None and self.age_band is not band:
                raise ValueError(f"age {self.age} is not in age band {self.age_band.value}")
            # Frozen dataclass: the band is derived from the age so both always agree.
            object.__setattr__(self, "age_band", band)

    @property
    def developer_held(self) -> bool:
        """Unsold or undelivered flats belong to the developer, who counts as one owner."""
        return self.tenure.developer_held


@dataclass(frozen=True)
class RosterColumn:
    """One roster column: its field, canonical Chinese and English names and accepted headers."""

    key: str
    zh: str
    en: str
    required: bool
    synonyms: tuple[str, ...]
    help_zh: str
    help_en: str


ROSTER_COLUMNS: tuple[RosterColumn, ...] = (
    RosterColumn(
        "building",
        "楼栋",
        "building",
        True,
        ("楼栋", "楼号", "栋", "楼栋号", "栋号", "幢", "bldg"),
        "楼栋号，如 3（也可写 3栋、3号楼）",
        "building number, e.g. 3",
    ),
    RosterColumn(
        "unit",
        "单元",
        "unit",
        True,
        ("单元", "单元号", "unit_no"),
        "单元号，如 2（也可写 2单元）",
        "stairwell unit number, e.g. 2",
    ),
    RosterColumn(
        "storeys",
        "总层数",
        "storeys",
        False,
        ("总层数", "楼栋层数", "楼层数", "stories", "floors"),
        "这栋楼共几层，同一栋楼每行要一致",
        "storeys of the building, the same on every row",
    ),
    RosterColumn(
        "floor",
        "楼层",
        "floor",
        True,
        ("楼层", "层", "所在楼层", "floor_no"),
        "所在楼层，1 或以上（也可写 3层、3楼）",
        "floor of the flat, 1 or higher",
    ),
    RosterColumn(
        "room",
        "房号",
        "room",
        True,
        ("房号", "室", "门牌号", "房间号", "户号", "room_no", "flat"),
        "房号，如 301；三、四位数的房号前面几位要和楼层一致",
        "room number, e.g. 301",
    ),
    RosterColumn(
        "area_m2",
        "面积(㎡)",
        "area_m2",
        True,
        ("面积", "建筑面积", "产权面积", "房屋面积", "area", "area_sqm"),
        "建筑面积（平方米），正数，最多4位小数",
        "floor area in m², positive, at most 4 decimals",
    ),
    RosterColumn(
        "area_source",
        "面积来源",
        "area_source",
        False,
        ("面积来源", "面积依据"),
        "登记（默认）、测绘 或 合同",
        "registered (default), surveyed or contract",
    ),
    RosterColumn(
        "owner",
        "业主",
        "owner",
        True,
        ("业主", "产权人", "业主姓名", "产权人姓名", "房主", "owner_name"),
        "产权人姓名；共有人写在一格里，用顿号隔开，如 王建华、刘淑芬",
        "owner of record; co-owners in one cell, e.g. 王建华、刘淑芬",
    ),
    RosterColumn(
        "owner_phone",
        "联系电话",
        "owner_phone",
        False,
        ("联系电话", "电话", "手机", "手机号", "业主电话", "phone", "mobile", "tel"),
        "业主电话，可以留空或写成 138****1234",
        "owner's phone, may be empty or masked",
    ),
    RosterColumn(
        "owner_id_number",
        "身份证号",
        "owner_id_number",
        False,
        ("身份证号", "身份证号码", "证件号码", "身份证", "id_number", "id_card"),
        "业主身份证号（15位或18位），可以留空；加密保存",
        "owner's ID number (15 or 18 characters), may be empty; stored encrypted",
    ),
    RosterColumn(
        "tenure",
        "居住状态",
        "tenure",
        False,
        ("居住状态", "产权状态", "居住情况", "房屋状态", "occupancy"),
        "自住（默认）、出租、空置/外住、开发商未售、未交付",
        "owner_occupied (default), rented, absentee, developer_unsold, developer_undelivered",
    ),
    RosterColumn(
        "resident",
        "住户",
        "resident",
        False,
        ("住户", "居民", "住户姓名", "居住人", "实际居住人", "resident_name"),
        "实际住在这里的人（出租时写租户）",
        "the person living in the flat",
    ),
    RosterColumn(
        "age",
        "年龄",
        "age",
        False,
        ("年龄", "年龄段", "age_band"),
        "住户年龄，或年龄段：18岁以下、18-59岁、60-69岁、70-79岁、80岁以上",
        "resident's age, or an age band",
    ),
    RosterColumn(
        "mobility",
        "行动不便",
        "mobility",
        False,
        ("行动不便", "行动能力", "行动情况"),
        "无、行动不便、轮椅、卧床、带婴幼儿",
        "none, reduced, wheelchair, bedridden, carries_infant",
    ),
    RosterColumn(
        "party_member",
        "党员",
        "party_member",
        False,
        ("党员", "是否党员", "政治面貌"),
        "是 / 否",
        "yes / no",
    ),
    RosterColumn(
        "vote",
        "表决",
        "vote",
        False,
        ("表决", "意见", "表决意见", "投票", "是否同意"),
        "同意、反对、弃权、未投票；还没表决就留空",
        "agree, disagree, abstain, absent; empty if not yet",
    ),
    RosterColumn(
        "notes",
        "备注",
        "notes",
        False,
        ("备注", "说明", "note", "remarks"),
        "其他情况；备注以“示例行”开头的是模板的示例，导入前请删掉那一行，否则整张表不导入",
        "anything else; a row whose notes start with 示例行 is the template's example: delete it",
    ),
)

_COLUMN_BY_KEY: dict[str, RosterColumn] = {c.key: c for c in ROSTER_COLUMNS}


class _CellError(Exception):
    """A cell could not be read; its one argument is the message (a `Message`)."""


# ---------------------------------------------------------------------------------------------
# Text helpers


def _nfkc(text: str) -> str:
    # NFKC turns full-width digits and punctuation (５６．３) and ㎡ into their ASCII forms.
    return unicodedata.normalize("NFKC", text)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", _nfkc(text)).lower()


def _header_key(text: str) -> str:
    """Header spelling without case, spaces, units in brackets or required-field stars."""
    key = _nfkc(text).lower()
    key = re.sub(r"\(.*?\)|\[.*?\]|【.*?】", "", key)
    key = re.sub(r"[\s_\-*:：/]", "", key)
    for unit in ("平方米", "平米", "m2", "sqm"):
        if key.endswith(unit) and len(key) > len(unit):
            key = key[: -len(unit)]
    return key


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: object) -> str:
    """A cell as text; Excel number cells holding codes (301, 13800001234) lose their '.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return _CONTROL.sub("", str(value)).strip()


# Control characters cannot be stored in .xlsx; dropping them on read keeps both formats alike.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _notes(value: object) -> str:
    # One line-break convention, since .xlsx keeps only "\n".
    return _text(value).replace("\r\n", "\n").replace("\r", "\n")


def _name(value: object) -> str:
    """A person's name: single spaces, none between Chinese characters, co-owners joined by 、."""
    text = " ".join(_text(value).split())
    text = re.sub(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])", "", text)
    return re.sub(r"\s*[,，;；、]\s*", "、", text).strip("、")


_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def _cn_int(text: str) -> int | None:
    """Chinese numerals up to 99 (二, 十二, 二十三) as written in 二单元 or 三层."""
    if not text or any(c not in _CN_DIGITS and c != "十" for c in text):
        return None
    if "十" not in text:
        return _CN_DIGITS[text] if len(text) == 1 else None
    head, _, tail = text.partition("十")
    if len(head) > 1 or len(tail) > 1 or "十" in tail:
        return None
    return (_CN_DIGITS[head] if head else 1) * 10 + (_CN_DIGITS[tail] if tail else 0)


def _words(pairs: dict[str, Any], enum_values: Iterable[Any]) -> dict[str, Any]:
    """Accepted words, plus each enum value with and without its underscores."""
    table = {_compact(k): v for k, v in pairs.items()}
    for member in enum_values:
        table.setdefault(member.value, member)
        table.setdefault(member.value.replace("_", ""), member)
    return table


_TENURE_WORDS: dict[str, Tenure] = _words(
    {
        "自住": Tenure.OWNER_OCCUPIED,
        "业主自住": Tenure.OWNER_OCCUPIED,
        "出租": Tenure.RENTED,
        "租住": Tenure.RENTED,
        "租户": Tenure.RENTED,
        "空置": Tenure.ABSENTEE,
        "外住": Tenure.ABSENTEE,
        "空置/外住": Tenure.ABSENTEE,
        "空置或外住": Tenure.ABSENTEE,
        "闲置": Tenure.ABSENTEE,
        "开发商未售": Tenure.DEVELOPER_UNSOLD,
        "未售": Tenure.DEVELOPER_UNSOLD,
        "未交付": Tenure.DEVELOPER_UNDELIVERED,
        "已售未交付": Tenure.DEVELOPER_UNDELIVERED,
    },
    Tenure,
)
_TENURE_ZH = {
    Tenure.OWNER_OCCUPIED: "自住",
    Tenure.RENTED: "出租",
    Tenure.ABSENTEE: "空置/外住",
    Tenure.DEVELOPER_UNSOLD: "开发商未售",
    Tenure.DEVELOPER_UNDELIVERED: "未交付",
}

_AREA_SOURCE_WORDS: dict[str, AreaSource] = _words(
    {
        "登记": AreaSource.REGISTERED,
        "不动产登记": AreaSource.REGISTERED,
        "产权证": AreaSource.REGISTERED,
        "房产证": AreaSource.REGISTERED,
        "测绘": AreaSource.SURVEYED,
        "实测": AreaSource.SURVEYED,
        "合同": AreaSource.CONTRACT,
        "购房合同": AreaSource.CONTRACT,
    },
    AreaSource,
)
_AREA_SOURCE_ZH = {
    AreaSource.REGISTERED: "登记",
    AreaSource.SURVEYED: "测绘",
    AreaSource.CONTRACT: "合同",
}

_MOBILITY_WORDS: dict[str, Mobility] = _words(
    {
        "无": Mobility.NONE,
        "正常": Mobility.NONE,
        "否": Mobility.NONE,
        "没有": Mobility.NONE,
        "行动不便": Mobility.REDUCED,
        "是": Mobility.REDUCED,
        "腿脚不便": Mobility.REDUCED,
        "轮椅": Mobility.WHEELCHAIR,
        "坐轮椅": Mobility.WHEELCHAIR,
        "卧床": Mobility.BEDRIDDEN,
        "长期卧床": Mobility.BEDRIDDEN,
        "带婴幼儿": Mobility.CARRIES_INFANT,
        "婴幼儿": Mobility.CARRIES_INFANT,
    },
    Mobility,
)
_MOBILITY_ZH = {
    Mobility.NONE: "无",
    Mobility.REDUCED: "行动不便",
    Mobility.WHEELCHAIR: "轮椅",
    Mobility.BEDRIDDEN: "卧床",
    Mobility.CARRIES_INFANT: "带婴幼儿",
}

_YES_NO: dict[str, bool] = {
    _compact(k): v
    for k, v in {
        "是": True,
        "党员": True,
        "中共党员": True,
        "预备党员": True,
        "y": True,
        "yes": True,
        "true": True,
        "1": True,
        "√": True,
        "否": False,
        "非党员": False,
        "群众": False,
        "团员": False,
        "共青团员": False,
        "n": False,
        "no": False,
        "false": False,
        "0": False,
        "×": False,
        "x": False,
    }.items()
}

_VOTE_ZH = {Vote.AGREE: "同意", Vote.DISAGREE: "反对", Vote.ABSTAIN: "弃权", Vote.ABSENT: "未投票"}

_AGE_BAND_ZH = {
    AgeBand.UNDER_18: "18岁以下",
    AgeBand.AGE_18_59: "18-59岁",
    AgeBand.AGE_60_69: "60-69岁",
    AgeBand.AGE_70_79: "70-79岁",
    AgeBand.AGE_80_PLUS: "80岁以上",
}
_AGE_BAND_WORDS: dict[str, AgeBand] = _words(
    {
        "18以下": AgeBand.UNDER_18,
        "未成年": AgeBand.UNDER_18,
        "<18": AgeBand.UNDER_18,
        "18-59": AgeBand.AGE_18_59,
        "60-69": AgeBand.AGE_60_69,
        "70-79": AgeBand.AGE_70_79,
        "80以上": AgeBand.AGE_80_PLUS,
        "80+": AgeBand.AGE_80_PLUS,
        ">=80": AgeBand.AGE_80_PLUS,
    },
    AgeBand,
)


# ---------------------------------------------------------------------------------------------
# Cell parsers: each takes the raw cell (not blank) and returns the value or raises _CellError.


def _reject_date(value: object, zh: str, en: str) -> None:
    if isinstance(value, date | time | timedelta):
        raise _CellError(
            msg(
                "{en} was turned into a date by Excel ({value}); format the column as text",
                zh=zh,
                en=en,
                value=_text(value),
            )
        )


def _code(value: object, zh: str, en: str, pattern: str) -> str:
    _reject_date(value, zh, en)
    text = _compact(_text(value))
    match = re.fullmatch(pattern, text)
    core = match.group(1) if match else text
    number = _cn_int(core)
    # Upper case so "a座" and "A座" are one building when checking duplicates.
    return str(number) if number is not None else core.upper()


def _building(value: object) -> str:
    return _code(value, "楼栋", "building", r"第?(.+?)(?:号楼|#楼|栋楼|栋|幢|座|号|#)?")


def _unit(value: object) -> str:
    return _code(value, "单元", "unit", r"第?(.+?)(?:单元|号)?")


def _room(value: object) -> str:
    return _code(value, "房号", "room", r"(.+?)(?:室|号|房)?")


def _whole(value: object, zh: str, en: str, pattern: str) -> int:
    _reject_date(value, zh, en)
    if isinstance(value, float) and not value.is_integer():
        raise _CellError(
            msg("{en} must be a whole number, got {value}", zh=zh, en=en, value=repr(_text(value)))
        )
    text = _compact(_text(value))
    match = re.fullmatch(pattern, text)
    core = match.group(1) if match else text
    number = _cn_int(core)
    if number is not None:
        return number
    if re.fullmatch(r"[+-]?\d+(?:\.0*)?", core):
        return int(Decimal(core))
    raise _CellError(
        msg("{en} must be a whole number, got {value}", zh=zh, en=en, value=repr(_text(value)))
    )


def _floor(value: object) -> int:
    floor = _whole(value, "楼层", "floor", r"第?(.+?)(?:层|楼|f)?")
    if floor < 1:
        raise _CellError(msg("floor must be 1 or higher, got {value}", value=repr(_text(value))))
    return floor


def _storeys(value: object) -> int:
    storeys = _whole(value, "总层数", "storeys", r"共?(.+?)(?:层|楼)?")
    if storeys < 1:
        raise _CellError(msg("storeys must be 1 or higher, got {value}", value=repr(_text(value))))
    return storeys


def _area(value: object) -> Decimal:
    shown = _text(value)
    if isinstance(value, bool | date | time | timedelta):
        raise _CellError(msg("area must be a number, got {shown}", shown=repr(shown)))
    if isinstance(value, float):
        # Excel stores binary floats: 56.3 may arrive as 56.300000000000004. Round to the
        # 4 decimals a roster may hold, then go through str so Decimal gets "56.3", not the
        # float's exact binary expansion; a float that really has more decimals is an error.
        rounded = round(value, MAX_AREA_DECIMALS)
        if abs(value - rounded) > 1e-9 * max(1.0, abs(value)):
            raise _CellError(
                msg(
                    "area has more than {max_area_decimals} decimals, got {shown}",
                    max_area_decimals=MAX_AREA_DECIMALS,
                    shown=repr(shown),
                )
            )
        area = Decimal(str(rounded))
    elif isinstance(value, int):
        area = Decimal(value)
    else:
        text = _compact(shown)
        for unit in ("平方米", "平米", "m2", "sqm"):
            text = text.removesuffix(unit)
        if not re.fullmatch(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", text):
            raise _CellError(msg("area must be a number, got {shown}", shown=repr(shown)))
        try:
            area = Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the pattern above rules this out
            raise _CellError(msg("area must be a number, got {shown}", shown=repr(shown))) from exc
    if area <= 0:
        raise _CellError(msg("area must be a positive number, got {shown}", shown=repr(shown)))
    exponent = area.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_AREA_DECIMALS:
        # 56.30000 is fine: only decimals that change the value count.
        quantized = area.quantize(Decimal(1).scaleb(-MAX_AREA_DECIMALS))
        if quantized != area:
            raise _CellError(
                msg(
                    "area has more than {max_area_decimals} decimals, got {shown}",
                    max_area_decimals=MAX_AREA_DECIMALS,
                    shown=repr(shown),
                )
            )
        area = quantized
    return area


def _phone(value: object) -> str:
    text = re.sub(r"\s+", "", _nfkc(_text(value)))
    if not re.fullmatch(r"[0-9*+\-()/、,;]+", text) or not re.search(r"\d", text):
        raise _CellError(
            msg("phone must be digits (masked digits as *), got {value}", value=repr(_text(value)))
        )
    return text


def _id_number(value: object) -> str:
    text = re.sub(r"\s+", "", _nfkc(_text(value))).upper()
    if not (len(text) in (15, 18) and text[:-1].isdigit() and text[-1] in "0123456789X"):
        raise _CellError(bilingual(msg("an ID number has 15 or 18 digits (the last may be X)")))
    return text


def _word(
    table: dict[str, Any], zh: str, en: str, accepted_zh: str, accepted_en: str
) -> Callable[[object], Any]:
    def parse(value: object) -> Any:
        found = table.get(_compact(_text(value)))
        if found is None:
            raise _CellError(
                msg(
                    "unknown {en} {value}; use {accepted_en}",
                    zh=zh,
                    accepted_zh=accepted_zh,
                    en=en,
                    value=repr(_text(value)),
                    accepted_en=accepted_en,
                )
            )
        return found

    return parse


_tenure = _word(
    _TENURE_WORDS,
    "居住状态",
    "tenure",
    "自住、出租、空置/外住、开发商未售、未交付",
    "owner_occupied, rented, absentee, developer_unsold, developer_undelivered",
)
_area_source = _word(
    _AREA_SOURCE_WORDS,
    "面积来源",
    "area source",
    "登记、测绘、合同",
    "registered, surveyed, contract",
)
_mobility = _word(
    _MOBILITY_WORDS,
    "行动情况",
    "mobility",
    "无、行动不便、轮椅、卧床、带婴幼儿",
    "none, reduced, wheelchair, bedridden, carries_infant",
)
_party_member = _word(
    _YES_NO,
    "党员",
    "party member",
    "是/否",
    "yes/no, Y/N, true/false or 1/0",
)
_vote = _word(
    {_compact(k): v for k, v in VOTE_ALIASES.items() if k},
    "表决",
    "vote",
    "同意、反对、弃权、未投票",
    "agree, disagree, abstain or absent",
)


def _age(value: object) -> int | AgeBand:
    _reject_date(value, "年龄", "age")
    text = _compact(_text(value))
    for dash in ("~", "至", "—", "–", "－"):
        text = text.replace(dash, "-")
    text = text.replace("岁", "")
    if re.fullmatch(r"\d+", text):
        age = int(text)
        if age <= MAX_AGE:
            return age
    elif text in _AGE_BAND_WORDS:
        return _AGE_BAND_WORDS[text]
    raise _CellError(
        msg(
            "age must be a whole number 0-{max_age} or an age band, got {value}",
            max_age=MAX_AGE,
            value=repr(_text(value)),
        )
    )


_PARSERS: dict[str, Callable[[object], Any]] = {
    "building": _building,
    "unit": _unit,
    "storeys": _storeys,
    "floor": _floor,
    "room": _room,
    "area_m2": _area,
    "area_source": _area_source,
    "owner": _name,
    "owner_phone": _phone,
    "owner_id_number": _id_number,
    "tenure": _tenure,
    "resident": _name,
    "age": _age,
    "mobility": _mobility,
    "party_member": _party_member,
    "vote": _vote,
    "notes": _notes,
}


# ---------------------------------------------------------------------------------------------
# Header and rows


def _synonym_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for column in ROSTER_COLUMNS:
        for spelling in (column.zh, column.en, column.key, *column.synonyms):
            key = _header_key(spelling)
            if table.setdefault(key, column.key) != column.key:
                raise AssertionError(f"header {spelling!r} is claimed by two columns")
    return table


_SYNONYMS = _synonym_table()


def _column_label(key: str) -> str:
    column = _COLUMN_BY_KEY[key]
    return f"{column.zh}/{column.en}"


def _map_header(header: Sequence[object], header_row: int) -> dict[str, tuple[int, str]]:
    """Field key → (column index, header text as written); unknown headers are ignored."""
    found: dict[str, tuple[int, str]] = {}
    errors: list[tuple[int, str, str | Message]] = []
    for index, cell in enumerate(header):
        text = _text(cell)
        key = _SYNONYMS.get(_header_key(text)) if text else None
        if key is None:
            continue
        if key in found:
            errors.append(
                (
                    header_row,
                    text,
                    msg(
                        "columns '{found}' and '{text}' both mean {key}; keep one",
                        found=found[key][1],
                        text=text,
                        zh=_COLUMN_BY_KEY[key].zh,
                        key=key,
                    ),
                )
            )
            continue
        found[key] = (index, text)
    missing = [c.key for c in ROSTER_COLUMNS if c.required and c.key not in found]
    headers_seen: str | Label = ", ".join(t for t in (_text(c) for c in header) if t) or Label(
        "无", "none"
    )
    for key in missing:
        errors.append(
            (
                header_row,
                "",
                msg(
                    "missing required column {key}; columns found: {seen}",
                    key=key,
                    zh=_COLUMN_BY_KEY[key].zh,
                    seen=headers_seen,
                ),
            )
        )
    if errors:
        if missing:
            names = ", ".join(_column_label(k) for k in missing)
            summary = (
                f"名册缺少必填列 {names}，未导入 / roster rejected: missing required column(s) "
                f"{names}; columns found: {headers_seen}"
            )
        else:
            summary = (
                f"名册表头有误，未导入 / roster rejected: {len(errors)} problems in the header"
            )
        raise RowError(summary, errors)
    return found


def parse_rows(
    header: Sequence[object],
    rows: Iterable[Sequence[object]],
    *,
    first_row: int = 2,
    patterns: CodePatterns = DEFAULT_PATTERNS,
) -> list[RosterRow]:
    """Validate roster rows under `header`; `first_row` is the row number of rows[0] in the file.

    Blank rows are skipped. Raises `RowError` listing every problem if any row is wrong, and
    `BadInput` as soon as there are more than `MAX_ROSTER_ROWS` rows.
    """
    if len(header) > MAX_ROSTER_COLUMNS and any(
        not _is_blank(c) for c in header[MAX_ROSTER_COLUMNS:]
    ):
        raise _too_many_columns(first_row - 1)
    columns = _map_header(header, first_row - 1)
    problems: list[tuple[int, int, str, str | Message]] = []
    results: list[RosterRow] = []
    first_flat: dict[tuple[str, str, str], int] = {}
    first_storeys: dict[str, tuple[int, int]] = {}
    first_vote: dict[tuple[str, str], tuple[int, Vote]] = {}

    def problem(row_no: int, key: str, message: str | Message) -> None:
        problems.append((row_no, columns[key][0], columns[key][1], message))

    for offset, raw in enumerate(rows):
        row_no = first_row + offset
        if offset >= MAX_ROSTER_ROWS:
            raise _too_many_rows()
        if all(_is_blank(cell) for cell in raw):
            continue
        values: dict[str, Any] = {}
        bad: set[str] = set()
        for key, (index, _) in columns.items():
            cell = raw[index] if index < len(raw) else None
            if _is_blank(cell):
                if _COLUMN_BY_KEY[key].required and key != "owner":
                    column = _COLUMN_BY_KEY[key]
                    problem(row_no, key, msg("{en} is required", zh=column.zh, en=column.en))
                    bad.add(key)
                continue
            if isinstance(cell, str) and _SURROGATE.search(cell):
                problem(
                    row_no,
                    key,
                    msg("cell holds an unreadable character (a broken encoding); type it again"),
                )
                bad.add(key)
                continue
            if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
                problem(
                    row_no,
                    key,
                    msg(
                        "cell longer than {max_cell_chars} characters",
                        max_cell_chars=MAX_CELL_CHARS,
                    ),
                )
                bad.add(key)
                continue
            try:
                values[key] = _PARSERS[key](cell)
            except _CellError as exc:
                problem(row_no, key, exc.args[0])
                bad.add(key)
        for key, pattern in (("building", patterns.building), ("unit", patterns.unit)):
            code = values.get(key)
            if code is not None and not re.fullmatch(pattern, code):
                index = columns[key][0]
                problem(row_no, key, _code_refused(key, raw[index]))
                bad.add(key)
                del values[key]
        if _is_example(values):
            problem(
                row_no,
                "notes" if "notes" in columns else "owner",
                msg("this is the template's example row; delete it before importing"),
            )
            bad.add("notes")
        failed = _check_row(values, bad, row_no, problem) or bool(bad)

        building, unit, room = values.get("building"), values.get("unit"), values.get("room")
        if building is not None and unit is not None and room is not None:
            earlier = first_flat.setdefault((building, unit, room), row_no)
            if earlier != row_no:
                problem(
                    row_no,
                    "room",
                    msg(
                        "duplicate flat (building {building}, unit {unit}, room {room}), already in row {earlier}",
                        building=building,
                        unit=unit,
                        room=room,
                        earlier=earlier,
                    ),
                )
                failed = True
        storeys = values.get("storeys")
        if building is not None and storeys is not None:
            earlier_row, earlier_storeys = first_storeys.setdefault(building, (row_no, storeys))
            if earlier_storeys != storeys:
                problem(
                    row_no,
                    "storeys",
                    msg(
                        "storeys differ within building {building}: row {earlier_row} says {earlier_storeys}",
                        earlier_row=earlier_row,
                        earlier_storeys=earlier_storeys,
                        building=building,
                    ),
                )
                failed = True
        vote, owner = values.get("vote"), values.get("owner")
        if vote is not None and owner:
            phone = values.get("owner_phone", "")
            earlier_row, earlier_vote = first_vote.setdefault((owner, phone), (row_no, vote))
            if earlier_vote is not vote:
                problem(
                    row_no,
                    "vote",
                    msg(
                        "one owner votes once: {owner} voted {value} in row {earlier_row} but {value2} here; if these are two people, add their phones",
                        earlier_row=earlier_row,
                        vote_zh=_VOTE_ZH[earlier_vote],
                        vote_zh2=_VOTE_ZH[vote],
                        owner=owner,
                        value=earlier_vote.value,
                        value2=vote.value,
                    ),
                )
                failed = True

        if not failed:
            results.append(_build(values, row_no))

    if problems:
        problems.sort(key=lambda p: (p[0], p[1]))
        errors = [(row_no, header_text, message) for row_no, _, header_text, message in problems]
        bad_rows = len({row_no for row_no, _, _ in errors})
        raise RowError(
            "roster rejected: {n_errors} problems in {bad_rows} rows; nothing was imported",
            errors,
            bad_rows=bad_rows,
            n_errors=len(errors),
        )
    return results


_SURROGATE = re.compile("[\ud800-\udfff]")

_CODE_EXAMPLES = {"building": "2栋、2号楼、10幢、B座", "unit": "1单元、二单元、1"}


def _code_refused(key: str, cell: object) -> Message:
    column = _COLUMN_BY_KEY[key]
    shown = _text(cell)[:40]
    return msg(
        "{en} {shown2} is not a {en} number (write it like {code_examples}); check for a typo",
        zh=column.zh,
        shown=shown,
        code_examples=_CODE_EXAMPLES[key],
        en=column.en,
        shown2=repr(shown),
    )


def _is_example(values: dict[str, Any]) -> bool:
    """The template's example row: its notes start with the mark, or it is the example itself."""
    if str(values.get("notes", "")).startswith(EXAMPLE_MARK):
        return True
    return all(
        values.get(key) == getattr(_EXAMPLE, key)
        for key in ("building", "unit", "room", "owner", "owner_phone")
    )


def _too_many_rows() -> BadInput:
    return BadInput(
        "the roster has more than {limit} rows: split it by building and import each part",
        limit=MAX_ROSTER_ROWS,
    )


def _too_many_columns(row: int) -> BadInput:
    return BadInput(
        "row {row} of the roster has more than {limit} filled columns: "
        "keep only the roster's columns",
        row=row,
        limit=MAX_ROSTER_COLUMNS,
    )


def _check_row(
    values: dict[str, Any],
    bad: set[str],
    row_no: int,
    problem: Callable[[int, str, str | Message], None],
) -> bool:
    """Checks across cells of one row; True when one failed."""
    failed = False
    floor, storeys, room = values.get("floor"), values.get("storeys"), values.get("room")
    if floor is not None and storeys is not None and floor > storeys:
        problem(
            row_no,
            "floor",
            msg(
                "floor {floor} is above the building's {storeys} storeys",
                floor=floor,
                storeys=storeys,
            ),
        )
        failed = True
    # Rooms like 301 or 1203 carry the floor in front of the last two digits.
    if (
        floor is not None
        and room is not None
        and re.fullmatch(r"\d{3,4}", room)
        and int(room[:-2]) != floor
    ):
        problem(row_no, "room", msg("room {room} is not on floor {floor}", room=room, floor=floor))
        failed = True
    tenure = values.get("tenure", Tenure.OWNER_OCCUPIED)
    # An unreadable tenure is reported already; only judge the owner when tenure is known.
    if not values.get("owner") and not bad & {"tenure", "owner"} and not tenure.developer_held:
        problem(
            row_no,
            "owner",
            msg("owner is required unless the flat is developer_unsold or developer_undelivered"),
        )
        failed = True
    return failed


def _build(values: dict[str, Any], row_no: int) -> RosterRow:
    age = values.get("age")
    return RosterRow(
        building=values["building"],
        unit=values["unit"],
        floor=values["floor"],
        room=values["room"],
        area_m2=values["area_m2"],
        owner=values.get("owner", ""),
        owner_phone=values.get("owner_phone", ""),
        owner_id_number=values.get("owner_id_number", ""),
        tenure=values.get("tenure", Tenure.OWNER_OCCUPIED),
        area_source=values.get("area_source", AreaSource.REGISTERED),
        storeys=values.get("storeys"),
        resident=values.get("resident", ""),
        age=age if isinstance(age, int) else None,
        age_band=age if isinstance(age, AgeBand) else None,
        mobility=values.get("mobility"),
        party_member=values.get("party_member"),
        vote=values.get("vote"),
        notes=values.get("notes", ""),
        source_row=row_no,
    )


def format_errors(errors: Iterable[tuple[int, str, str]]) -> str:
    """The error list as lines a worker can read: 第5行 [面积]: message."""
    return "\n".join(
        f"第{row_no}行 [{column}]: {message}" if column else f"第{row_no}行: {message}"
        for row_no, column, message in errors
    )


# ---------------------------------------------------------------------------------------------
# Files


def _find_header(rows: list[Sequence[object]]) -> int:
    """Index of the header row: the first naming three required columns, else the first filled."""
    required = {c.key for c in ROSTER_COLUMNS if c.required}
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        named = {_SYNONYMS.get(_header_key(_text(cell))) for cell in row}
        if len(named & required) >= 3:
            return index
    for index, row in enumerate(rows):
        if not all(_is_blank(cell) for cell in row):
            return index
    raise BadInput("the roster file is empty")


def _parse_table(
    rows: list[Sequence[object]], patterns: CodePatterns = DEFAULT_PATTERNS
) -> list[RosterRow]:
    if not rows:
        raise BadInput("the roster file is empty")
    at = _find_header(rows)
    return parse_rows(rows[at], rows[at + 1 :], first_row=at + 2, patterns=patterns)


def read_roster(path: Path | str, *, patterns: CodePatterns = DEFAULT_PATTERNS) -> list[RosterRow]:
    """Read a .csv (UTF-8 or GBK) or .xlsx roster; raises BadInput or RowError.

    The file's size, rows and columns are limited before or while it is read (see the MAX_
    constants), so a crafted file is refused without being parsed whole.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise BadInput(
            "unsupported file type {suffix2}; save the roster as .xlsx or .csv",
            suffix=path.suffix or "（无扩展名）",
            suffix2=repr(path.suffix),
        )
    try:
        size = path.stat().st_size
        if size > MAX_ROSTER_BYTES:
            raise _too_big(size)
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(
            "cannot open {name}: {strerror}", name=path.name, strerror=exc.strerror
        ) from exc
    rows = _read_csv(data) if suffix == ".csv" else _read_xlsx(data)
    return _parse_table(rows, patterns)


def _too_big(size: int) -> BadInput:
    return BadInput(
        "the roster file is {size} KB; at most {limit} KB is read: split it by building",
        size=size // 1024,
        limit=MAX_ROSTER_BYTES // 1024,
    )


# Rows a reader takes at most: the header may sit below a few title rows.
_MAX_FILE_ROWS = MAX_ROSTER_ROWS + HEADER_SEARCH_ROWS + 1


_CSV_RISKY = ("=", "+", "-", "@", "\t", "\r")


def _read_csv(data: bytes) -> list[Sequence[object]]:
    if len(data) > MAX_ROSTER_BYTES:
        raise _too_big(len(data))
    # Counted before parsing: more line breaks than allowed rows is refused outright.
    # (A quoted note may span lines, hence the slack.)
    if max(data.count(b"\n"), data.count(b"\r")) > _MAX_FILE_ROWS * 4:
        raise _too_many_rows()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Chinese Windows saves "CSV" in the GBK family; gb18030 is its superset.
        text = data.decode("gb18030", errors="replace")
    # NUL cannot be stored and the csv module refuses it; drop it as .xlsx control characters are.
    text = text.replace("\x00", "")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out: list[Sequence[object]] = []
    try:
        for row in reader:
            if len(out) >= _MAX_FILE_ROWS:
                raise _too_many_rows()
            if len(row) > MAX_ROSTER_COLUMNS and any(c.strip() for c in row[MAX_ROSTER_COLUMNS:]):
                raise _too_many_columns(reader.line_num)
            out.append([_csv_unescape(cell) for cell in row[: MAX_ROSTER_COLUMNS + 1]])
    except csv.Error as exc:
        raise BadInput(
            "line {line} of the CSV file cannot be read ({problem}): save it again from Excel",
            line=reader.line_num,
            problem=str(exc),
        ) from None
    return out


def _csv_unescape(cell: str) -> str:
    # Undo the apostrophe the writer puts before text Excel would run as a formula.
    if cell.startswith("'") and cell[1:].startswith((*_CSV_RISKY, "'")):
        return cell[1:]
    return cell


def _csv_escape(cell: str) -> str:
    return "'" + cell if cell.startswith((*_CSV_RISKY, "'")) else cell


def _read_xlsx(data: bytes) -> list[Sequence[object]]:
    unreadable = BadInput("cannot read this .xlsx file; save it again as .xlsx from Excel")
    if len(data) > MAX_ROSTER_BYTES:
        raise _too_big(len(data))
    _check_zip(data, unreadable)
    import openpyxl  # imported only for a file that passed the checks

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise unreadable from exc
    try:
        sheets = [ws for ws in workbook.worksheets if hasattr(ws, "iter_rows")]
        if not sheets:
            raise BadInput("the workbook has no worksheet")
        wanted = {_header_key(name) for name in SHEET_NAMES}
        sheet = next((ws for ws in sheets if _header_key(ws.title) in wanted), sheets[0])
        # Some tools write a wrong sheet size; without this a read-only sheet may look empty.
        sheet.reset_dimensions()
        out: list[Sequence[object]] = []
        # Streamed (read-only mode): the row limit stops reading, the sheet is never held whole.
        for row in sheet.iter_rows(values_only=True):
            if len(out) >= _MAX_FILE_ROWS:
                raise _too_many_rows()
            if len(row) > MAX_ROSTER_COLUMNS and any(
                not _is_blank(c) for c in row[MAX_ROSTER_COLUMNS:]
            ):
                raise _too_many_columns(len(out) + 1)
            out.append(list(row[: MAX_ROSTER_COLUMNS + 1]))
        return out
    except BadInput:
        raise
    except Exception as exc:  # a damaged sheet part fails while streaming
        raise unreadable from exc
    finally:
        workbook.close()


def _check_zip(data: bytes, unreadable: BadInput) -> None:
    """Refuse an .xlsx whose zip declares too many parts or too much unpacked data.

    Reading a part stops at its declared size (the zip's CRC check fails past it), so the
    declared sizes bound the work whatever the file says inside.
    """
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise unreadable from exc
    if len(parts) > MAX_XLSX_PARTS:
        raise BadInput(
            "the .xlsx file holds {count} parts, more than {limit}: save the roster alone "
            "as a new workbook",
            count=len(parts),
            limit=MAX_XLSX_PARTS,
        )
    unpacked = sum(part.file_size for part in parts)
    if unpacked > MAX_XLSX_UNPACKED:
        raise BadInput(
            "the .xlsx file unpacks to {size} MB, more than {limit} MB: it holds far more than "
            "a roster; save the roster alone as a new workbook",
            size=unpacked // (1024 * 1024),
            limit=MAX_XLSX_UNPACKED // (1024 * 1024),
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for part in parts:
                if part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml"):
                    _count_cells(archive, part)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError) as exc:
        raise unreadable from exc


_ROOT_TAG = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s/>]")
_TAG_ENDS = (b" ", b">", b"/", b"\n", b"\t", b"\r")
# Every element opens with "<": however its tags are prefixed, a sheet has at most this many
# (a cell with an inline string is six of them, so this is well above any roster).
MAX_XLSX_TAGS = MAX_XLSX_CELLS * 8


def _count_cells(archive: Any, part: Any) -> None:
    """Count a sheet's rows, cells and tags in its XML bytes, before any XML parsing.

    Unpacking and `bytes.count` take milliseconds per megabyte; parsing a cell in openpyxl
    takes microseconds. Row and cell tags are counted with the prefix the root element uses;
    the count of all tags bounds the work whatever prefixes a crafted file uses.
    """
    rows = cells = tags = 0
    carry = b""
    row_tags: list[bytes] = []
    cell_tags: list[bytes] = []
    with archive.open(part) as stream:
        while chunk := stream.read(1 << 20):
            buffer = carry + chunk
            if not row_tags:
                root = _ROOT_TAG.search(buffer[:4096])
                prefix = (root.group(1) or b"") if root else b""
                row_tags = [b"<" + prefix + b"row" + end for end in _TAG_ENDS]
                cell_tags = [b"<" + prefix + b"c" + end for end in _TAG_ENDS]
            tags += chunk.count(b"<")
            # A tag cut at the chunk's end is whole in the next buffer; one wholly inside the
            # carried tail was counted already.
            rows += sum(buffer.count(t) - carry.count(t) for t in row_tags)
            cells += sum(buffer.count(t) - carry.count(t) for t in cell_tags)
            if rows > _MAX_FILE_ROWS:
                raise _too_many_rows()
            if cells > MAX_XLSX_CELLS or tags > MAX_XLSX_TAGS:
                raise BadInput(
                    "the sheet holds more than {limit} cells: keep only the roster's columns "
                    "and rows",
                    limit=MAX_XLSX_CELLS,
                )
            carry = buffer[-(len(row_tags[0]) + 1) :]


def tenure_word(tenure: Tenure | str) -> str:
    """The roster's Chinese word for a tenure (自住, 出租, …), as the export writes it."""
    return _TENURE_ZH[Tenure(tenure)]


def _row_cells(row: RosterRow) -> list[object]:
    """The row in canonical column order as typed values: int, Decimal, str or None."""
    by_key: dict[str, object] = {
        "building": row.building,
        "unit": row.unit,
        "storeys": row.storeys,
        "floor": row.floor,
        "room": row.room,
        "area_m2": row.area_m2,
        "area_source": _AREA_SOURCE_ZH[row.area_source],
        "owner": row.owner,
        "owner_phone": row.owner_phone,
        "owner_id_number": row.owner_id_number,
        "tenure": _TENURE_ZH[row.tenure],
        "resident": row.resident,
        "age": row.age
        if row.age is not None
        else (_AGE_BAND_ZH[row.age_band] if row.age_band is not None else None),
        "mobility": _MOBILITY_ZH[row.mobility] if row.mobility is not None else None,
        "party_member": None if row.party_member is None else ("是" if row.party_member else "否"),
        "vote": _VOTE_ZH[row.vote] if row.vote is not None else None,
        "notes": row.notes,
    }
    return [by_key[column.key] for column in ROSTER_COLUMNS]


def _as_csv(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    return _csv_escape(str(value))


def write_roster(rows: Iterable[RosterRow], path: Path | str) -> None:
    """Write rows as .csv (UTF-8 with BOM, for Excel) or .xlsx, Chinese headers in column order."""
    _write(list(rows), Path(path), template=False)


def write_template(path: Path | str) -> None:
    """An empty roster to fill in: the headers, one example row and, in .xlsx, a 说明 sheet."""
    _write([_EXAMPLE], Path(path), template=True)


_EXAMPLE = RosterRow(
    building="3",
    unit="2",
    floor=3,
    room="301",
    area_m2=Decimal("56.30"),
    owner="王建华、刘淑芬",
    owner_phone="138****1234",
    storeys=6,
    resident="王建华",
    age=72,
    mobility=Mobility.REDUCED,
    party_member=True,
    notes=f"{EXAMPLE_MARK}，填写前请删除 / example row, delete it",
)


def _write(rows: list[RosterRow], path: Path, *, template: bool) -> None:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow([column.zh for column in ROSTER_COLUMNS])
        for row in rows:
            writer.writerow([_as_csv(value) for value in _row_cells(row)])
        # The BOM makes Excel open the file as UTF-8 rather than the system's GBK.
        path.write_text(buffer.getvalue(), encoding="utf-8-sig", newline="")
    elif suffix == ".xlsx":
        _write_xlsx(rows, path, template=template)
    else:
        raise BadInput("can only write .csv or .xlsx, got {suffix}", suffix=repr(path.suffix))


_CODE_KEYS = frozenset({"building", "unit", "room"})
_TEXT_KEYS = frozenset(
    {
        "owner",
        "owner_phone",
        "owner_id_number",
        "resident",
        "notes",
        "area_source",
        "tenure",
        "mobility",
        "party_member",
        "vote",
    }
)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _write_xlsx(rows: list[RosterRow], path: Path, *, template: bool) -> None:
    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = SHEET_NAMES[0]
    keys = [column.key for column in ROSTER_COLUMNS]
    widths = [_display_width(column.zh) for column in ROSTER_COLUMNS]
    sheet.append([column.zh for column in ROSTER_COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row_no, row in enumerate(rows, start=2):
        for col_no, (key, value) in enumerate(zip(keys, _row_cells(row), strict=True), start=1):
            cell = sheet.cell(row=row_no, column=col_no)
            if value is None or value == "":
                continue
            if isinstance(value, Decimal):
                # Store a number only when reading it back gives the same Decimal.
                as_float = float(value)
                if Decimal(str(round(as_float, MAX_AREA_DECIMALS))) == value:
                    cell.value = as_float
                    cell.number_format = "0.00##"
                else:
                    cell.value = format(value, "f")
                    cell.data_type = "s"
            elif isinstance(value, int):
                cell.value = value
            else:
                text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
                # Codes like 301 go in as numbers so Excel does not flag "number stored as text".
                if (
                    key in _CODE_KEYS
                    and text.isascii()
                    and text.isdigit()
                    and len(text) < 10
                    and str(int(text)) == text
                ):
                    cell.value = int(text)
                else:
                    cell.value = text
                    # Never let a name or note that starts with "=" become a formula.
                    cell.data_type = "s"
            widths[col_no - 1] = max(widths[col_no - 1], _display_width(_text(value)))
    for col_no, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(col_no)].width = min(max(width + 2, 6), 40)
    sheet.freeze_panes = "A2"
    if template:
        guide = workbook.create_sheet("说明")
        guide.append(["列名", "column", "必填 / required", "怎么填", "how to fill"])
        for cell in guide[1]:
            cell.font = Font(bold=True)
        for column in ROSTER_COLUMNS:
            guide.append(
                [
                    column.zh,
                    column.key,
                    "是 / yes" if column.required else "",
                    column.help_zh,
                    column.help_en,
                ]
            )
        for letter, width in zip("ABCDE", (12, 14, 14, 60, 60), strict=True):
            guide.column_dimensions[letter].width = width
    workbook.save(path)
