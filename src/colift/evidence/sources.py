"""Reading sources into exact plain text: .txt, .md and .docx, Chinese or English.

The text a source keeps is the text its codings point into, so nothing here normalises it:
CRLF stays two characters, full-width punctuation stays as written. Only a UTF-8 byte-order
mark is dropped (it is an encoding marker, not a character of the record).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from colift.errors import BadInput
from colift.evidence.model import Source

TEXT_SUFFIXES = (".txt", ".text", ".md", ".markdown")
DOCX_SUFFIXES = (".docx",)
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + DOCX_SUFFIXES

# Words in a file name that say what kind of record it is.
_KIND_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("mediation", ("调解", "mediation")),
    ("minutes", ("纪要", "会议", "议事", "minutes", "meeting")),
    ("chat", ("聊天", "群聊", "微信", "chat", "wechat")),
    ("interview", ("访谈", "采访", "interview")),
)
SOURCE_KINDS = ("interview", "minutes", "mediation", "chat", "other")

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def decode_text(data: bytes, name: str) -> str:
    """Bytes of a text file as exact text: UTF-8 (with or without BOM), UTF-16 with BOM, GB18030."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise BadInput(
                "{name}: starts like UTF-16 but cannot be decoded as UTF-16", name=name
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise BadInput(
            "{name}: is neither UTF-8 nor GB18030 text; save it as UTF-8 and import it again",
            name=name,
        ) from None


def docx_text(data: bytes, name: str) -> str:
    """The paragraphs (and table cells, row by row) of a Word file, one per line."""
    import docx
    from docx.oxml.ns import qn

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise BadInput(
            "{name}: not a readable Word (.docx) file ({exc})", name=name, exc=exc
        ) from None
    lines: list[str] = []
    for block in document.element.body.iterchildren():
        if block.tag == qn("w:p"):
            lines.append(_paragraph_text(block))
        elif block.tag == qn("w:tbl"):
            for row in block.iter(qn("w:tr")):
                cells = [
                    "".join(_paragraph_text(p) for p in cell.iter(qn("w:p")))
                    for cell in row.iter(qn("w:tc"))
                ]
                lines.append("\t".join(cells))
    return "\n".join(lines)


def _paragraph_text(paragraph: object) -> str:
    from docx.oxml.ns import qn

    parts: list[str] = []
    for node in paragraph.iter():  # type: ignore[attr-defined]
        if node.tag == qn("w:t"):
            parts.append(node.text or "")
        elif node.tag == qn("w:tab"):
            parts.append("\t")
        elif node.tag in (qn("w:br"), qn("w:cr")):
            parts.append("\n")
    return "".join(parts)


def read_text(path: str | Path) -> str:
    """A source file's exact plain text; BadInput when it is missing, empty or unsupported."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise BadInput(
            "{name}: colift reads sources as {SUPPORTED_SUFFIXES}; save a {suffix} file as .txt or .docx first",
            name=path.name,
            SUPPORTED_SUFFIXES=", ".join(SUPPORTED_SUFFIXES),
            suffix=suffix or "suffix-less",
        )
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInput("file not found: {path}", path=path) from None
    except OSError as exc:
        raise BadInput(
            "cannot read {path}: {strerror}", path=path, strerror=exc.strerror or exc
        ) from None
    return text_from_bytes(data, path.name)


def text_from_bytes(data: bytes, name: str) -> str:
    """Exact plain text of an uploaded file named `name` (its suffix picks the reader)."""
    suffix = Path(name).suffix.lower()
    if suffix in DOCX_SUFFIXES:
        text = docx_text(data, name)
    elif suffix in TEXT_SUFFIXES:
        if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise BadInput("{name}: looks like a binary file, not text", name=name)
        text = decode_text(data, name)
    else:
        raise BadInput(
            "{name}: colift reads sources as {SUPPORTED_SUFFIXES}; save a {suffix} file as .txt or .docx first",
            name=name,
            SUPPORTED_SUFFIXES=", ".join(SUPPORTED_SUFFIXES),
            suffix=suffix or "suffix-less",
        )
    if not text.strip():
        raise BadInput("{name}: the file has no text to code", name=name)
    bad = NOT_TEXT.search(text)
    if bad is not None:
        raise BadInput(
            "{name}: character {at} is a control character, not text; remove it and import again",
            name=name,
            at=bad.start() + 1,
        )
    return text


# C0 controls but tab, newline and return, and the two non-characters XML 1.0 forbids: a source
# holding one could never be exported as REFI-QDA (XML)
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def guess_kind(name: str) -> str:
    """interview / minutes / mediation / chat / other, from words in the file name."""
    lowered = name.lower()
    for kind, words in _KIND_WORDS:
        if any(w in lowered for w in words):
            return kind
    return "other"


def guess_language(text: str) -> str:
    """ "zh" when Chinese characters outnumber Latin letters, else "en"."""
    return "zh" if len(_CJK.findall(text)) >= len(_LATIN.findall(text)) else "en"


def source_id_for(name: str) -> str:
    """A stable id from a file name: its stem, spaces and slashes replaced, at most 120 chars."""
    stem = Path(name).stem.strip()
    cleaned = re.sub(r"[\s/\\:]+", "-", stem).strip("-")
    if not cleaned:
        raise BadInput(
            "{name}: cannot make a source id from this file name; pass one", name=repr(name)
        )
    return cleaned[:120]


def source_from_bytes(
    data: bytes,
    filename: str,
    *,
    source_id: str | None = None,
    name: str | None = None,
    kind: str | None = None,
    language: str | None = None,
) -> Source:
    """A `Source` from an uploaded file; kind and language guessed when not given."""
    text = text_from_bytes(data, filename)
    if kind is not None and kind not in SOURCE_KINDS:
        raise BadInput(
            "unknown source kind {kind}; use one of {SOURCE_KINDS}",
            kind=repr(kind),
            SOURCE_KINDS=", ".join(SOURCE_KINDS),
        )
    return Source(
        id=source_id or source_id_for(filename),
        name=name or Path(filename).stem,
        text=text,
        kind=kind or guess_kind(filename),
        language=language or guess_language(text),
    )


def read_source(
    path: str | Path,
    *,
    source_id: str | None = None,
    name: str | None = None,
    kind: str | None = None,
    language: str | None = None,
) -> Source:
    """A `Source` from a .txt, .md or .docx file, its text exact."""
    path = Path(path)
    text = read_text(path)
    if kind is not None and kind not in SOURCE_KINDS:
        raise BadInput(
            "unknown source kind {kind}; use one of {SOURCE_KINDS}",
            kind=repr(kind),
            SOURCE_KINDS=", ".join(SOURCE_KINDS),
        )
    return Source(
        id=source_id or source_id_for(path.name),
        name=name or path.stem,
        text=text,
        kind=kind or guess_kind(path.name),
        language=language or guess_language(text),
    )
