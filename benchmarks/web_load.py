"""Votes and overview pages against the real server on loopback, SQLite and PostgreSQL.

    .venv/bin/python benchmarks/web_load.py --quick                 # a small run, both backends
    .venv/bin/python benchmarks/web_load.py --backend postgresql --units 4000 --clients 50,200

Per backend: a fresh database is seeded FAST through the store's bulk paths (owners and flats
in one statement per compound, each with its ledger entries; the summary lines deferred and
then built in one pass, timed apart), one open round per unit; `colift serve --workers W` is
started as a subprocess on 127.0.0.1. Then, for each client count:

- the no-op ceiling: GET /api/v1/me (a token lookup, nothing else) at the same concurrency,
  for a bounded count: what this Python load generator and the app reach at all;
- votes: POST /api/v1/votes, each client voting for flats nobody else votes for (one owner per
  flat), bounded by --votes and --seconds; p50/p99 over acknowledged votes;
- meanwhile a reader fetches the street overview (GET /api/v1/street), a page of the street's
  list (GET /api/v1/street/units), a compound overview and a unit (GET /api/v1/units/{id});
- afterwards the recount: every acknowledged vote is in `ballots` with its value (else lost),
  and in the ledger exactly once (more: double-counted); the summary's agree counts equal the
  ballots (else summary_off).

The load generator shares the 2 cores with the server and the database: see
benchmarking.md. Each line printed is a JSON object; the last one has the figures of the last
run (backend, units, clients, votes_per_s, p50_ms, p99_ms, lost, double_counted,
street_page_s, unit_page_s, load_1min) and every run under "runs".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import Engine, text

from colift.http.auth import SESSION_COOKIE
from colift.model import Building, Compound, Household, Owner, ScopeKind, Unit
from colift.model.accounts import AccountRole
from colift.services.accounts import create_account, create_api_token, sign_in
from colift.services.summary import refresh_all
from colift.store import UnitOfWork, make_engine, migrate, normalize_url

ADMIN_URL = (
    os.environ.get("COLIFT_TEST_POSTGRES_URL", "") or "postgresql://postgres@127.0.0.1:5432/test"
)
STREET = "望江街道"
HOST = "127.0.0.1"
WATCHED = 40  # at most this many votes a level are watched until the street list shows them
FLATS_PER_UNIT = 12  # six floors, two flats a floor
UNITS_PER_BUILDING = 4
BUILDINGS_PER_COMPOUND = 25  # 100 units a compound


@dataclass
class Seeded:
    url: str
    units: list[int]
    rooms: list[str]
    compound_codes: list[str]
    token: str
    seed_s: float
    summary_s: float
    compound_of: dict[int, str] = field(default_factory=dict)
    session: str = ""  # the web pages' session cookie of the same account


def seed(engine: Engine, n_units: int) -> Seeded:
    """A street of `n_units` units through the store's bulk paths, a round open in each."""
    started = time.perf_counter()
    rooms = [f"{floor}0{side}" for floor in range(1, 7) for side in (1, 2)]
    unit_ids: list[int] = []
    codes: list[str] = []
    compound_of: dict[int, str] = {}
    per_compound = UNITS_PER_BUILDING * BUILDINGS_PER_COMPOUND
    compound_no = 0
    while len(unit_ids) < n_units:
        compound_no += 1
        code = f"wj{compound_no:03d}"
        with UnitOfWork(engine) as uow:
            uow.defer_summary()
            compound = uow.compounds.add(
                Compound(
                    name=f"望江{compound_no}号院",
                    city="成都",
                    district="锦江区",
                    street=STREET,
                    community="望江社区",
                    built_year=1990,
                    consent_profile="cn-civil-code-278",
                ),
                code=code,
            )
            assert compound.id is not None
            made: list[int] = []
            for b in range(1, BUILDINGS_PER_COMPOUND + 1):
                if len(unit_ids) + len(made) >= n_units:
                    break
                building = uow.buildings.add(
                    Building(compound_id=compound.id, number=str(b), storeys=6)
                )
                assert building.id is not None
                for u in range(1, UNITS_PER_BUILDING + 1):
                    if len(unit_ids) + len(made) >= n_units:
                        break
                    unit = uow.units.add(Unit(building_id=building.id, number=str(u)))
                    assert unit.id is not None
                    made.append(unit.id)
            wanted = [
                Owner(name=f"业主{unit_id}-{room}", phone=f"138{unit_id:05d}{room}")
                for unit_id in made
                for room in rooms
            ]
            owners = uow.owners.get_or_create_many(compound.id, wanted)
            flats = []
            for i, (unit_id, room) in enumerate((u, r) for u in made for r in rooms):
                owner_id = owners[i].id
                assert owner_id is not None
                flats.append(
                    Household(
                        unit_id=unit_id,
                        room=room,
                        floor=int(room[0]),
                        area_m2=Decimal("68.50") + Decimal(int(room[-1])),
                        owner_id=owner_id,
                    )
                )
            uow.households.add_many(flats)
            for unit_id in made:
                uow.votes.open_round(ScopeKind.UNIT, unit_id, actor="居委会", title="加装电梯表决")
            uow.commit()
        unit_ids.extend(made)
        codes.append(code)
        compound_of.update(dict.fromkeys(made, code))
        assert per_compound > 0
    password = "bench-" + secrets.token_hex(8)
    create_account(engine, _account("bench-admin", AccountRole.ADMIN), password)
    token = create_api_token(engine, "bench-admin", "web_load")
    session = sign_in(engine, "bench-admin", password, client="web_load").token
    seed_s = time.perf_counter() - started
    started = time.perf_counter()
    refresh_all(engine, 500)
    summary_s = time.perf_counter() - started
    return Seeded("", unit_ids, rooms, codes, token, seed_s, summary_s, compound_of, session)


