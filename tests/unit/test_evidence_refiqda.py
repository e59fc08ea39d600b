"""REFI-QDA exchange: schema validity, round trips, offsets in Chinese text with CRLF, foreign files."""

from __future__ import annotations

import hashlib
import io
import zipfile
from importlib.resources import files

import pytest

from colift.errors import BadInput
from colift.evidence.codebook import default_codebook, merge
from colift.evidence.model import Case, Coding, Memo, Source
from colift.evidence.project import EvidenceProject, segment_target
from colift.evidence.refiqda import (
    CODEBOOK_XSD,
    PROJECT_XSD,
    derived_guid,
    export_qdc,
    export_qdpx,
    import_qdc,
    import_qdpx,
    schema_errors,
)
from colift.services.evidence import demo_project

SCHEMAS = files("colift.evidence") / "schemas"
# sha256 prefixes and suffixes published with the two standard files.
SHA256 = {"Codebook.xsd": ("62a941a0", "9c75"), "Project.xsd": ("a2cc1ffb", "5a15")}


def _schemas_present() -> bool:
    return all((SCHEMAS / name).is_file() for name in SHA256)


needs_schemas = pytest.mark.skipif(
    not _schemas_present(),
    reason="the QDA-XML schema files (evidence/schemas/*.xsd) are not installed",
)

TEXT = "访谈记录\r\n问：一楼怎么看？\r\n答：一楼采光本来就差，电梯井一挡，冬天见不到太阳。\r\n问：后来呢？\r\n答：改成玻璃井道了。"


def small_project() -> EvidenceProject:
    p = EvidenceProject("小项目", default_codebook(), description="测试")
    p.add_case(Case("c101", "101住户", {"floor": "1", "role": "住户", "tenure": "owner_occupied"}))
    p.add_case(Case("c602", "602住户", {"floor": "6"}))
    p.add_source(Source("s1", "访谈一", TEXT, kind="interview"))
    p.add_source(Source("s2", "纪要", "会议同意按楼层分摊。\n党员带头签字。", kind="minutes"))
    p.link_case("s1", "c101")
    p.link_case("s2", "c101")
    p.link_case("s2", "c602")
    p.link("s1", "compound", "hx-1994")
    p.link("s1", "unit", "1-2")
    start = TEXT.index("一楼采光")
    end = TEXT.index("太阳。") + 3
    p.add_coding(Coding("s1", start, end, "heterogeneity.low_floor_loss", "研究员甲"))
    p.add_coding(Coding("s1", start, end, "heterogeneity.low_floor_loss", "研究员乙"))
    p.add_coding(Coding("s1", start, end, "heterogeneity.technical", "研究员乙"))
    glass = TEXT.index("改成玻璃井道")
    p.add_coding(Coding("s1", glass, glass + 6, "tool.design_change", "研究员甲"))
    p.add_coding(Coding("s2", 0, 10, "cooperation.collaborating", "研究员甲"))
    p.add_memo(Memo("m1", "项目备忘\r\n第二行", "研究员甲"))
    p.add_memo(Memo("m2", "代码备忘", "研究员乙", "code", "tool.design_change"))
    p.add_memo(Memo("m3", "来源备忘", "研究员乙", "source", "s2"))
    p.add_memo(
        Memo("m4", "片段备忘", "研究员甲", "segment", segment_target("s1", glass, glass + 6))
    )
    return p


