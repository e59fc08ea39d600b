"""Reading sources into exact plain text: encodings, CRLF, Markdown, Word, refusals."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from colift.errors import BadInput
from colift.evidence.sources import (
    decode_text,
    guess_kind,
    guess_language,
    read_source,
    source_from_bytes,
    text_from_bytes,
)

TEXT = "问：您家对加装电梯是什么态度？\r\n答：我们不是反对装电梯。\r\n"


def test_utf8_with_and_without_bom_gives_the_same_text() -> None:
    plain = TEXT.encode("utf-8")
    assert decode_text(plain, "a.txt") == TEXT
    assert decode_text(b"\xef\xbb\xbf" + plain, "a.txt") == TEXT


def test_crlf_is_kept_as_two_characters(tmp_path: Path) -> None:
    path = tmp_path / "访谈.txt"
    path.write_bytes(TEXT.encode("utf-8"))
    source = read_source(path)
    assert source.text == TEXT
    assert source.text.count("\r\n") == 2
    start = source.text.index("我们")
    assert source.text[start : start + 2] == "我们"


def test_gb18030_files_are_read(tmp_path: Path) -> None:
    path = tmp_path / "纪要.txt"
    path.write_bytes(TEXT.encode("gb18030"))
    assert read_source(path).text == TEXT


def test_utf16_with_bom() -> None:
    assert decode_text(TEXT.encode("utf-16"), "a.txt") == TEXT


def test_markdown_is_kept_verbatim() -> None:
    md = "# 议事协商会\n\n- **101**：反对现有方案\n"
    assert text_from_bytes(md.encode(), "minutes.md") == md


def test_docx_paragraphs_and_tables() -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("访谈记录：楼栋长")
    document.add_paragraph("问：您怎么当上楼栋长的？")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "602"
    table.cell(0, 1).text = "同意"
    buffer = io.BytesIO()
    document.save(buffer)
    text = text_from_bytes(buffer.getvalue(), "interview.docx")
    assert text == "访谈记录：楼栋长\n问：您怎么当上楼栋长的？\n602\t同意"


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.txt", "no text"),
        (b"  \r\n ", "blank.txt", "no text"),
        (b"\x81\x30", "bad.txt", "neither UTF-8 nor GB18030"),
        (b"abc", "scan.pdf", "save a .pdf file as .txt"),
        (b"not a zip", "notes.docx", "not a readable Word"),
        (b"ab\x00cd", "binary.txt", "binary"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(data: bytes, name: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        text_from_bytes(data, name)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="file not found"):
        read_source(tmp_path / "nope.txt")


def test_kind_language_and_id_are_guessed() -> None:
    source = source_from_bytes("调解 记录".encode(), "1栋2单元 调解记录.txt")
    assert source.kind == "mediation"
    assert source.id == "1栋2单元-调解记录"
    assert guess_kind("minutes-2024.md") == "minutes"
    assert guess_kind("photo.txt") == "other"
    assert guess_language("The meeting agreed.") == "en"
    assert guess_language("会议同意了 plan") == "zh"


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(BadInput, match="unknown source kind"):
        source_from_bytes(b"text", "a.txt", kind="novel")
