"""What a user reads, in their language: messages from one catalog, names from the model.

A sentence is a `Message`: an English template (the catalog's message id) with named
parameters, rendered in a language at the edge — Chinese on zh-CN pages, English on English
pages, both on the command line. A domain name (a stage, a vote, a rule, a tool, a role) is a
`Label` from the model's names tables, so a parameter renders in the same language as its
sentence. The catalog is `locale/zh_CN/LC_MESSAGES/messages.po`, written by `tools/zh_cn.py`
and compiled in memory at start-up with Babel (no build step).

    raise RuleViolation("round {round} is still open for this unit: close it first", round=8)

Pure: no I/O beyond reading the packaged catalog once.
"""

from __future__ import annotations

import gettext
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LEGACY_SPLIT = " / "


def normalize(lang: str | None) -> str:
    """One of LANGUAGES: "en", "en-US" → "en"; anything else → zh-CN."""
    if lang and lang.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of `lang`; English is the message ids themselves."""
    if normalize(lang) == "en":
        return gettext.NullTranslations()
    po = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale="zh_CN")
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def gettext_for(lang: str) -> gettext.NullTranslations:
    return translations(normalize(lang))


@dataclass(frozen=True)
class Label:
    """A name in both languages, from one of the model's names tables."""

    zh: str
    en: str

    def render(self, lang: str) -> str:
        return self.en if normalize(lang) == "en" else self.zh

    def __str__(self) -> str:
        return self.en


@dataclass(frozen=True)
class Message:
    """A sentence for a user: an English template (a catalog id) and its named parameters.

    Parameters that are `Label`s or `Message`s render in the sentence's language; anything
    else is shown with `str()`. A template without parameters is shown as written (braces
    included).
    """

    template: str
    params: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    def render(self, lang: str) -> str:
        lang = normalize(lang)
        translated = translations(lang).gettext(self.template)
        if translated == self.template:
            translated = legacy_side(self.template, lang)
        if not self.params:
            return translated
        values = {name: render(value, lang) for name, value in self.params.items()}
        return translated.format_map(values)

    def __str__(self) -> str:
        return self.render("en")


def msg(template: str, /, **params: object) -> Message:
    """A `Message`; the name is also the extraction keyword `tools/zh_cn.py` looks for."""
    return Message(template, MappingProxyType(dict(params)))


def render(value: object, lang: str) -> str:
    """`value` as a user reads it in `lang`; an older "中文 / English" string shows one side."""
    if isinstance(value, Message | Label):
        return value.render(lang)
    return legacy_side(str(value), lang)


# A word a Chinese reader would have to read in English (formats and units are not words).
_ENGLISH_WORD = re.compile(r"(?<![A-Za-z])(?!(?:PDF|CSV|Excel|QR|ID|API)\b)[A-Za-z]{3,}")
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _english_in(value: object, lang: str) -> bool:
    """Whether `value` in `lang` makes its reader read English: its wording, a name it gives;
    a plain parameter (a room, a name the user typed) is the user's own data."""
    if isinstance(value, Label):  # 「…」 quotes a field's name or the user's input
        return bool(_ENGLISH_WORD.search(re.sub(r"「[^」]*」", "", value.render(lang))))
    if isinstance(value, Message):
        wording = translations(lang).gettext(value.template)
        if wording == value.template:
            wording = legacy_side(value.template, lang)
        if value.params:
            wording = re.sub(r"\{[A-Za-z_0-9]+\}", " ", wording)
        return bool(_ENGLISH_WORD.search(wording)) or any(
            _english_in(v, lang) for v in value.params.values() if isinstance(v, Label | Message)
        )
    return bool(_ENGLISH_WORD.search(render(value, lang)))


def for_reader(value: object, lang: str) -> tuple[str, str]:
    """What a page shows for `value` in `lang`, and the technical detail behind "详情" ("" if none).

    A Chinese reader never gets an English sentence or a raw id in the message itself: a message
    whose Chinese still carries English words (an untranslated template, exception text, an
    id) shows its Chinese beginning, or a note that it is untranslated, and the whole wording
    goes behind the disclosure.
    """
    lang = normalize(lang)
    text = render(value, lang)
    if lang == "en" or not _english_in(value, lang):
        return text, ""
    first = _ENGLISH_WORD.search(text)
    head = text[: first.start()].rstrip(" ：:；;，,（(/-·") if first else text
    if len(_CJK_RUN.findall(head)) >= 4:
        return head, text
    untranslated = msg(
        "This message is not yet in Chinese; its original wording is under the details."
    )
    return untranslated.render(lang), text


def bilingual(value: object) -> str:
    """Chinese and English together, for the command line: "中文 / English" (once if equal)."""
    zh, en = render(value, "zh-CN"), render(value, "en")
    return zh if zh == en else f"{zh} / {en}"


def legacy_side(text: str, lang: str) -> str:
    """One side of an older "中文 / English" string; other text unchanged.

    Such strings predate the catalog; they are being rewritten as templates. Only a split
    with Chinese on the left and none on the right is taken as bilingual.
    """
    if _LEGACY_SPLIT not in text:
        return text
    left, _, right = text.partition(_LEGACY_SPLIT)
    if not _CJK.search(left) or _CJK.search(right):
        return text
    return right if normalize(lang) == "en" else left
