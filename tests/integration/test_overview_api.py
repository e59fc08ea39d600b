"""The long lists from the summary over HTTP: pages, filters, who may read them, the read engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from colift.app import create_app
from colift.model import ScopeKind
from colift.services.access import Principal, Role
from colift.services.summary import unit_lines
from colift.store import UnitOfWork
from factories import make_unit

STREET = "玉林街道"
TOKENS = {
    "admin": Principal("管理员", Role.ADMIN),
    "street": Principal("街道办", Role.STREET_VIEWER, street=STREET),
    "other": Principal("别的街道", Role.STREET_VIEWER, street="望江街道"),
    "bureau": Principal("住建局", Role.STREET_VIEWER),
    "worker": Principal("社工", Role.WORKER, compound="hyy"),
}


def _h(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {who}"}


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with UnitOfWork(engine) as uow:
        first = make_unit(uow)
        for number in ("1", "10", "4"):
            made = make_unit(uow, compound=first.compound, building_number=number)
            if number == "10":
                assert made.unit.id is not None
                uow.votes.open_round(ScopeKind.UNIT, made.unit.id, actor="居委会")
        uow.commit()
    with TestClient(create_app(engine, TOKENS), raise_server_exceptions=False) as c:
        yield c


def test_street_units_come_a_page_at_a_time_in_building_and_unit_order(
    client: TestClient, engine: Engine
) -> None:
    first = client.get("/api/v1/street/units?limit=2", headers=_h("street")).json()
    assert first["units"] == 4 and first["has_more"] is True
    assert len(first["lines"]) == 2
    rest = client.get("/api/v1/street/units?limit=2&offset=2", headers=_h("street")).json()
    buildings = [line["building"] for line in first["lines"] + rest["lines"]]
    assert buildings == ["1", "3", "4", "10"]  # 10 after 4, as numbers sort
    assert len(unit_lines(engine)) == 4
    assert rest["has_more"] is False
    assert {g["key"] for g in first["by_stage"]} == {"survey"}


def test_street_units_filter_by_stage_and_consent(client: TestClient) -> None:
    none = client.get("/api/v1/street/units?stage=vote", headers=_h("street")).json()
    assert none["units"] == 0 and none["lines"] == []
    failing = client.get("/api/v1/street/units?passed=false", headers=_h("admin")).json()
    assert failing["units"] == 4
    with_round = [line for line in failing["lines"] if line["round_id"] is not None]
    assert len(with_round) == 1


def test_who_may_read_the_street_and_the_city(client: TestClient) -> None:
    assert client.get("/api/v1/street/units", headers=_h("worker")).status_code == 403
    mine = client.get(f"/api/v1/street/units?street={STREET}", headers=_h("other"))
    assert mine.status_code == 403
    assert client.get("/api/v1/street/units", headers=_h("other")).json()["units"] == 0
    assert client.get("/api/v1/city", headers=_h("street")).status_code == 403
    city = client.get("/api/v1/city", headers=_h("bureau")).json()
    assert city["by_street"] == [
        {"key": STREET, "units": 4, "passed": 0, "open_objections": 0, "stale": 0}
    ]
    assert client.get("/api/v1/city?limit=0", headers=_h("admin")).status_code == 422


def test_overview_lists_read_the_read_engine(engine: Engine, tmp_path: object) -> None:
    """With a read engine (a replica), the lists come from it, the writes go to the primary."""
    from pathlib import Path

    from conftest import sqlite_engine

    replica = sqlite_engine(Path(str(tmp_path)) / "replica.db")  # an empty "replica"
    with UnitOfWork(engine) as uow:
        make_unit(uow)
        uow.commit()
    app = create_app(engine, TOKENS, read_engine=replica)
    with TestClient(app) as c:
        assert c.get("/api/v1/street/units", headers=_h("admin")).json()["units"] == 0
    with TestClient(create_app(engine, TOKENS)) as c:
        assert c.get("/api/v1/street/units", headers=_h("admin")).json()["units"] == 1
    replica.dispose()


def test_the_street_view_gives_its_stalled_units_a_page_at_a_time(
    client: TestClient, engine: Engine
) -> None:
    """A city's 55,000 stalled lines came in one 20 MB answer; now a page (offset, limit) with
    the count over all pages, in the street list's order, and the totals unchanged."""
    from datetime import date, timedelta

    from sqlalchemy import update

    from colift.services.views import street_stalled
    from colift.store.tables import unit_summaries

    assert len(unit_lines(engine)) == 4  # the lines exist
    later = date.today()
    with engine.begin() as conn:  # every unit has sat in the vote stage too long
        conn.execute(
            update(unit_summaries).values(stage="vote", stage_since=later - timedelta(days=200))
        )
    whole = street_stalled(engine, STREET, later, limit=500)
    assert whole.matching == len(whole.lines) == 4
    order = [u.unit_id for _, u in whole.lines]
    pages = [street_stalled(engine, STREET, later, offset=k, limit=3) for k in (0, 3)]
    assert [u.unit_id for p in pages for _, u in p.lines] == order
    assert [len(p.lines) for p in pages] == [3, 1]
    assert all(p.matching == 4 and p.compounds == whole.compounds for p in pages)
    assert [p.page for p in pages] == [1, 2] and pages[0].pages == 2

    body = client.get("/api/v1/street?limit=1", headers=_h("street")).json()
    assert body["limit"] == 1 and body["offset"] == 0
    assert len(body["stalled"]) == min(1, body["stalled_total"])
    assert body["has_more"] == (body["stalled_total"] > 1)
    refused = client.get("/api/v1/street?limit=100000", headers=_h("street"))
    assert refused.status_code == 422 and "limit" in refused.text