CITY_STREETS = ("玉林街道", "草市街道", "红牌楼街道", "双楠街道", "府南街道", "抚琴街道")


def add_city(engine: Engine, n_units: int, template_unit: int) -> tuple[int, float]:
    """Fill the database up to `n_units` units with other streets' compounds, written straight
    to the tables in bulk (compounds, buildings, units, and each unit's summary line copied
    from `template_unit`'s with a drawn stage and stage day): a city for the overview pages in
    seconds, where the store's own paths (each unit with its ledger entry, each line with its
    advice) would take tens of minutes. The filler units have no flats, rounds or ledger
    entries: votes go to the seeded street. Returns the units added and the seconds taken."""
    from colift.store.tables import buildings, compounds, unit_summaries, units

    started = time.perf_counter()
    rng = random.Random(80_000)
    with engine.begin() as conn:
        have = int(conn.execute(text("SELECT count(*) FROM units")).scalar_one())
        template = (
            conn.execute(unit_summaries.select().where(unit_summaries.c.unit_id == template_unit))
            .one()
            ._asdict()
        )
        next_compound = int(conn.execute(text("SELECT max(id) FROM compounds")).scalar_one()) + 1
        next_building = int(conn.execute(text("SELECT max(id) FROM buildings")).scalar_one()) + 1
        next_unit = int(conn.execute(text("SELECT max(id) FROM units")).scalar_one()) + 1
        stages = ["survey", "consultation", "vote", "design", "construction", "operation"]
        today = date.today()
        todo = max(0, n_units - have)
        while todo > 0:
            rows_c, rows_b, rows_u, rows_s = [], [], [], []
            for _ in range(min(20, -(-todo // 100))):  # 20 compounds of 100 units a batch
                cid = next_compound
                next_compound += 1
                street = CITY_STREETS[cid % len(CITY_STREETS)]
                rows_c.append(
                    {
                        "id": cid,
                        "code": f"c{cid:05d}",
                        "name": f"{street[:2]}{cid}号院",
                        "city": "成都",
                        "district": "青羊区",
                        "street": street,
                        "community": "",
                        "built_year": 1992,
                        "consent_profile": "cn-civil-code-278",
                    }
                )
                for b in range(1, BUILDINGS_PER_COMPOUND + 1):
                    bid = next_building
                    next_building += 1
                    rows_b.append({"id": bid, "compound_id": cid, "number": str(b), "storeys": 6})
                    for u in range(1, UNITS_PER_BUILDING + 1):
                        if todo <= 0:
                            break
                        todo -= 1
                        uid = next_unit
                        next_unit += 1
                        rows_u.append({"id": uid, "building_id": bid, "number": str(u)})
                        line = dict(template)
                        line.update(
                            unit_id=uid,
                            compound_id=cid,
                            street=street,
                            building=str(b),
                            label=f"{b}栋{u}单元",
                            round_id=None,
                            stage=rng.choice(stages),
                            stage_since=today - timedelta(days=rng.randrange(0, 700)),
                            agree_heads=rng.randrange(0, 13),
                            stale=0,
                            version=0,
                        )
                        rows_s.append(line)
            conn.execute(compounds.insert(), rows_c)
            conn.execute(buildings.insert(), rows_b)
            conn.execute(units.insert(), rows_u)
            conn.execute(unit_summaries.insert(), rows_s)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("compounds", "buildings", "units", "unit_summaries"):
                conn.execute(text(f"ANALYZE {table}"))
            for table in ("compounds", "buildings", "units"):  # the ids written by hand
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return max(0, n_units - have), time.perf_counter() - started


def _account(username: str, role: AccountRole) -> Any:
    from colift.model.accounts import Account

    return Account(id=0, username=username, display_name="压测管理员", role=role)


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, COLIFT_DATABASE_URL=url)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "colift.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                "server ended: " + (proc.stderr.read() if proc.stderr else b"").decode()[-2000:]
            )
        try:
            if (
                httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=2).status_code
                == 200
            ):
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_server(proc)
    raise RuntimeError("server did not start within 180 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and its workers: our own session
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- the load -------------------------------------------------------------------------------


class HttpError(Exception):
    """The connection failed or closed before a whole answer came."""


class Client:
    """A lean HTTP/1.1 client on one keep-alive connection (asyncio streams, no parsing beyond
    the status line and Content-Length): the generator shares the cores with the server, so
    it should cost as little per request as it can (httpx costs several times more)."""

    def __init__(self, host: str, port: int, token: str, session: str = "") -> None:
        self.host, self.port = host, port
        self.auth = f"Authorization: Bearer {token}\r\n".encode()
        if session:  # the web pages read the session cookie
            self.auth += f"Cookie: {SESSION_COOKIE}={session}\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        for attempt in (0, 1):  # a kept-alive connection the server closed: reconnect once
            try:
                return await self._once(method, path, body)
            except (OSError, asyncio.IncompleteReadError, HttpError):
                self.close()
                if attempt:
                    raise HttpError(f"{method} {path}") from None
        raise AssertionError("unreachable")

    async def _once(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n".encode()
            + self.auth
            + (
                b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
                if method != "GET"
                else b""
            )
            + b"\r\n"
        )
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise HttpError("closed")
        status = int(status_line.split()[1])
        length, close = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        data = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class LevelResult:
    clients: int
    acked: dict[tuple[int, str], str] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    failed: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    pages: dict[str, list[float]] = field(default_factory=dict)
    page_failed: Counter[str] = field(default_factory=Counter)
    visible: list[float] = field(default_factory=list)
    not_visible: int = 0
    generator_cpu_s: float = 0.0
    consumed: int = 0  # flats of the queue taken by voters


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def server_cpu_seconds(root: int) -> float:
    """CPU time (user + system) the server process `root` and its descendants (the uvicorn
    workers) have used so far, from /proc (0.0 where there is no /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in tree:
            continue
        tree.add(pid)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return sum(times.get(pid, 0.0) for pid in tree)


def database_cpu_seconds(name: str | None) -> float | None:
    """CPU time (user + system) PostgreSQL's backends serving database `name` have used so far
    (a local server, read from /proc: each backend's title names its database); None on SQLite,
    whose work is done inside the server's own processes. A backend that ended in between takes
    its time with it: the pools keep theirs for the whole run."""
    if name is None:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not title.startswith("postgres: ") or f" {name} " not in title:
                continue
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def cpu_seconds() -> float:
    """CPU time (user + system) this process, the load generator, has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def noop_ceiling(
    host: str, port: int, token: str, clients: int, count: int
) -> tuple[float, float]:
    """Requests per second of GET /me at this concurrency (a bounded count), and the
    generator's CPU seconds per request."""
    left = [count]
    conns = [Client(host, port, token) for _ in range(clients)]

    async def worker(client: Client) -> None:
        while left[0] > 0:
            left[0] -= 1
            await client.request("GET", "/api/v1/me")

    cpu = cpu_seconds()
    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker(c) for c in conns))
    finally:
        for c in conns:
            c.close()
    return count / (time.perf_counter() - started), (cpu_seconds() - cpu) / max(1, count)


