"""Phone and ID numbers encrypted at rest, masked where not needed, kept out of the ledger;
SQLite files readable by their owner only."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from colift.app import create_app
from colift.demo import build_demo
from colift.errors import BadInput
from colift.io.roster import read_roster
from colift.model.registry import Owner
from colift.services.backup import backup_database
from colift.services.demo import seed_demo
from colift.services.demo_accounts import DEMO_PASSWORD, seed_demo_accounts
from colift.services.registry import (
    CompoundDetails,
    create_compound,
    export_roster,
    import_roster,
    list_units,
)
from colift.store import UnitOfWork, make_engine, migrate, personal
from colift.store.personal import decrypt, encrypt, mask_id_number, mask_phone
from colift.store.tables import ledger, ledger_texts, owners, persons


def test_masks_keep_the_ends() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("138****5678") == "138****5678"
    assert mask_phone("") == ""
    assert mask_id_number("370102199001011234") == "370***********1234"


def test_the_cipher_is_deterministic_and_authenticated(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = encrypt("13812345678")
    assert stored.startswith("enc1:") and "13812345678" not in stored
    assert encrypt("13812345678") == stored  # the owner's identity index still works
    assert decrypt(stored) == "13812345678"
    assert decrypt("13812345678") == "13812345678"  # stored before encryption: read as is
    monkeypatch.setenv("COLIFT_DATA_KEY", "ab" * 64)
    with pytest.raises(BadInput, match="does not open with the data key"):
        decrypt(stored)
    monkeypatch.setenv("COLIFT_DATA_KEY", "too-short")
    with pytest.raises(BadInput, match="128 hex characters"):
        encrypt("13812345678")


def test_without_a_key_a_key_file_is_made_0600(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLIFT_DATA_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    stored = encrypt("13900001111")
    key_file = tmp_path / "colift" / "data.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert decrypt(stored) == "13900001111"
    key_file.unlink()
    personal._found.clear()
    with pytest.raises(BadInput, match="no data key is configured"):
        decrypt(stored)


def test_phones_are_ciphertext_in_the_tables_and_absent_from_the_ledger(engine: Engine) -> None:
    code, _ = seed_demo(engine)
    demo_phones = {f.owner_phone for f in build_demo().flats if f.owner_phone}
    assert demo_phones
    with engine.connect() as conn:
        stored = [r.phone for r in conn.execute(select(owners.c.phone)) if r.phone]
        stored += [r.phone for r in conn.execute(select(persons.c.phone)) if r.phone]
        entries = json.dumps([tuple(r) for r in conn.execute(select(ledger)).all()], default=str)
        texts = json.dumps(
            [tuple(r) for r in conn.execute(select(ledger_texts)).all()], default=str
        )
    assert stored and all(p.startswith("enc1:") for p in stored)
    leaked = [p for p in demo_phones if p in entries or p in texts]
    assert not leaked, f"plain phones in the ledger: {leaked[:3]}"
    with UnitOfWork(engine) as uow:
        compound = uow.compounds.get_by_code(code)
        read = {o.phone for o in uow.owners.list_by_compound(compound.id) if o.phone}
        assert read == demo_phones
        made = uow.owners.get_or_create_many(
            compound.id, [Owner("测试业主", phone="13700001234", id_number="37010219900101123X")]
        )[0]
        again = uow.owners.get_or_create_many(compound.id, [Owner("测试业主", phone="13700001234")])
        assert again[0].id == made.id and made.id_number == "37010219900101123X"
        with pytest.raises(BadInput, match="15 or 18"):
            uow.owners.get_or_create_many(compound.id, [Owner("错号", id_number="12345")])


def _client(engine: Engine, username: str) -> TestClient:
    client = TestClient(create_app(engine), base_url="http://127.0.0.1")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token[1]}
    )
    return client


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_unit_page_shows_full_numbers_to_the_compounds_worker_only(engine: Engine) -> None:
    code, _ = seed_demo(engine)
    seed_demo_accounts(engine, code)
    with UnitOfWork(engine) as uow:
        compound = uow.compounds.get_by_code(code)
        phones = {o.phone for o in uow.owners.list_by_compound(compound.id) if o.phone}
    worker, street = _client(engine, "worker"), _client(engine, "street")
    for unit in list_units(engine, code):
        page = worker.get(f"/units/{unit.id}").text
        full = [p for p in phones if p in page]
        if full:
            break
    else:
        pytest.fail("the compound's worker sees no full number on any unit page")
    shown = street.get(f"/units/{unit.id}").text
    assert not any(p in shown for p in phones), "the street office sees masked numbers"
    assert all(mask_phone(p) in shown for p in full)


def test_sqlite_files_and_backups_are_0600(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    migrate(engine)
    assert stat.S_IMODE((tmp_path / "new.db").stat().st_mode) == 0o600
    with engine.connect() as conn:  # WAL: the -wal and -shm files exist while connected
        conn.exec_driver_sql("CREATE TABLE mode_probe (x INTEGER)")
        conn.commit()
        for suffix in ("-wal", "-shm"):
            side = tmp_path / f"new.db{suffix}"
            assert side.exists() and stat.S_IMODE(side.stat().st_mode) == 0o600
    backup_database(engine, tmp_path / "copy.db")
    assert stat.S_IMODE((tmp_path / "copy.db").stat().st_mode) == 0o600
    engine.dispose()


def test_a_roster_round_trips_phones_and_id_numbers(engine: Engine, tmp_path: Path) -> None:
    create_compound(engine, "pd-1", CompoundDetails(name="个人信息小区", city="济南"))
    source = tmp_path / "in.csv"
    source.write_text(
        "楼栋,单元,总层数,楼层,房号,面积(㎡),业主,联系电话,身份证号,居住状态\n"
        "1,1,6,1,101,60.5,王建华,13812345678,37010219900101123X,自住\n"
        "1,1,6,1,102,60.5,刘淑芬,,,自住\n",
        encoding="utf-8",
    )
    import_roster(engine, source, "pd-1", actor="test")
    with engine.connect() as conn:
        stored = conn.execute(select(owners.c.phone, owners.c.id_number)).all()
    assert all(v == "" or v.startswith("enc1:") for row in stored for v in row)
    out = tmp_path / "out.csv"
    export_roster(engine, "pd-1", out)
    back = {r.room: r for r in read_roster(out)}
    assert back["101"].owner_phone == "13812345678"
    assert back["101"].owner_id_number == "37010219900101123X"
    assert back["102"].owner_phone == "" and back["102"].owner_id_number == ""
