"""Phone and ID numbers encrypted at rest, and masked where the full number is not needed.

Cipher. AES-SIV (RFC 5297) from `cryptography`, the maintained binding of OpenSSL that Python's
ecosystem relies on; nothing here is home-made. AES-SIV is an authenticated cipher that is
*deterministic*: the same number under the same key gives the same ciphertext. That is what the
registry needs — an owner is identified by (compound, name, phone) under a unique index, and a
roster re-import finds the owner by that identity — and Fernet or AES-GCM, with their random
nonces, would break both. What it gives away is only equality (two rows with the same number
are seen to match), never the number. A stored value reads `enc1:` + base64url(SIV ‖ ciphertext);
a value without the prefix is a number stored before encryption and is read as it is (the next
write of that row encrypts it).

Key. 64 random bytes (AES-256-SIV), as 128 hex characters, first found wins:

1. `COLIFT_DATA_KEY`: the key itself;
2. `COLIFT_DATA_KEY_FILE`: a file holding it;
3. `$XDG_CONFIG_HOME/colift/data.key` (default `~/.config/colift/data.key`), created with a
   random key (mode 0600) the first time colift writes a number without a key configured.

Make one with `python -c "import secrets; print(secrets.token_hex(64))"`. The key is never in
the database or its backups: keep it beside the ledger key, and back it up apart from the data
— without it, the numbers cannot be read. A wrong key is named, not guessed around.
"""

from __future__ import annotations

import base64
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from colift.errors import BadInput
from colift.i18n import msg
from colift.store import keyfiles

KEY_ENV = "COLIFT_DATA_KEY"
KEY_FILE_ENV = "COLIFT_DATA_KEY_FILE"
KEY_HEX = 128  # 64 bytes: AES-256-SIV
PREFIX = "enc1:"
_CONTEXT = [b"colift personal data v1"]
_found: dict[tuple[str, str], DataKey] = {}


@dataclass(frozen=True)
class DataKey:
    secret: bytes
    source: str

    def cipher(self) -> AESSIV:
        return _cipher(self.secret)


@functools.lru_cache(maxsize=8)
def _cipher(secret: bytes) -> AESSIV:
    """One cipher object per key (a page decrypts a number per resident)."""
    return AESSIV(secret)


def default_key_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME", "").strip()
    root = Path(base) if base else Path.home() / ".config"
    return root / "colift" / "data.key"


def key_path() -> Path:
    env = os.environ
    return _key_path(
        env.get(KEY_FILE_ENV, ""), env.get("XDG_CONFIG_HOME", ""), env.get("HOME", "")
    )


@functools.lru_cache(maxsize=8)
def _key_path(_file: str, _config: str, _home: str) -> Path:
    """`key_path` for these settings, worked out once (each decryption asks for it)."""
    return keyfiles.key_file_path(KEY_FILE_ENV, default_key_path())


def _checked(text: str, source: str) -> DataKey:
    value = text.strip()
    if not re.fullmatch(r"[0-9a-fA-F]{" + str(KEY_HEX) + "}", value):
        raise BadInput(
            "the data key from {source} must be {count} hex characters: make one with "
            'python -c "import secrets; print(secrets.token_hex(64))"',
            source=source,
            count=KEY_HEX,
        )
    return DataKey(bytes.fromhex(value), source)


def data_key(*, create: bool = False) -> DataKey | None:
    """The configured key; with `create`, a key file is made when none is configured."""
    return keyfiles.load_key(
        KEY_ENV,
        key_path(),
        _checked,
        _found,
        create=create,
        hex_bytes=64,
        cannot_read=msg("cannot read the data key file {path}: {problem}"),
        cannot_create=msg(
            "cannot create the data key file {path} ({problem}): set COLIFT_DATA_KEY or COLIFT_DATA_KEY_FILE"
        ),
    )


def encrypt(value: str) -> str:
    """The stored form of a phone or ID number ("" stays "")."""
    if not value:
        return ""
    key = data_key(create=True)
    assert key is not None
    sealed = key.cipher().encrypt(value.encode("utf-8"), _CONTEXT)
    return PREFIX + base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def decrypt(stored: str) -> str:
    """The number from its stored form; a value stored before encryption reads as it is."""
    if not stored.startswith(PREFIX):
        return stored
    key = data_key()
    if key is None:
        raise BadInput(
            "phone and ID numbers are encrypted but no data key is configured: set "
            "COLIFT_DATA_KEY or COLIFT_DATA_KEY_FILE to the key they were written with"
        )
    raw = stored[len(PREFIX) :]
    try:
        sealed = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        return key.cipher().decrypt(sealed, _CONTEXT).decode("utf-8")
    except (InvalidTag, ValueError):
        raise BadInput(
            "a stored phone or ID number does not open with the data key from {source}: "
            "is it the key the data was written with?",
            source=key.source,
        ) from None


def mask_phone(phone: str) -> str:
    """138****5678: the first three and last four digits; short numbers show the last two."""
    value = phone.strip()
    if not value or "*" in value:
        return value
    if len(value) >= 8:
        return value[:3] + "****" + value[-4:]
    return "*" * max(0, len(value) - 2) + value[-2:]


def mask_id_number(number: str) -> str:
    """370***********1234: the region's first three and the last four characters."""
    value = number.strip()
    if not value or "*" in value:
        return value
    if len(value) <= 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
