"""What the ledger records beyond votes: the registry facts a tally reads, corrections as new
entries, a unit's evidence file checked offline by the standalone verifier, and the erasure of
a person's free text that leaves the chain verifiable."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from colift.model import OwnerKind, Tenure
from colift.services.consent import unit_by_label, unit_consent
from colift.services.ledger import erase_household_text, export_unit, verify_ledger
from colift.store import UnitOfWork
from colift.store.tables import households, ledger_texts, objections, owners
from demo_db import BACKENDS, DemoCopies, demo_copies
from factories import make_unit

VERIFIER = Path(__file__).resolve().parents[2] / "docs" / "verify_export.py"
ACTOR = "居委会"


def test_registry_writes_go_to_the_compound_chain(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        unit = make_unit(uow, flats=4)
        uow.commit()
        compound = unit.compound.id
        log = uow.ledger.history(chain=f"compound:{compound}")
    actions = [e.action for e in log]
    assert actions[:3] == ["compound.add", "building.add", "unit.add"]
    assert actions.count("household.add") == 4 and actions.count("owner.add") == 4
    owner_entry = next(e for e in log if e.action == "owner.add")
    assert "业主" not in json.dumps(owner_entry.payload, ensure_ascii=False)  # names: kept text
    flat = next(e for e in log if e.action == "household.add")
    assert flat.unit_id == unit.unit.id and set(flat.payload) >= {"area_cm2", "tenure", "owner_id"}
    assert verify_ledger(engine).ok


def test_corrections_are_new_entries_and_still_verify(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        unit = make_unit(uow, flats=6)
        flat = unit.by_room("301")
        assert flat.id is not None and unit.unit.id is not None
        changed = uow.households.update(
            flat.id, actor=ACTOR, area_m2=Decimal("90.5"), tenure=Tenure.RENTED
        )
        same = uow.households.update(flat.id, actor=ACTOR, area_m2=Decimal("90.5"))
        other = unit.owners[0]
        assert other.id is not None
        moved = uow.households.update(flat.id, actor=ACTOR, owner_id=other.id)
        renamed = uow.owners.update(other.id, actor=ACTOR, name="王建华（更正）")
        developer = uow.owners.update(other.id, actor=ACTOR, kind=OwnerKind.DEVELOPER)
        uow.commit()
        updates = uow.ledger.history(subject=f"household:{flat.id}")
    assert changed.area_m2 == Decimal("90.5") and same == changed and moved.owner_id == other.id
    assert renamed.name == "王建华（更正）" and developer.kind is OwnerKind.DEVELOPER
    assert [e.action for e in updates] == ["household.add", "household.update", "household.update"]
    assert updates[1].payload["set"] == {"area_cm2": 905000, "tenure": "rented"}
    assert updates[1].payload["was"]["tenure"] == "owner_occupied"
    assert verify_ledger(engine).ok  # owner heads moved with the owner, as the ledger implies


def test_edits_of_registry_facts_behind_colifts_back_are_named(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        unit = make_unit(uow, flats=12)
        uow.commit()
    flat = unit.by_room("601")
    with engine.begin() as conn:
        conn.execute(update(owners).where(owners.c.id == flat.owner_id).values(name="别人"))
    report = verify_ledger(engine)
    assert report.problem is not None and report.problem.table == "owners"
    assert report.problem.table_says == "别人"
    with engine.begin() as conn:
        conn.execute(
            update(owners).where(owners.c.id == flat.owner_id).values(name=unit.owners[-1].name)
        )
        # 602 belongs to the owner of 601: flipping its head makes one buyer two owners.
        conn.execute(
            update(households).where(households.c.id == unit.by_room("602").id).values(owner_head=1)
        )
    report = verify_ledger(engine)
    assert report.problem is not None and report.problem.table == "households"
    assert "owner_head" in report.message


# --- on a copy of the demo -------------------------------------------------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoCopies]:
    with demo_copies(request, tmp_path_factory, str(request.param)) as copies:
        yield copies


def _verifier(path: Path, *heads: str) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-I", str(VERIFIER), str(path)]
    for head in heads:
        args += ["--head", head]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def test_a_units_evidence_file_checks_out_without_colift(demo: DemoCopies, tmp_path: Path) -> None:
    engine = demo.make_copy()
    unit = unit_by_label(engine, demo.code, "2-1")
    printed = unit_consent(engine, unit.id)  # anything; the head is taken next
    with UnitOfWork(engine) as uow:
        (head,) = uow.ledger.heads()
    evidence = export_unit(engine, demo.code, unit.id)
    assert printed and evidence.head == head
    data = evidence.data
    assert data["unit"]["label"] == "2栋1单元" and len(data["links"]) == head.seq
    actions = {e["action"] for e in data["entries"]}
    assert {"unit.add", "household.add", "round.open", "ballot.set", "owner.add"} <= actions
    assert all(e["unit"] in (unit.id, None) for e in data["entries"])
    path = tmp_path / "2-1.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    good = _verifier(path, head.hash)
    assert good.returncode == 0, good.stderr
    assert "check out" in good.stdout and "1 printed heads found" in good.stdout
    # A changed vote, a head the chain never had, a changed link: each fails offline.
    ballot = next(e for e in data["entries"] if e["action"] == "ballot.set")
    ballot["payload"]["vote"] = "agree" if ballot["payload"]["vote"] != "agree" else "disagree"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    bad = _verifier(changed)
    assert bad.returncode == 1 and f"entry {ballot['seq']}" in bad.stderr
    assert _verifier(path, "f" * 64).returncode == 1
    data = json.loads(path.read_text(encoding="utf-8"))
    data["links"][3] = "0" * 64
    path.write_text(json.dumps(data), encoding="utf-8")
    assert "do not lead to the head" in _verifier(path).stderr


def test_the_export_command_writes_json_and_a_pdf(demo: DemoCopies, tmp_path: Path) -> None:
    from colift.services.documents import chromium_path

    if demo.backend != "sqlite":
        pytest.skip("the command is the same on both databases")
    engine = demo.make_copy()
    url = engine.url.render_as_string(hide_password=False)
    out = tmp_path / "3-1.json"
    pdf = chromium_path() is not None
    args = ["ledger", "export", "--unit", "3-1", "-c", demo.code, "-d", url, "-o", str(out)]
    # A process of its own, as a worker runs it (and away from this session's browser).
    done = subprocess.run(
        [sys.executable, "-m", "colift.cli", *args, *([] if pdf else ["--no-pdf"])],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "3栋1单元" in done.stdout
    assert _verifier(out).returncode == 0
    if pdf:
        assert out.with_suffix(".pdf").read_bytes().startswith(b"%PDF")


def test_erasing_a_households_text_keeps_the_ledger_verifiable(demo: DemoCopies) -> None:
    engine = demo.make_copy()
    with engine.connect() as conn:
        target = conn.execute(
            select(objections.c.household_id, households.c.unit_id, households.c.room)
            .join(households, households.c.id == objections.c.household_id)
            .where(objections.c.notes != "")
            .order_by(objections.c.id)
        ).first()
        texts_before = conn.execute(
            select(ledger_texts.c.digest).where(ledger_texts.c.text.is_not(None))
        ).all()
    assert target is not None
    plan = erase_household_text(
        engine, target.unit_id, target.room, actor=ACTOR, reason="业主书面申请", apply=False
    )
    assert not plan.applied and plan.texts >= 1 and plan.entries
    with engine.connect() as conn:  # a dry run changes nothing
        assert len(
            conn.execute(
                select(ledger_texts.c.digest).where(ledger_texts.c.text.is_not(None))
            ).all()
        ) == len(texts_before)
    done = erase_household_text(
        engine, target.unit_id, target.room, actor=ACTOR, reason="业主书面申请", apply=True
    )
    assert done.applied and done.texts == plan.texts and done.entry is not None
    with engine.connect() as conn:
        notes = (
            conn.execute(
                select(objections.c.notes).where(objections.c.household_id == target.household_id)
            )
            .scalars()
            .all()
        )
    assert set(notes) == {""}
    report = verify_ledger(engine)
    assert report.ok, report.message
    assert set(report.erased) == set(done.entries)
    # The unit's evidence file still checks out; the erased texts say they were erased.
    code = demo.code
    evidence = export_unit(engine, code, target.unit_id)
    erased = [t for t in evidence.data["texts"].values() if t.get("erased")]
    assert len(erased) >= done.texts


def test_the_unit_page_offers_the_evidence_file_to_those_who_may_see_names(
    demo: DemoCopies, tmp_path: Path
) -> None:
    import re

    from fastapi.testclient import TestClient

    from colift.app import create_app
    from colift.services.demo_accounts import DEMO_PASSWORD, seed_demo_accounts

    engine = demo.make_copy()
    seed_demo_accounts(engine, demo.code)

    def signed_in(username: str) -> TestClient:
        client = TestClient(create_app(engine), base_url="http://127.0.0.1")
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token
        client.post(
            "/login",
            data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token[1]},
        )
        return client

    resident = signed_in("resident")
    unit_id = int(resident.get("/", follow_redirects=False).headers["location"].rsplit("/", 1)[1])
    assert resident.get(f"/units/{unit_id}/ledger.json").status_code == 403
    assert 'data-testid="evidence-file"' not in resident.get(f"/units/{unit_id}").text
    worker = signed_in("worker")
    assert 'data-testid="evidence-file"' in worker.get(f"/units/{unit_id}").text
    answer = worker.get(f"/units/{unit_id}/ledger.json")
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    path = tmp_path / "from-the-page.json"
    path.write_bytes(answer.content)
    assert _verifier(path).returncode == 0
    assert worker.get(f"/units/{unit_id}/ledger.xml").status_code == 404
