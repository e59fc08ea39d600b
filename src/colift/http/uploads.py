"""Uploads through the web pages and the API: one size limit, one way to read within it."""

from __future__ import annotations

from typing import BinaryIO

from colift.errors import BadInput

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class TooLarge(BadInput):
    """An upload over MAX_UPLOAD_BYTES (HTTP 413)."""

    code = "too_large"


def read_upload(file: BinaryIO) -> bytes:
    """The file's bytes, refusing anything over the limit without reading all of it."""
    data = file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise TooLarge("the file is over 5 MB")
    return data