def vote_body(unit_id: int, room: str, vote: str) -> bytes:
    return json.dumps({"unit_id": unit_id, "room": room, "vote": vote}).encode()


async def vote_level(
    host: str,
    port: int,
    token: str,
    clients: int,
    flats: list[tuple[int, str]],
    max_votes: int,
    seconds: float,
    seeded: Seeded,
    watch: list[tuple[int, str]],
) -> LevelResult:
    result = LevelResult(clients)
    queue = flats[:max_votes]
    position = [0]
    stop_at = time.perf_counter() + seconds
    running = [True]

    async def voter(client: Client) -> None:
        while running[0] and time.perf_counter() < stop_at:
            i = position[0]
            if i >= len(queue):
                return
            position[0] += 1
            unit_id, room = queue[i]
            vote = "agree" if (unit_id + int(room)) % 5 else "disagree"
            t0 = time.perf_counter()
            try:
                status, _ = await client.request(
                    "POST", "/api/v1/votes", vote_body(unit_id, room, vote)
                )
            except HttpError as exc:
                result.failed[type(exc).__name__] += 1
                continue
            if status == 200:
                result.latencies.append(time.perf_counter() - t0)
                result.acked[(unit_id, room)] = vote
            else:
                result.failed[str(status)] += 1

    async def reader(client: Client) -> None:
        probes = [
            ("street_page", "/api/v1/street"),  # every street: the city with --city
            ("one_street_page", f"/api/v1/street?street={quote(STREET)}"),
            ("street_list", "/api/v1/street/units?limit=50&offset=1000"),
            ("compound_page", f"/api/v1/compounds/{seeded.compound_codes[0]}/overview"),
            ("unit_page", f"/api/v1/units/{seeded.units[len(seeded.units) // 2]}"),
            ("city_page", "/api/v1/city?limit=50"),
            # the web pages, as a signed-in admin sees them
            ("unit_web_page", f"/units/{seeded.units[len(seeded.units) // 2]}"),
            ("street_web_page", "/street"),
        ]
        while running[0]:
            for name, path in probes:
                if not running[0]:
                    return
                t0 = time.perf_counter()
                try:
                    status, _ = await client.request("GET", path)
                    ok = status == 200
                except HttpError:
                    ok = False
                if ok:
                    result.pages.setdefault(name, []).append(time.perf_counter() - t0)
                else:
                    result.page_failed[name] += 1
            await asyncio.sleep(0.2)

    async def watcher(client: Client) -> None:
        """A vote's effect on the street overview: vote agree for a flat kept out of the
        voters' queue, then poll the street's list (the unit's compound) until the unit's
        agreeing heads show it; the time from the acknowledgement is `visible_s`."""
        for unit_id, room in watch:
            if not running[0]:
                return
            code = seeded.compound_of[unit_id]
            path = f"/api/v1/street/units?compound={code}&limit=200"
            status, body = await client.request(
                "POST", "/api/v1/votes", vote_body(unit_id, room, "agree")
            )
            if status != 200:
                result.failed[f"watch {status}"] += 1
                continue
            acked = time.perf_counter()
            result.acked[(unit_id, room)] = "agree"
            # agreeing heads only grow in this run: the line shows the vote once it shows at
            # least the count the vote's own answer reported
            wanted = int(json.loads(body)["consent"]["agree_heads"])
            while True:
                now = await _agree_heads(client, path, unit_id)
                waited = time.perf_counter() - acked
                if now is not None and now >= wanted:
                    result.visible.append(waited)
                    break
                if waited > 10:
                    result.not_visible += 1
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.5)

    conns = [Client(host, port, token) for _ in range(clients)]
    page_client = Client(host, port, token, seeded.session)
    watch_client = Client(host, port, token)
    cpu = cpu_seconds()
    started = time.perf_counter()
    read_task = asyncio.create_task(reader(page_client))
    watch_task = asyncio.create_task(watcher(watch_client))
    try:
        await asyncio.gather(*(voter(c) for c in conns))
        result.elapsed = time.perf_counter() - started
        running[0] = False
        await read_task
        await watch_task
    finally:
        running[0] = False
        for c in [*conns, page_client, watch_client]:
            c.close()
    result.generator_cpu_s = cpu_seconds() - cpu
    result.consumed = position[0]
    return result


