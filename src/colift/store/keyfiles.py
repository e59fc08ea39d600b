"""Where a secret key comes from: an environment variable, else a key file, made on first use.

The ledger's seal key (store/ledger_key.py) and the personal-data key (store/personal.py) are
found the same way; only their checks and their messages differ, so each passes its own.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from colift.errors import BadInput
from colift.i18n import Message

K = TypeVar("K")


def key_file_path(file_env: str, default: Path) -> Path:
    """`$file_env` if set (with ~ expanded), else `default`."""
    configured = os.environ.get(file_env, "").strip()
    return Path(configured).expanduser() if configured else default


def load_key(
    env: str,
    path: Path,
    checked: Callable[[str, str], K],
    cache: dict[tuple[str, str], K],
    *,
    create: bool,
    hex_bytes: int,
    cannot_read: Message,
    cannot_create: Message,
) -> K | None:
    """The key from `$env`, else from `path` (made with `hex_bytes` random bytes in hex when
    `create`), checked by `checked(text, source)` and kept in `cache`: an append or a write does
    not read the file each time. `cannot_read` / `cannot_create` are the messages, without
    their parameters `path` and `problem`."""
    given = os.environ.get(env, "")
    where = (given, str(path))
    if where in cache:
        return cache[where]
    if given.strip():
        key = checked(given, env)
    else:
        try:
            key = checked(path.read_text(encoding="utf-8"), str(path))
        except FileNotFoundError:
            if not create:
                return None
            _create(path, hex_bytes, cannot_create)
            key = checked(path.read_text(encoding="utf-8"), str(path))
        except OSError as exc:
            raise BadInput(cannot_read.template, path=path, problem=exc.strerror) from None
    cache[where] = key
    return key


def _create(path: Path, hex_bytes: int, cannot_create: Message) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # O_EXCL: two processes starting at once cannot each write their own key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process made it first: read theirs
    except OSError as exc:
        raise BadInput(cannot_create.template, path=path, problem=exc.strerror) from None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secrets.token_hex(hex_bytes) + "\n")
