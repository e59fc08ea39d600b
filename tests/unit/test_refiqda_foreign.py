"""Exchange without silent loss: what colift does not model (REFI-QDA Sets, Links, Graphs, a
tool's own elements) is reported by name on import, in projects shaped like those of NVivo,
ATLAS.ti, MAXQDA and QualCoder; what it models survives export and re-import unchanged."""

from __future__ import annotations

import io
import zipfile

import pytest

from colift.evidence.refiqda import export_qdpx, import_qdc, import_qdpx

SRC = "88888888-8888-8888-8888-88888888888{n}"
CODE = "33333333-3333-3333-3333-33333333333{n}"


def _project(origin: str, extra: str, source_extra: str = "") -> bytes:
    sources = "".join(
        f'<TextSource guid="{SRC.format(n=n)}" name="访谈{n}" '
        f'plainTextPath="internal://{SRC.format(n=n)}.txt">'
        f'<PlainTextSelection guid="9999999{n}-9999-9999-9999-999999999999" startPosition="0" '
        f'endPosition="4"><Coding guid="aaaaaaa{n}-aaaa-aaaa-aaaa-aaaaaaaaaaaa">'
        f'<CodeRef targetGUID="{CODE.format(n=n % 2)}"/></Coding></PlainTextSelection>'
        f"{source_extra}</TextSource>"
        for n in range(3)
    )
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="{origin} study" origin="{origin}">
  <CodeBook><Codes>
    <Code guid="{CODE.format(n=0)}" name="低层补偿" isCodable="true"/>
    <Code guid="{CODE.format(n=1)}" name="党员带头" isCodable="true"/>
  </Codes></CodeBook>
  <Sources>{sources}</Sources>
  {extra}
</Project>"""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("project.qde", qde)
        for n in range(3):
            archive.writestr(f"Sources/{SRC.format(n=n)}.txt", "一楼采光差，二楼同意".encode())
    return buffer.getvalue()


def _set(name: str, guid: str, codes: int = 0, sources: int = 0) -> str:
    members = "".join(f'<MemberCode targetGUID="{CODE.format(n=i)}"/>' for i in range(codes))
    members += "".join(f'<MemberSource targetGUID="{SRC.format(n=i)}"/>' for i in range(sources))
    return f'<Set guid="{guid}" name="{name}">{members}</Set>'


G = "cccccccc-cccc-cccc-cccc-ccccccccccc{n}"
SHAPES = {
    # MAXQDA 24: document sets (two source Sets) and a code set
    "MAXQDA 24": (
        "<Sets>"
        + _set("一期访谈", G.format(n=1), sources=2)
        + _set("二期访谈", G.format(n=2), sources=1)
        + _set("重点代码", G.format(n=3), codes=2)
        + "</Sets>",
        ["'一期访谈' (2 sources)", "'二期访谈' (1 sources)", "'重点代码' (2 codes)"],
        "",
    ),
    # NVivo 14: a source set, and a relationship link
    "NVivo 14": (
        '<Links><Link guid="dddddddd-dddd-dddd-dddd-dddddddddddd" name="影响" '
        f'originGUID="{CODE.format(n=1)}" targetGUID="{CODE.format(n=0)}"/></Links>'
        "<Sets>" + _set("居民访谈", G.format(n=4), sources=3) + "</Sets>",
        ["'居民访谈' (3 sources)", "<Links>"],
        "",
    ),
    # ATLAS.ti 23: code groups as code Sets, and a network as a graph
    "ATLAS.ti 23": (
        "<Sets>" + _set("治理工具组", G.format(n=5), codes=2) + "</Sets>"
        '<Graphs><Graph guid="eeeeeeee-eeee-eeee-eeee-eeeeeeeeeeee" name="网络"/></Graphs>',
        ["'治理工具组' (2 codes)", "<Graphs>"],
        "",
    ),
    # QualCoder 3: a code Set and an element of its own inside each source
    "QualCoder 3.5": (
        "<Sets>" + _set("类别", G.format(n=6), codes=1) + "</Sets>",
        ["'类别' (1 codes)", "<QualCoderMeta>"],
        '<QualCoderMeta risk="low"/>',
    ),
}


@pytest.mark.parametrize("origin", sorted(SHAPES))
def test_foreign_elements_are_reported_and_the_rest_round_trips(origin: str) -> None:
    extra, expected, source_extra = SHAPES[origin]
    result = import_qdpx(_project(origin, extra, source_extra))
    joined = "\n".join(result.warnings)
    for fragment in expected:
        assert fragment in joined, (fragment, result.warnings)
    p = result.project
    assert len(p.sources) == 3 and len(p.codings) == 3
    again = import_qdpx(export_qdpx(p))
    assert again.warnings == []  # colift's own export holds nothing it cannot read back
    assert sorted(again.project.codings, key=repr) == sorted(p.codings, key=repr)


def test_a_codebook_with_sets_reports_them() -> None:
    qdc = f"""<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="MAXQDA 24"><Codes>
  <Code guid="{CODE.format(n=0)}" name="低层补偿" isCodable="true"/>
</Codes><Sets>{_set("代码集", G.format(n=7), codes=1)}</Sets></CodeBook>"""
    _, _, warnings = import_qdc(qdc.encode())
    assert any("'代码集' (1 codes)" in w for w in warnings)
