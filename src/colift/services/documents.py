"""Printable documents of a unit: willingness survey form, signature sheet, public notice and
cost-sharing agreement, as data for the print templates, and PDFs printed by Chromium.

PDFs come from Debian's `chromium` driven by Playwright (never a downloaded browser); the page's
fonts are embedded, so Chinese prints with the CJK font installed on the machine
(`fonts-wqy-microhei` or `fonts-noto-cjk`).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine

from colift.coproduction.workflow import notice_window
from colift.errors import BadInput, ColiftError
from colift.i18n import Message, msg
from colift.rules.consent import ConsentProfile
from colift.services.registry import get_compound
from colift.services.views import UnitPage, own_page, unit_page
from colift.store.ledger import ChainHead

DOCUMENTS: dict[str, tuple[str, str]] = {
    "survey": ("意愿征询表", "willingness survey form"),
    "signatures": ("业主表决签字表", "consent and signature sheet"),
    "notice": ("加装电梯公示", "public notice"),
    "agreement": ("加装电梯协议", "cost-sharing agreement"),
}

CHROMIUM_ENV = "COLIFT_CHROMIUM"
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


class PrintUnavailable(ColiftError):
    """No Chromium to print a PDF with; the HTML page still prints from the browser."""

    code = "print_unavailable"


@dataclass(frozen=True)
class UnitDocument:
    kind: str
    title_zh: str
    title_en: str
    page: UnitPage
    compound_city: str
    compound_district: str
    compound_street: str
    community: str
    profile: ConsentProfile
    notice_from: date | None
    notice_until: date | None  # last day of the notice, inclusive
    owners: list[dict[str, Any]]  # one line per flat: room, floor, area, owner names, vote, share
    notice_assumptions: tuple[str, ...] = ()  # in Chinese: a calendar year not yet published
    ledger_head: ChainHead | None = None  # printed on the document: paper anchors the record
    redacted: bool = False  # a resident's copy: only their own flat's line
    draft_reason: Message | None = None  # set when the gate is closed: printed as 草稿

    @property
    def issuable(self) -> bool:
        """May this document be posted or signed as it stands (no 草稿 watermark)?"""
        return self.draft_reason is None


def draft_reason(kind: str, page: UnitPage) -> Message | None:
    """Why a document may not be issued yet, or None when its gate is open.

    The 公示 announces a passed vote: before the owners' consent reaches the rule's thresholds
    it is a draft. The agreement fixes everyone's share: without a priced cost plan it is a
    draft. The survey form and the signature sheet are forms to fill in, always issuable.
    """
    if kind == "notice" and not page.consent.result.passed:
        return msg(
            "the owners' consent has not reached the rule's thresholds: this notice may not be posted"
        )
    if kind == "agreement" and page.shares is None:
        return msg("no priced cost plan yet: this agreement may not be signed")
    return None


def unit_document(
    engine: Engine,
    unit_id: int,
    kind: str,
    today: date | None = None,
    only_room: str | None = None,
) -> UnitDocument:
    """The data a document prints. `only_room` is a resident's copy: the flats' lines hold only
    that room (other households' names, votes and amounts never reach the template)."""
    if kind not in DOCUMENTS:
        raise BadInput(
            "no document {kind}: choose one of {DOCUMENTS}",
            kind=repr(kind),
            DOCUMENTS=", ".join(DOCUMENTS),
        )
    page = unit_page(engine, unit_id, today)
    compound = get_compound(engine, page.compound_code)
    profile = page.consent.result.profile  # the rule the page counted under, as resolved
    reason = draft_reason(kind, page)
    opened = page.project.notice_opened_on
    if opened is None and kind == "notice" and reason is None:
        opened = page.today
    until = None
    assumptions: tuple[str, ...] = ()
    if opened is not None:
        window = notice_window(profile, opened)
        until = window.last_day
        assumptions = tuple(m.render("zh-CN") for m in window.assumptions)
    shares = {line.id: line for line in (page.shares.lines if page.shares else ())}
    owners = []
    for floor in reversed(page.floors):
        for flat in floor:
            names = [p.name for p in flat.residents if p.owner_id is not None] or [
                p.name for p in flat.residents
            ]
            share = shares.get(flat.room)
            owners.append(
                {
                    "room": flat.room,
                    "floor": flat.floor,
                    "area_m2": flat.area_m2,
                    "owner": "、".join(names),
                    "vote": flat.vote,
                    "fen": share.fen if share else None,
                    "compensation_fen": share.compensation_fen if share else 0,
                    "net_fen": share.net_fen if share else None,
                    "running_fen": share.running_fen if share else None,
                    "instalments": [
                        {"name": n, "fen": f} for n, f in (share.instalments if share else ())
                    ],
                    "funding": share.funding if share else None,
                }
            )
    if only_room is not None:
        owners = [o for o in owners if o["room"] == only_room]
        page = own_page(page, only_room)
    zh, en = DOCUMENTS[kind]
    return UnitDocument(
        kind=kind,
        title_zh=zh,
        title_en=en,
        page=page,
        compound_city=compound.city,
        compound_district=compound.district,
        compound_street=compound.street,
        community=compound.community,
        profile=profile,
        notice_from=opened,
        notice_until=until,
        notice_assumptions=assumptions,
        owners=owners,
        ledger_head=page.ledger_head,
        redacted=only_room is not None,
        draft_reason=reason,
    )


def chromium_path() -> str | None:
    """Debian's chromium (or $COLIFT_CHROMIUM); None when none is installed."""
    configured = os.environ.get(CHROMIUM_ENV)
    candidates = [configured] if configured else list(CHROMIUM_PATHS)
    for path in candidates:
        if path and os.path.exists(path):
            return path
    found = shutil.which("chromium")
    return found


def document_pdf(html: str, base_url: str = "http://127.0.0.1/") -> bytes:
    """Print `html` (self-contained: styles inline) to an A4 PDF with the process's one shared
    Chromium (`services/pdfpool.py`): cached by the HTML's hash, refused with `PrintBusy` when
    the pool's queue is full. `base_url` is kept for callers; the documents link nothing."""
    executable = chromium_path()
    if executable is None:
        raise PrintUnavailable(
            "Chromium is not installed on the server (apt-get install chromium): print the page from the browser instead"
        )
    from colift.services.pdfpool import shared_pool

    return shared_pool(executable).render(html)
