"""The ledger key: a secret kept outside the database that seals every ledger entry.

Anyone can compute SHA-256, so a person who can write the database could append an entry
that links correctly to the chain. The seal, an HMAC-SHA256 of the entry's hash under this key,
is what such a person cannot make: `colift ledger verify` names an entry whose seal does not
match as forged. The key is never stored in the database (a backup does not carry it either).

Where the key comes from, first found wins:

1. `COLIFT_LEDGER_KEY`: the key itself, at least 32 characters (e.g. `openssl rand -hex 32`);
2. `COLIFT_LEDGER_KEY_FILE`: a file holding it;
3. `$XDG_CONFIG_HOME/colift/ledger.key` (default `~/.config/colift/ledger.key`), created with
   a random key (mode 0600) the first time colift writes a ledger entry without a key.

The stdlib's `hmac` and `secrets` do the cryptography; nothing here is home-made.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from colift.errors import BadInput
from colift.i18n import msg
from colift.store import keyfiles

KEY_ENV = "COLIFT_LEDGER_KEY"
KEY_FILE_ENV = "COLIFT_LEDGER_KEY_FILE"
MIN_KEY_CHARS = 32
_ID_PREFIX = b"colift ledger key id\n"


@dataclass(frozen=True)
class LedgerKey:
    """A sealing key and where it came from; `key_id` names it without revealing it."""

    secret: bytes
    source: str

    @property
    def key_id(self) -> str:
        return hashlib.sha256(_ID_PREFIX + self.secret).hexdigest()[:8]

    def seal(self, entry_hash: str) -> str:
        """The seal of one entry: the key id and HMAC-SHA256(key, hash)."""
        mac = hmac.new(self.secret, entry_hash.encode("ascii"), hashlib.sha256).hexdigest()
        return f"{self.key_id}:{mac}"

    def check(self, entry_hash: str, seal: str) -> bool:
        return hmac.compare_digest(self.seal(entry_hash), seal)


def default_key_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME", "").strip()
    root = Path(base) if base else Path.home() / ".config"
    return root / "colift" / "ledger.key"


def key_path() -> Path:
    """The file the key is read from (or created in) when `COLIFT_LEDGER_KEY` is not set."""
    return keyfiles.key_file_path(KEY_FILE_ENV, default_key_path())


def _checked(text: str, source: str) -> LedgerKey:
    secret = text.strip()
    if len(secret) < MIN_KEY_CHARS:
        raise BadInput(
            "the ledger key from {source} is shorter than {n} characters: "
            "make one with `openssl rand -hex 32`",
            source=source,
            n=MIN_KEY_CHARS,
        )
    return LedgerKey(secret.encode("utf-8"), source)


# Keys found, by where they were looked for: an append does not read the file each time.
_found: dict[tuple[str, str], LedgerKey] = {}


def load_key(*, create: bool = False) -> LedgerKey | None:
    """The configured ledger key; with `create`, a new key file is made if there is none."""
    return keyfiles.load_key(
        KEY_ENV,
        key_path(),
        _checked,
        _found,
        create=create,
        hex_bytes=32,
        cannot_read=msg("cannot read the ledger key file {path}: {problem}"),
        cannot_create=msg(
            "cannot create the ledger key file {path} ({problem}): set COLIFT_LEDGER_KEY or COLIFT_LEDGER_KEY_FILE"
        ),
    )
