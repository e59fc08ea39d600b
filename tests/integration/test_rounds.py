"""Vote rounds end: closed with their final tally and the ledger head, voided with a reason,
the next one opened; from the services, the REST API and the unit page. A vote after the end
is refused, and no vote slips in between the last count and the close."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from colift.app import create_app
from colift.errors import BadInput, RuleViolation
from colift.http.auth import demo_tokens
from colift.model import ScopeKind, Vote
from colift.services.access import Role
from colift.services.consent import (
    cast_vote,
    close_vote_round,
    consent_from_input,
    open_vote_round,
    unit_consent,
    unit_rounds,
    void_vote_round,
)
from colift.services.demo_accounts import DEMO_PASSWORD, seed_demo_accounts
from colift.services.ledger import verify_ledger
from colift.store import UnitOfWork
from demo_db import BACKENDS, DemoCopies, demo_copies
from factories import make_unit

API = "/api/v1"
ACTOR = "居委会"


def unit_with_round(engine: Engine, flats: int = 12) -> tuple[int, int]:
    with UnitOfWork(engine) as uow:
        unit = make_unit(uow, flats=flats)
        assert unit.unit.id is not None
        opened = uow.votes.open_round(
            ScopeKind.UNIT, unit.unit.id, actor=ACTOR, title="第一轮", opened_on=date(2025, 3, 1)
        )
        uow.commit()
    return unit.unit.id, opened.id


def test_a_closed_round_keeps_its_tally_and_head_and_takes_no_more_votes(engine: Engine) -> None:
    unit_id, round_id = unit_with_round(engine)
    for room in ("301", "302", "401", "402", "501", "502", "601"):
        cast_vote(engine, unit_id, room, Vote.AGREE, actor=ACTOR)
    cast_vote(engine, unit_id, "201", Vote.DISAGREE, actor=ACTOR)
    before = unit_consent(engine, unit_id).result
    ended = close_vote_round(engine, round_id, actor=ACTOR, closed_on=date(2025, 3, 20))
    closed = ended.round
    assert (closed.status, closed.closed_on, closed.closed_by) == (
        "closed",
        date(2025, 3, 20),
        ACTOR,
    )
    assert closed.tally is not None and closed.tally["passed"] == before.passed
    assert closed.tally["agree_heads"] == before.counts.agree_heads
    assert closed.tally["votes"] == {"absent": 3, "agree": 8, "disagree": 1}  # 601 owns 602
    # The head recorded is the close entry's own hash, and the chain's head right after.
    with UnitOfWork(engine) as uow:
        (entry,) = uow.ledger.history(subject=f"round:{round_id}", limit=None)[-1:]
    assert entry.action == "round.close" and entry.payload["tally"] == closed.tally
    assert closed.closed_head == entry.hash == ended.head.hash
    with pytest.raises(RuleViolation, match="ended on 2025-03-20: it takes no more votes"):
        cast_vote(engine, unit_id, "101", Vote.AGREE, actor=ACTOR)
    with pytest.raises(RuleViolation, match="already closed"):
        close_vote_round(engine, round_id, actor=ACTOR)
    # The decision stands until the next round opens; the next round starts empty.
    assert unit_consent(engine, unit_id).result.counts.agree_heads == before.counts.agree_heads
    second = open_vote_round(engine, unit_id, actor=ACTOR, title="第二轮")
    assert second.is_open and unit_consent(engine, unit_id).result.counts.agree_heads == 0
    assert [r.id for r in unit_rounds(engine, unit_id)] == [second.id, round_id]
    assert verify_ledger(engine).ok


def test_a_voided_round_decides_nothing(engine: Engine) -> None:
    unit_id, round_id = unit_with_round(engine)
    cast_vote(engine, unit_id, "301", Vote.AGREE, actor=ACTOR)
    with pytest.raises(BadInput, match="say why"):
        void_vote_round(engine, round_id, actor=ACTOR, reason="  ")
    ended = void_vote_round(engine, round_id, actor=ACTOR, reason="表决的方案不是最终方案")
    assert ended.round.status == "void" and ended.round.void_reason == "表决的方案不是最终方案"
    assert ended.result is None and ended.round.closed_head == ended.head.hash
    with pytest.raises(RuleViolation, match="was voided"):
        close_vote_round(engine, round_id, actor=ACTOR)
    with pytest.raises(RuleViolation, match="it takes no more votes"):
        cast_vote(engine, unit_id, "302", Vote.AGREE, actor=ACTOR)
    # A voided round is not "the last decision": the unit counts as never asked.
    assert unit_consent(engine, unit_id).input.round is None
    assert verify_ledger(engine).ok


def test_a_round_cannot_close_before_it_opened(engine: Engine) -> None:
    _, round_id = unit_with_round(engine)
    with pytest.raises(BadInput, match="cannot close before it opened"):
        close_vote_round(engine, round_id, actor=ACTOR, closed_on=date(2025, 2, 1))
    with pytest.raises(BadInput, match="a day still to come"):
        close_vote_round(engine, round_id, actor=ACTOR, closed_on=date(2999, 1, 1))


def test_no_vote_slips_in_between_the_last_count_and_the_close(engine: Engine) -> None:
    unit_id, round_id = unit_with_round(engine)
    rooms = [f"{f}0{n}" for f in range(2, 7) for n in (1, 2)]
    taken: list[str] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(rooms) + 1)

    def vote(room: str) -> None:
        try:
            start.wait()
            for i in range(4):
                choice = Vote.AGREE if i % 2 == 0 else Vote.DISAGREE
                try:
                    cast_vote(engine, unit_id, room, choice, actor=ACTOR)
                    taken.append(room)
                except RuleViolation:
                    refused.append(room)
                    return
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=vote, args=(room,)) for room in rooms]
    for t in threads:
        t.start()
    start.wait()
    ended = close_vote_round(engine, round_id, actor=ACTOR)
    for t in threads:
        t.join()
    assert errors == []
    # The tally kept at the close is the count of the ballots as they stand now.
    with UnitOfWork(engine) as uow:
        data = uow.votes.unit_consent_rows(round_id=round_id)
        close_seq = next(
            e.seq
            for e in uow.ledger.history(subject=f"round:{round_id}")
            if e.action == "round.close"
        )
        after = [
            e for e in uow.ledger.history(subject_prefix=f"round:{round_id}/") if e.seq > close_seq
        ]
    recount = consent_from_input(data)
    assert ended.round.tally is not None
    assert ended.round.tally["agree_heads"] == recount.counts.agree_heads
    assert ended.round.tally["participating_heads"] == recount.counts.participating_heads
    assert after == []  # no ballot entry after the close
    assert verify_ledger(engine).ok


# --- the REST API and the unit page, on a copy of the demo ----------------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoCopies]:
    with demo_copies(request, tmp_path_factory, str(request.param)) as copies:
        yield copies


def test_the_api_closes_voids_and_lists_rounds(demo: DemoCopies) -> None:
    engine = demo.make_copy()
    tokens = demo_tokens(engine, demo.code)
    by_role = {p.role: t for t, p in tokens.items()}
    resident = next(p for p in tokens.values() if p.role is Role.RESIDENT)
    unit_id, room = resident.unit_id, resident.room

    def auth(role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {by_role[role]}"}

    with TestClient(create_app(engine, tokens), raise_server_exceptions=False) as client:
        listed = client.get(f"{API}/units/{unit_id}/rounds", headers=auth(Role.RESIDENT))
        assert listed.status_code == 200
        current = next(r for r in listed.json() if r["status"] == "open")
        url = f"{API}/rounds/{current['id']}"
        assert client.post(f"{url}/close", headers=auth(Role.RESIDENT), json={}).status_code == 403
        assert (
            client.post(f"{API}/rounds/99999/close", headers=auth(Role.WORKER), json={}).status_code
            == 404
        )
        closed = client.post(f"{url}/close", headers=auth(Role.WORKER), json={})
        assert closed.status_code == 200, closed.text
        body = closed.json()
        assert body["status"] == "closed" and body["tally"]["total_heads"] > 0
        assert re.fullmatch(r"[0-9a-f]{64}", body["head"]["hash"])
        assert body["ledger_head"] == body["head"]["hash"]
        again = client.post(f"{url}/close", headers=auth(Role.WORKER), json={})
        assert again.status_code == 409 and "already closed" in again.json()["error"]["message"]
        vote = client.post(
            f"{API}/votes",
            headers=auth(Role.RESIDENT),
            json={"unit_id": unit_id, "room": room, "vote": "agree"},
        )
        assert vote.status_code == 409 and "no more votes" in vote.json()["error"]["message"]
        opened = client.post(
            f"{API}/rounds", headers=auth(Role.WORKER), json={"unit_id": unit_id, "title": "第二轮"}
        )
        assert opened.status_code == 201
        void_url = f"{API}/rounds/{opened.json()['id']}/void"
        empty = client.post(void_url, headers=auth(Role.WORKER), json={"reason": ""})
        assert empty.status_code == 422
        voided = client.post(void_url, headers=auth(Role.WORKER), json={"reason": "方案有误"})
        assert voided.status_code == 200 and voided.json()["void_reason"] == "方案有误"
        statuses = [
            r["status"]
            for r in client.get(f"{API}/units/{unit_id}/rounds", headers=auth(Role.WORKER)).json()
        ]
        assert statuses[:2] == ["void", "closed"]
    assert verify_ledger(engine).ok


def _signed_in(engine: Engine, username: str) -> tuple[TestClient, str]:
    client = TestClient(create_app(engine), base_url="http://127.0.0.1")
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    done = client.post(
        "/login",
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token[1]},
        follow_redirects=False,
    )
    assert done.status_code == 303
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/").text)
    assert csrf
    return client, csrf[1]


def test_the_unit_page_closes_and_voids_rounds(demo: DemoCopies) -> None:
    engine = demo.make_copy()
    seed_demo_accounts(engine, demo.code)
    worker, csrf = _signed_in(engine, "worker")
    resident, _ = _signed_in(engine, "resident")
    unit_id = int(resident.get("/", follow_redirects=False).headers["location"].rsplit("/", 1)[1])
    page = worker.get(f"/units/{unit_id}")
    found = re.search(rf'action="/units/{unit_id}/rounds/(\d+)/close"', page.text)
    assert found and 'data-testid="open-round"' in page.text
    round_id = int(found[1])
    assert f"/rounds/{round_id}/close" not in resident.get(f"/units/{unit_id}").text
    unconfirmed = worker.post(
        f"/units/{unit_id}/rounds/{round_id}/close",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert unconfirmed.status_code == 400 and "计票结果已确认" in unconfirmed.text
    done = worker.post(
        f"/units/{unit_id}/rounds/{round_id}/close",
        data={"csrf_token": csrf, "confirm": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    shown = worker.get(done.headers["location"]).text
    assert 'data-testid="no-open-round"' in shown and f'data-testid="round-{round_id}"' in shown
    assert "已结束" in shown  # the round's status in the page's language
    refused = resident.post(
        f"/units/{unit_id}/votes",
        data={"csrf_token": _csrf(resident), "vote": "agree", "confirmed": "yes"},
    )
    assert refused.status_code == 409 and "不再接受表决" in refused.text
    opened = worker.post(
        f"/units/{unit_id}/rounds",
        data={"csrf_token": csrf, "title": "第二轮"},
        follow_redirects=False,
    )
    assert opened.status_code == 303
    again = worker.get(f"/units/{unit_id}").text
    second = re.search(rf'action="/units/{unit_id}/rounds/(\d+)/void"', again)
    assert second
    voided = worker.post(
        f"/units/{unit_id}/rounds/{second[1]}/void",
        data={"csrf_token": csrf, "reason": "方案有误"},
        follow_redirects=False,
    )
    assert voided.status_code == 303
    assert "已作废" in worker.get(f"/units/{unit_id}").text
    assert verify_ledger(engine).ok


def _csrf(client: TestClient) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/").text)
    assert found
    return found[1]
