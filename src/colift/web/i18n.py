"""The page's language: zh-CN by default, English switchable by link or cookie.

The catalog itself (messages, translations) is `colift.i18n`, shared with the API and the
command line.
"""

from __future__ import annotations

from colift.i18n import DEFAULT_LANGUAGE, LANGUAGES, gettext_for, normalize, translations

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANG_COOKIE",
    "gettext_for",
    "normalize",
    "pick",
    "translations",
]

LANG_COOKIE = "colift_lang"


def pick(query: str | None, cookie: str | None, accept: str | None) -> str:
    """The page language: ?lang= first, then the cookie, then zh-CN (the users' language).

    Accept-Language is not consulted: community office PCs often run English-language browsers.
    """
    for choice in (query, cookie):
        if choice:
            return normalize(choice)
    return DEFAULT_LANGUAGE
