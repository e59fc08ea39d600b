"""One exception family. Every message is written for the community worker who reads it."""

from __future__ import annotations


class ColiftError(Exception):
    """Base of every error colift raises on purpose; its message is shown to the user as is."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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

    def __init__(self, message: str, errors: list[tuple[int, str, str]]) -> None:
        super().__init__(message)
        self.errors = errors
