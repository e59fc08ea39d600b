"""Exchange without silent loss, in projects shaped like those of NVivo, ATLAS.ti, MAXQDA and
QualCoder: REFI-QDA Sets of sources and of codes come in, are kept and go out again; what colift
does not model (Links, Graphs, a tool's own elements) is reported by name on import."""

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
        {"一期访谈": (0, 2), "二期访谈": (0, 1), "重点代码": (2, 0)},
        [],
        "",
    ),
    # NVivo 14: a source set, and a relationship link
    "NVivo 14": (
        '<Links><Link guid="dddddddd-dddd-dddd-dddd-dddddddddddd" name="影响" '
        f'originGUID="{CODE.format(n=1)}" targetGUID="{CODE.format(n=0)}"/></Links>'
        "<Sets>" + _set("居民访谈", G.format(n=4), sources=3) + "</Sets>",
        {"居民访谈": (0, 3)},
        ["<Links>"],
        "",
    ),
    # ATLAS.ti 23: code groups as code Sets, and a network as a graph
    "ATLAS.ti 23": (
        "<Sets>" + _set("治理工具组", G.format(n=5), codes=2) + "</Sets>"
        '<Graphs><Graph guid="eeeeeeee-eeee-eeee-eeee-eeeeeeeeeeee" name="网络"/></Graphs>',
        {"治理工具组": (2, 0)},
        ["<Graphs>"],
        "",
    ),
    # QualCoder 3: a code Set and an element of its own inside each source
    "QualCoder 3.5": (
        "<Sets>" + _set("类别", G.format(n=6), codes=1) + "</Sets>",
        {"类别": (1, 0)},
        ["<QualCoderMeta>"],
        '<QualCoderMeta risk="low"/>',
    ),
}


@pytest.mark.parametrize("origin", sorted(SHAPES))
def test_sets_are_kept_foreign_elements_reported_and_the_rest_round_trips(origin: str) -> None:
    extra, sets, expected, source_extra = SHAPES[origin]
    result = import_qdpx(_project(origin, extra, source_extra))
    joined = "\n".join(result.warnings)
    for fragment in expected:
        assert fragment in joined, (fragment, result.warnings)
    assert "set" not in joined  # every set came through whole
    p = result.project
    assert len(p.sources) == 3 and len(p.codings) == 3
    got = {s.name: (len(s.codes), len(s.sources)) for s in p.sets.values()}
    assert got == sets
    for s in p.sets.values():
        assert set(s.codes) <= {c.id for c in p.codebook} and set(s.sources) <= set(p.sources)
    again = import_qdpx(export_qdpx(p))
    assert again.warnings == []  # colift's own export holds nothing it cannot read back
    assert sorted(again.project.codings, key=repr) == sorted(p.codings, key=repr)
    assert again.project.sets == p.sets
    # the other tool's GUIDs go back out, so it recognises its own sets
    out = _qde_of(export_qdpx(p))
    for guid in (G.format(n=n) for n in range(1, 7)):
        assert (guid in out) == (guid in extra)


def _qde_of(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("project.qde").decode()


def test_a_set_member_colift_did_not_import_is_reported() -> None:
    extra = (
        "<Sets>"
        + _set("含图片", G.format(n=8), sources=1)[:-6]
        + '<MemberSource targetGUID="bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb"/></Set></Sets>'
    )
    result = import_qdpx(_project("MAXQDA 24", extra))
    assert any("'含图片': 1 member(s)" in w for w in result.warnings)
    (kept,) = result.project.sets.values()
    assert len(kept.sources) == 1


def test_a_codebook_with_sets_reports_them() -> None:
    qdc = f"""<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="MAXQDA 24"><Codes>
  <Code guid="{CODE.format(n=0)}" name="低层补偿" isCodable="true"/>
</Codes><Sets>{_set("代码集", G.format(n=7), codes=1)}</Sets></CodeBook>"""
    _, _, warnings = import_qdc(qdc.encode())
    assert any("'代码集' (1 codes)" in w for w in warnings)
