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
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, text

from colift.model import Building, Compound, Household, Owner, ScopeKind, Unit
from colift.model.accounts import AccountRole
from colift.services.accounts import create_account, create_api_token
from colift.services.summary import refresh_all
from colift.store import UnitOfWork, make_engine, migrate, normalize_url

ADMIN_URL = (
    os.environ.get("COLIFT_TEST_POSTGRES_URL", "") or "postgresql://postgres@127.0.0.1:5432/test"
)
STREET = "望江街道"
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


def seed(engine: Engine, n_units: int) -> Seeded:
    """A street of `n_units` units through the store's bulk paths, a round open in each."""
    started = time.perf_counter()
    rooms = [f"{floor}0{side}" for floor in range(1, 7) for side in (1, 2)]
    unit_ids: list[int] = []
    codes: list[str] = []
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
        assert per_compound > 0
    create_account(
        engine,
        _account("bench-admin", AccountRole.ADMIN),
        "bench-" + secrets.token_hex(8),
    )
    token = create_api_token(engine, "bench-admin", "web_load")
    seed_s = time.perf_counter() - started
    started = time.perf_counter()
    refresh_all(engine, 500)
    summary_s = time.perf_counter() - started
    return Seeded("", unit_ids, rooms, codes, token, seed_s, summary_s)


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


@dataclass
class LevelResult:
    clients: int
    acked: dict[tuple[int, str], str] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    failed: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    pages: dict[str, list[float]] = field(default_factory=dict)
    page_failed: Counter[str] = field(default_factory=Counter)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def noop_ceiling(base: str, headers: dict[str, str], clients: int, count: int) -> float:
    """Requests per second of GET /me at this concurrency (a bounded count)."""
    left = [count]

    async def worker(client: httpx.AsyncClient) -> None:
        while left[0] > 0:
            left[0] -= 1
            await client.get("/api/v1/me")

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as c:
        started = time.perf_counter()
        await asyncio.gather(*(worker(c) for _ in range(clients)))
        return count / (time.perf_counter() - started)


async def vote_level(
    base: str,
    headers: dict[str, str],
    clients: int,
    flats: list[tuple[int, str]],
    max_votes: int,
    seconds: float,
    seeded: Seeded,
) -> LevelResult:
    result = LevelResult(clients)
    queue = flats[:max_votes]
    position = [0]
    stop_at = time.perf_counter() + seconds
    running = [True]

    async def voter(client: httpx.AsyncClient) -> None:
        while running[0] and time.perf_counter() < stop_at:
            i = position[0]
            if i >= len(queue):
                return
            position[0] += 1
            unit_id, room = queue[i]
            vote = "agree" if (unit_id + int(room)) % 5 else "disagree"
            t0 = time.perf_counter()
            try:
                r = await client.post(
                    "/api/v1/votes", json={"unit_id": unit_id, "room": room, "vote": vote}
                )
            except httpx.HTTPError as exc:
                result.failed[type(exc).__name__] += 1
                continue
            if r.status_code == 200:
                result.latencies.append(time.perf_counter() - t0)
                result.acked[(unit_id, room)] = vote
            else:
                result.failed[str(r.status_code)] += 1

    async def reader(client: httpx.AsyncClient) -> None:
        probes = [
            ("street_page", "/api/v1/street"),
            ("street_list", "/api/v1/street/units?limit=50&offset=1000"),
            ("compound_page", f"/api/v1/compounds/{seeded.compound_codes[0]}/overview"),
            ("unit_page", f"/api/v1/units/{seeded.units[len(seeded.units) // 2]}"),
            ("city_page", "/api/v1/city?limit=50"),
        ]
        while running[0]:
            for name, path in probes:
                if not running[0]:
                    return
                t0 = time.perf_counter()
                try:
                    r = await client.get(path)
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    result.pages.setdefault(name, []).append(time.perf_counter() - t0)
                else:
                    result.page_failed[name] += 1
            await asyncio.sleep(0.2)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with (
        httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as c,
        httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as pages,
    ):
        started = time.perf_counter()
        read_task = asyncio.create_task(reader(pages))
        await asyncio.gather(*(voter(c) for _ in range(clients)))
        result.elapsed = time.perf_counter() - started
        running[0] = False
        await read_task
    return result


# --- the recount ----------------------------------------------------------------------------


def recount(engine: Engine, acked: dict[tuple[int, str], str]) -> dict[str, int]:
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
    summary_off = sum(1 for u, n in summary.items() if agree.get(u, 0) != n)
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
        flats = [(u, r) for u in seeded.units for r in seeded.rooms]
        random.Random(12).shuffle(flats)
        port = free_port()
        proc = start_server(url, port, args.workers)
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {seeded.token}"}
        used = 0
        for clients in args.clients:
            ceiling = asyncio.run(noop_ceiling(base, headers, clients, args.noop))
            level = asyncio.run(
                vote_level(
                    base,
                    headers,
                    clients,
                    flats[used:],
                    args.votes,
                    args.seconds,
                    seeded,
                )
            )
            used += len(level.acked) + sum(level.failed.values())
            load = os.getloadavg()[0]
            time.sleep(1.5)  # the vote's effect on the summary is immediate; the advice follows
            checked = recount(engine, _all_acked(runs, level))
            rate = len(level.acked) / level.elapsed if level.elapsed else 0.0
            run = {
                "backend": backend,
                "units": len(seeded.units),
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
