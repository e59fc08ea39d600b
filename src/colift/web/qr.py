"""QR codes printed on paper documents, leading a phone to the unit's page.

Drawn by `segno` (a maintained, pure-Python QR library) as inline SVG: no image file, no
network, nothing the page's Content-Security-Policy has to allow. The address is the server's
own (`request.base_url`) unless `COLIFT_PUBLIC_URL` names the address residents reach it at
(behind a proxy the server's own address is not the one a phone can open).
"""

from __future__ import annotations

import io
import os

import segno
from markupsafe import Markup

PUBLIC_URL_ENV = "COLIFT_PUBLIC_URL"


def unit_address(base_url: str, unit_id: int) -> str:
    """The unit page's address a phone opens: COLIFT_PUBLIC_URL or the request's base URL."""
    base = os.environ.get(PUBLIC_URL_ENV, "").strip() or base_url
    return f"{base.rstrip('/')}/units/{unit_id}"


def qr_svg(text: str, scale: int = 3) -> Markup:
    """`text` as an inline SVG QR code (error correction M: survives a smudged print); sized by
    a viewBox, so CSS sets its printed size."""
    code = segno.make(text, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=scale, xmldecl=False, svgns=True, nl=False, border=2, omitsize=True)
    return Markup(out.getvalue().decode())