async def _agree_heads(client: Client, path: str, unit_id: int) -> int | None:
    """The unit's agreeing heads on the street's list, None when it could not be read."""
    try:
        status, body = await client.request("GET", path)
    except HttpError:
        return None
    if status != 200:
        return None
    for line in json.loads(body)["lines"]:
        if int(line["unit_id"]) == unit_id:
            return int(line["agree_heads"])
    return None


# --- the recount ----------------------------------------------------------------------------


def recount(
    engine: Engine, acked: dict[tuple[int, str], str], seeded_units: set[int]
) -> dict[str, int]:
    """Acknowledged votes against `ballots`, the ledger and the summary."""
    with engine.connect() as conn:
        stored = {
            (int(r.unit_id), str(r.room)): (str(r.vote), int(r.household_id))
            for r in conn.execute(
                text(
                    "SELECT households.unit_id, households.room, households.id AS household_id, "
                    "ballots.vote FROM ballots JOIN households ON households.id = ballots.household_id"
                )
            )
        }
        entries = Counter(
            int(json.loads(r.payload)["household_id"])
            for r in conn.execute(text("SELECT payload FROM ledger WHERE action = 'ballot.set'"))
        )
        agree = Counter(
            int(r.unit_id)
            for r in conn.execute(
                text(
                    "SELECT households.unit_id FROM ballots JOIN households "
                    "ON households.id = ballots.household_id WHERE ballots.vote = 'agree'"
                )
            )
        )
        summary = {
            int(r.unit_id): int(r.agree_heads)
            for r in conn.execute(text("SELECT unit_id, agree_heads FROM unit_summaries"))
        }
    lost = sum(1 for key, vote in acked.items() if stored.get(key, ("", 0))[0] != vote)
    double = sum(1 for key in acked if key in stored and entries.get(stored[key][1], 0) > 1)
    unacked = sum(1 for key in stored if key not in acked)
    summary_off = sum(1 for u, n in summary.items() if u in seeded_units and agree.get(u, 0) != n)
    return {
        "lost": lost,
        "double_counted": double,
        "stored_unacknowledged": unacked,
        "summary_off": summary_off,
    }


