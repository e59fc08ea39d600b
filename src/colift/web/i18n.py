"""UI languages through gettext catalogs: zh-CN by default, English switchable.

Message ids are English; `locale/zh_CN/LC_MESSAGES/messages.po` translates them. The .po file is
compiled in memory at start-up with Babel, so no build step is needed to run. Domain labels
(stages, stances, votes, roles, tools) come from the model's own zh/en names, not the catalog.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
LANG_COOKIE = "colift_lang"


def normalize(lang: str | None) -> str:
    """One of LANGUAGES: "en", "en-US" → "en"; anything else → zh-CN."""
    if lang and lang.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


def pick(query: str | None, cookie: str | None, accept: str | None) -> str:
    """The page language: ?lang= first, then the cookie, then zh-CN (the users' language).

    Accept-Language is not consulted: community office PCs often run English-language browsers.
    """
    for choice in (query, cookie):
        if choice:
            return normalize(choice)
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
