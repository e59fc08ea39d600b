"""Which passwords colift refuses: too short, too long, among the commonest, or the username.

The list of the commonest passwords is a packaged text file of a few hundred entries
(`common_passwords.txt`): a guesser tries these first, and a delay between sign-in attempts
(services/accounts.py) does not help a password that falls on the tenth guess.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from colift.errors import BadInput

MIN_PASSWORD = 8
MAX_PASSWORD = 256  # argon2 hashes any length; this bounds the work one request can ask for


@cache
def common_passwords() -> frozenset[str]:
    text = files("colift.model").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def check_password(password: str, username: str = "") -> None:
    """Refuse a password colift would not protect well, with a reason the person can act on."""
    if len(password) < MIN_PASSWORD:
        raise BadInput("a password needs at least {count} characters", count=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        raise BadInput("a password may have at most {count} characters", count=MAX_PASSWORD)
    if "\x00" in password:
        raise BadInput("a password cannot contain a NUL character")
    lowered = password.lower()
    if lowered in common_passwords() or lowered.rstrip("!.1") in common_passwords():
        raise BadInput("this password is one of the commonest and is guessed first: choose another")
    name = username.strip().lower()
    if len(name) >= 3 and (name in lowered or name[::-1] in lowered):
        raise BadInput("a password must not contain the username")