# --- one backend ----------------------------------------------------------------------------


def database(backend: str, workdir: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'web_load.db'}", None
    name = "colift_bench_" + secrets.token_hex(4)
    admin = make_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = normalize_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    return url, name


def drop_database(name: str) -> None:
    admin = make_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run_backend(backend: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    workdir = Path(tempfile.mkdtemp(prefix="colift-web-load-"))
    url, pg_name = database(backend, workdir)
    engine = make_engine(url)
    runs: list[dict[str, Any]] = []
    proc = None
    try:
        migrate(engine)
        seeded = seed(engine, args.units)
        city_added, city_s = (
            add_city(engine, args.city, seeded.units[0]) if args.city > args.units else (0, 0.0)
        )
        flats = [(u, r) for u in seeded.units for r in seeded.rooms]
        random.Random(12).shuffle(flats)
        # flats the visibility watcher votes for, never in the voters' queue
        watch, flats = flats[: WATCHED * len(args.clients)], flats[WATCHED * len(args.clients) :]
        port = free_port()
        proc = start_server(url, port, args.workers)
        used = 0
        for n, clients in enumerate(args.clients):
            server_cpu = server_cpu_seconds(proc.pid)
            ceiling, noop_cpu = asyncio.run(
                noop_ceiling(HOST, port, seeded.token, clients, args.noop)
            )
            noop_server_cpu = server_cpu_seconds(proc.pid) - server_cpu
            server_cpu = server_cpu_seconds(proc.pid)
            database_cpu = database_cpu_seconds(pg_name)
            level = asyncio.run(
                vote_level(
                    HOST,
                    port,
                    seeded.token,
                    clients,
                    flats[used:],
                    args.votes,
                    args.seconds,
                    seeded,
                    watch[n * WATCHED : (n + 1) * WATCHED],
                )
            )
            used += level.consumed
            vote_server_cpu = server_cpu_seconds(proc.pid) - server_cpu
            after = database_cpu_seconds(pg_name)
            vote_database_cpu = (
                None if after is None or database_cpu is None else after - database_cpu
            )
            load = os.getloadavg()[0]
            time.sleep(1.5)  # the vote's effect on the summary is immediate; the advice follows
            checked = recount(engine, _all_acked(runs, level), set(seeded.units))
            rate = len(level.acked) / level.elapsed if level.elapsed else 0.0
            run = {
                "backend": backend,
                "units": len(seeded.units),
                "city_units": len(seeded.units) + city_added,
                "city_fill_s": round(city_s, 1),
                "workers": args.workers,
                "clients": clients,
                "votes": len(level.acked),
                "failed": dict(level.failed),
                "seconds": round(level.elapsed, 2),
                "votes_per_s": round(rate, 1),
                "noop_per_s": round(ceiling, 1),
                "ratio_to_noop": round(rate / ceiling, 2) if ceiling else None,
                "p50_ms": round(pct(level.latencies, 0.50) * 1000, 1),
                "p99_ms": round(pct(level.latencies, 0.99) * 1000, 1),
                **checked,
                **{
                    f"{name}_s": round(statistics.median(times), 3)
                    for name, times in sorted(level.pages.items())
                },
                **{
                    f"{name}_max_s": round(max(times), 3)
                    for name, times in sorted(level.pages.items())
                },
                "page_failures": dict(level.page_failed),
                "visible_s": round(pct(level.visible, 0.50), 3),
                "visible_max_s": round(max(level.visible), 3) if level.visible else None,
                "visible_n": len(level.visible),
                "not_visible": level.not_visible,
                "generator_cpu_s": round(level.generator_cpu_s, 2),
                "generator_cpu_share": round(level.generator_cpu_s / level.elapsed, 2)
                if level.elapsed
                else None,
                "generator_ms_per_noop": round(noop_cpu * 1000, 3),
                # the server's own CPU (its processes, not the database's) per request: read
                # beside the rates on a shared machine, where the rates follow the load
                "server_cpu_ms_per_noop": round(noop_server_cpu / max(1, args.noop) * 1000, 2),
                "server_cpu_ms_per_vote": round(
                    vote_server_cpu / max(1, len(level.acked)) * 1000, 2
                ),
                # PostgreSQL's backends for the bench database over the vote level, per vote
                "database_cpu_ms_per_vote": None
                if vote_database_cpu is None
                else round(vote_database_cpu / max(1, len(level.acked)) * 1000, 2),
                "seed_s": round(seeded.seed_s, 1),
                "summary_build_s": round(seeded.summary_s, 1),
                "load_1min": round(load, 2),
            }
            run["_acked"] = level.acked
            runs.append(run)
            print(
                json.dumps({k: v for k, v in run.items() if k != "_acked"}, ensure_ascii=False),
                flush=True,
            )
    finally:
        if proc is not None:
            stop_server(proc)
        engine.dispose()
        if pg_name is not None:
            drop_database(pg_name)
        shutil.rmtree(workdir, ignore_errors=True)
    for run in runs:
        run.pop("_acked", None)
    return runs


def _all_acked(runs: list[dict[str, Any]], level: LevelResult) -> dict[tuple[int, str], str]:
    acked: dict[tuple[int, str], str] = {}
    for run in runs:
        acked.update(run["_acked"])
    acked.update(level.acked)
    return acked


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--units", type=int, default=4000)
    parser.add_argument("--clients", default="50,200", help="comma-separated client counts")
    parser.add_argument("--votes", type=int, default=6000, help="at most this many votes a level")
    parser.add_argument("--seconds", type=float, default=60, help="at most this long a level")
    parser.add_argument("--noop", type=int, default=3000, help="GET /me requests for the ceiling")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--city",
        type=int,
        default=0,
        help="fill the database up to this many units (other streets, summary lines written "
        "directly) so the overview pages are measured at a city's size, e.g. 80000",
    )
    parser.add_argument("--quick", action="store_true", help="a small run: 200 units, 10 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.units, args.votes, args.seconds, args.noop = 200, 400, 10, 300
        args.clients = "10,50"
    args.clients = [int(c) for c in str(args.clients).split(",") if c.strip()]
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    runs: list[dict[str, Any]] = []
    for backend in backends:
        runs.extend(run_backend(backend, args))
    last = dict(runs[-1]) if runs else {}
    last["runs"] = runs
    print(json.dumps(last, ensure_ascii=False))


if __name__ == "__main__":
    main()
