"""Votes under load and a hard kill: the real server on loopback, N clients voting and changing
their votes in two compounds, then `kill -9` mid-load.

Afterwards, on both databases: every acknowledged vote is in the table (or the one vote in
flight when the server died replaced it), no flat has two ballots, and `ledger verify` finds
the chains intact and the tables equal to what they imply. The server then starts again on the
same database and takes votes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from colift.model import ScopeKind
from colift.model.accounts import Account, AccountRole
from colift.services.accounts import create_account, create_api_token
from colift.services.ledger import verify_ledger
from colift.store import UnitOfWork
from colift.store.tables import ballots, households
from factories import make_unit

CLIENTS = 8
LOAD_SECONDS = 2.0
PASSWORD = "crash-test-password-2026"
# Rooms whose owner holds one flat (601 and 602 share one; 101 is the developer's).
ROOMS = ["102", "201", "202", "301", "302", "401", "402", "501", "502"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]


def start_server(database: str, log: Path) -> Server:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "colift.cli", "serve", "-d", database, "--port", str(port)],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server ended early: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=2):
                return Server(url, process)
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not answer within 60 s")


@dataclass
class Flat:
    unit_id: int
    room: str
    acked: str | None = None  # the last vote the server acknowledged
    in_flight: str | None = None  # a vote sent with no answer (the server died meanwhile)
    acks: int = 0


@dataclass
class Load:
    flats: list[Flat]
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)


def post_vote(url: str, token: str, flat: Flat, vote: str) -> bool:
    body = json.dumps({"unit_id": flat.unit_id, "room": flat.room, "vote": vote}).encode()
    request = urllib.request.Request(
        f"{url}/api/v1/votes",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return bool(answer.status == 200)


def client(url: str, token: str, mine: list[Flat], load: Load) -> None:
    turn = 0
    while not load.stop.is_set():
        flat = mine[turn % len(mine)]
        vote = "agree" if (turn // len(mine)) % 2 == 0 else "disagree"
        turn += 1
        flat.in_flight = vote
        try:
            if post_vote(url, token, flat, vote):
                flat.acked, flat.in_flight = vote, None
                flat.acks += 1
        except urllib.error.HTTPError as exc:
            load.errors.append(f"{flat.room}: HTTP {exc.code} {exc.read()[:200]!r}")
            return
        except (urllib.error.URLError, OSError, ConnectionError):
            return  # the server is gone: what was in flight stays in flight


@pytest.fixture
def voting(engine: Engine) -> Iterator[tuple[Engine, list[Flat], str]]:
    flats: list[Flat] = []
    with UnitOfWork(engine) as uow:
        for code in ("east", "west"):  # two compounds: two ledger chains written at once
            unit = make_unit(uow, code=code)
            assert unit.unit.id is not None
            uow.votes.open_round(ScopeKind.UNIT, unit.unit.id, actor="居委会")
            flats.extend(Flat(unit.unit.id, room) for room in ROOMS)
        uow.commit()
    create_account(engine, Account(0, "crash-admin", "", AccountRole.ADMIN), PASSWORD)
    token = create_api_token(engine, "crash-admin", "crash test")
    yield engine, flats, token


def test_no_acknowledged_vote_is_lost_or_counted_twice_after_kill_9(
    voting: tuple[Engine, list[Flat], str], tmp_path: Path
) -> None:
    engine, flats, token = voting
    database = engine.url.render_as_string(hide_password=False)
    log = tmp_path / "server.log"
    server = start_server(database, log)
    load = Load(flats)
    try:
        shares = [flats[i::CLIENTS] for i in range(CLIENTS)]
        threads = [
            threading.Thread(target=client, args=(server.url, token, mine, load)) for mine in shares
        ]
        for t in threads:
            t.start()
        time.sleep(LOAD_SECONDS)
        os.kill(server.process.pid, signal.SIGKILL)  # mid-load, no shutdown of any kind
        server.process.wait(timeout=30)
        for t in threads:
            t.join(timeout=60)
    finally:
        load.stop.set()
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=30)
    assert load.errors == []
    acked = sum(f.acks for f in flats)
    assert acked >= CLIENTS, f"too few votes went in before the kill ({acked})"
    with engine.connect() as conn:
        stored = {
            (r.unit_id, r.room): r.vote
            for r in conn.execute(
                select(households.c.unit_id, households.c.room, ballots.c.vote).join(
                    ballots, ballots.c.household_id == households.c.id
                )
            )
        }
        per_flat = (
            conn.execute(
                select(func.count())
                .select_from(ballots)
                .group_by(ballots.c.round_id, ballots.c.household_id)
            )
            .scalars()
            .all()
        )
    lost = [
        f.room
        for f in flats
        if f.acked is not None and stored.get((f.unit_id, f.room)) not in (f.acked, f.in_flight)
    ]
    assert lost == []  # 0 acknowledged votes lost
    assert set(per_flat) <= {1}  # 0 double-counted: one ballot per flat and round
    report = verify_ledger(engine)
    assert report.ok, report.message  # the chains and the tables agree after the crash
    # The server comes back on the same database and takes votes again.
    again = start_server(database, log)
    try:
        assert post_vote(again.url, token, flats[0], "abstain")
    finally:
        again.process.send_signal(signal.SIGTERM)
        again.process.wait(timeout=30)
    assert verify_ledger(engine).ok