def _qde(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("project.qde")


def assert_same(a: EvidenceProject, b: EvidenceProject) -> None:
    assert list(a.codebook) == list(b.codebook)
    assert a.sources == b.sources
    assert a.cases == b.cases
    assert sorted(a.codings, key=repr) == sorted(b.codings, key=repr)
    assert a.memos == b.memos


# ---------------------------------------------------------------- the schema files


@needs_schemas
@pytest.mark.parametrize("name", sorted(SHA256))
def test_vendored_schemas_are_the_published_files(name: str) -> None:
    digest = hashlib.sha256((SCHEMAS / name).read_bytes()).hexdigest()
    head, tail = SHA256[name]
    assert digest.startswith(head) and digest.endswith(tail), digest


@needs_schemas
def test_project_export_validates() -> None:
    data = export_qdpx(small_project())
    assert schema_errors(_qde(data), PROJECT_XSD) == []


@needs_schemas
def test_codebook_export_validates() -> None:
    xml = export_qdc(default_codebook())
    assert schema_errors(xml, CODEBOOK_XSD) == []
    assert b'xmlns="urn:QDA-XML:codebook:1.0"' in xml


@needs_schemas
def test_demo_project_export_validates() -> None:
    data = export_qdpx(demo_project())
    assert schema_errors(_qde(data), PROJECT_XSD) == []


@needs_schemas
def test_the_validator_catches_an_empty_sets_element() -> None:
    xml = _qde(export_qdpx(small_project()))
    broken = xml.replace(b"<Description>", b"<Sets/><Description>", 1)
    assert schema_errors(broken, PROJECT_XSD)


# ---------------------------------------------------------------- round trips


def test_project_round_trip_keeps_everything() -> None:
    original = small_project()
    first = import_qdpx(export_qdpx(original))
    assert first.warnings == []
    assert_same(original, first.project)
    assert first.project.description == "测试"
    second = import_qdpx(export_qdpx(first.project))
    assert_same(first.project, second.project)


def test_export_is_deterministic() -> None:
    assert export_qdpx(small_project()) == export_qdpx(small_project())


def test_offsets_survive_chinese_text_and_crlf() -> None:
    project = import_qdpx(export_qdpx(small_project())).project
    text = project.sources["s1"].text
    assert "\r\n" in text
    coding = next(c for c in project.codings if c.code == "tool.design_change")
    assert text[coding.start : coding.end] == "改成玻璃井道"
    loss = next(c for c in project.codings if c.code == "heterogeneity.low_floor_loss")
    assert text[loss.start : loss.end].startswith("一楼采光")
    # the shipped file holds exactly these characters, CR included
    with zipfile.ZipFile(io.BytesIO(export_qdpx(small_project()))) as archive:
        name = f"Sources/{derived_guid('source:s1')}.txt"
        assert archive.read(name).decode("utf-8") == TEXT
    assert project.memos["m1"].text == "项目备忘\r\n第二行"


def test_demo_project_round_trip() -> None:
    original = demo_project()
    first = import_qdpx(export_qdpx(original)).project
    assert_same(original, first)
    assert_same(first, import_qdpx(export_qdpx(first)).project)


def test_codebook_round_trip() -> None:
    codebook, kept, warnings = import_qdc(export_qdc(default_codebook()))
    assert codebook == default_codebook()
    assert kept == {} and warnings == []


def test_history_survives_the_round_trip() -> None:
    project = small_project()
    edited, edit = merge(
        project.codebook, "heterogeneity.technical", "heterogeneity.low_floor_loss"
    )
    project.apply_edit(edited, edit, actor="研究员甲", at=None)
    back = import_qdpx(export_qdpx(project)).project
    assert [h.operation for h in back.history] == ["merge"]
    assert "heterogeneity.technical" not in back.codebook


# ---------------------------------------------------------------- other tools' files

FOREIGN = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Foreign study" origin="OtherTool 3.1">
  <Users><User guid="{11111111-1111-1111-1111-111111111111}" name="Ann"/></Users>
  <CodeBook><Codes>
    <Code guid="22222222-2222-2222-2222-222222222222" name="Obstacles" isCodable="false">
      <Description>Why it stalls</Description>
      <Code guid="33333333-3333-3333-3333-333333333333" name="Light loss" isCodable="true" color="#f00"/>
      <Code guid="44444444-4444-4444-4444-444444444444" name="Cost" isCodable="true">
        <NoteRef targetGUID="55555555-5555-5555-5555-555555555555"/>
      </Code>
    </Code>
  </Codes></CodeBook>
  <Variables><Variable guid="66666666-6666-6666-6666-666666666666" name="floor" typeOfVariable="Integer"/></Variables>
  <Cases><Case guid="77777777-7777-7777-7777-777777777777" name="Flat 101">
    <VariableValue><VariableRef targetGUID="66666666-6666-6666-6666-666666666666"/><IntegerValue>1</IntegerValue></VariableValue>
    <SourceRef targetGUID="88888888-8888-8888-8888-888888888888"/>
  </Case></Cases>
  <Sources>
    <TextSource guid="88888888-8888-8888-8888-888888888888" name="Interview 101" plainTextPath="internal://88888888-8888-8888-8888-888888888888.txt">
      <PlainTextSelection guid="99999999-9999-9999-9999-999999999999" startPosition="2" endPosition="6" creatingUser="11111111-1111-1111-1111-111111111111">
        <Coding guid="aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"><CodeRef targetGUID="33333333-3333-3333-3333-333333333333"/></Coding>
        <Coding guid="abababab-aaaa-aaaa-aaaa-aaaaaaaaaaaa"><CodeRef targetGUID="deadbeef-0000-0000-0000-000000000000"/></Coding>
      </PlainTextSelection>
      <SomethingNew foo="bar"/>
    </TextSource>
    <PictureSource guid="bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb" name="Photo"/>
  </Sources>
  <Notes><Note guid="55555555-5555-5555-5555-555555555555" name="On cost"><PlainTextContent>Cost is shared by floor.</PlainTextContent></Note></Notes>
  <Sets/>
</Project>
"""


def _foreign_qdpx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("project.qde", FOREIGN)
        archive.writestr(
            "Sources/88888888-8888-8888-8888-888888888888.txt", "答：一楼采光差\r\n别的".encode()
        )
    return buffer.getvalue()


def test_import_of_a_minimal_foreign_project_with_nested_codes() -> None:
    result = import_qdpx(_foreign_qdpx())
    p = result.project
    assert p.name == "Foreign study"
    codes = {c.name: c for c in p.codebook}
    assert codes["Light loss"].parent == codes["Obstacles"].id
    assert codes["Cost"].parent == codes["Obstacles"].id
    assert codes["Light loss"].color == "#FF0000"
    assert codes["Obstacles"].definition == "Why it stalls"
    source = next(iter(p.sources.values()))
    (coding,) = p.codings
    assert source.text[coding.start : coding.end] == "一楼采光"
    assert coding.coder == "Ann"
    (case,) = p.cases.values()
    assert case.variables == {"floor": "1"}
    assert source.case_ids == (case.id,)
    (memo,) = p.memos.values()
    assert (memo.target_kind, memo.target) == ("code", codes["Cost"].id)
    assert any("PictureSource" in w for w in result.warnings)
    assert any("no known code" in w for w in result.warnings)


def test_foreign_guids_are_kept_and_a_second_round_trip_is_lossless() -> None:
    first = import_qdpx(_foreign_qdpx()).project
    exported = export_qdpx(first)
    assert b"33333333-3333-3333-3333-333333333333" in _qde(exported)
    if _schemas_present():
        assert schema_errors(_qde(exported), PROJECT_XSD) == []
    second = import_qdpx(exported).project
    assert_same(first, second)
    assert second.guids == first.guids


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a zip", "not one"),
        (b"PK\x05\x06" + b"\x00" * 18, "no project.qde"),
    ],
)
def test_broken_qdpx_files_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        import_qdpx(data)


def test_a_qdpx_with_bad_xml_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("project.qde", "<Project")
    with pytest.raises(BadInput, match="not well-formed"):
        import_qdpx(buffer.getvalue())


def test_a_qdc_holding_a_project_is_refused() -> None:
    with pytest.raises(BadInput, match="CodeBook"):
        import_qdc(FOREIGN.encode())
