"""One exception family. Every message is written for the community worker who reads it.

A message is an English template with named parameters, translated through the catalog
(`colift.i18n`): `RuleViolation("round {round} is still open", round=8)`. Adapters show it
with `render(lang)` (pages, API) or `bilingual()` (command line).
"""

from __future__ import annotations

from collections.abc import Sequence

from colift.i18n import Message, bilingual, msg


class ColiftError(Exception):
    """Base of every error colift raises on purpose; its message is shown to the user."""

    code = "error"
    # Technical detail (the rule's reasoning in English, an id, exception text): pages show it
    # behind a "详情" disclosure, never in the message itself.
    detail: str = ""

    def __init__(self, message: str | Message, /, **params: object) -> None:
        self.text = message if isinstance(message, Message) else msg(message, **params)
        # Both languages, as before the catalog: adapters that know the reader's language
        # call `render(lang)` instead.
        self.message = bilingual(self.text)
        super().__init__(self.message)

    def render(self, lang: str) -> str:
        """The message in `lang` ("zh-CN" or "en")."""
        return self.text.render(lang)


class BadInput(ColiftError):
    """The input (a file, a form, a JSON body) is wrong in a way the user can fix."""

    code = "bad_input"


class NotFound(ColiftError):
    """A compound, unit, household or profile that was named does not exist."""

    code = "not_found"


class RuleViolation(ColiftError):
    """An action the rules forbid, e.g. a stage transition whose gate is closed."""

    code = "rule_violation"


class RowError(BadInput):
    """A file was rejected; `errors` lists every (row, column, message) found."""

    code = "bad_rows"

    def __init__(
        self,
        message: str | Message,
        errors: Sequence[tuple[int, str, str | Message]],
        /,
        **params: object,
    ) -> None:
        super().__init__(message, **params)
        self.errors = list(errors)
