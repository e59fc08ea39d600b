"""Benchmark the set-based consent tally of a whole city against a plain aggregate over the same rows.

Synthesizes a city (default: 1,000,000 households in 80,000 stairwell units), bulk-loads it into
a SQLite file and into a fresh, uniquely named PostgreSQL database (dropped at the end), then
measures on each backend, side by side in the same rounds:

* floor-join: `SELECT unit_id, count(*), sum(area_cm2) FROM households JOIN ballots ... GROUP BY
  unit_id`, the cheapest per-unit aggregate that reads the same flats and votes;
* floor-scan: the same aggregate over households alone, without the join;
* tally-sql: the tally's counting statement alone, rows fetched but not turned into verdicts;
* tally: `colift.store.tally.tally_units` for every unit: SQL, `ConsentCounts` and verdicts.

The first round warms the caches and is not counted; of the next rounds (default 3) the best
and the median are reported. The last line printed is the summary as JSON.

    python benchmarks/tally_city.py [--households 1000000] [--units 80000]
                                    [--backend sqlite|postgresql|both] [--json-out FILE]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import OperationalError

from colift.model import ObjectionStatus, Tenure, Vote
from colift.rules.consent import available_profiles
from colift.store import make_engine, normalize_url
from colift.store import tables as t
from colift.store.repository import mark_owner_heads
from colift.store.tally import current_rounds, tally_statement, tally_units

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
BATCH = 50_000
# ~70% agree, 10% disagree, 5% abstain, 15% absent; an absent owner has no ballot row.
VOTE_MIX = ((Vote.AGREE, 70), (Vote.DISAGREE, 10), (Vote.ABSTAIN, 5), (Vote.ABSENT, 15))


# ---------------------------------------------------------------- the synthetic city


@dataclass
class City:
    """Rows per table, parents before children, ids assigned here."""

    rows: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {name: [] for name in COLUMNS}
    )

    def __getitem__(self, table: str) -> list[tuple[Any, ...]]:
        return self.rows[table]


COLUMNS: dict[str, tuple[str, ...]] = {
    "compounds": (
        "id",
        "code",
        "name",
        "city",
        "district",
        "street",
        "community",
        "built_year",
        "consent_profile",
    ),
    "buildings": ("id", "compound_id", "number", "storeys"),
    "units": ("id", "building_id", "number", "consent_profile"),
    "owners": ("id", "compound_id", "name", "kind", "phone"),
    "households": (
        "id",
        "unit_id",
        "room",
        "floor",
        "area_cm2",
        "area_source",
        "tenure",
        "owner_id",
    ),
    "vote_rounds": ("id", "scope_kind", "scope_id", "profile", "title", "opened_on"),
    "ballots": ("round_id", "household_id", "vote", "signed_on", "recorded_by"),
    "objections": (
        "id",
        "household_id",
        "reasons",
        "status",
        "raised_on",
        "updated_on",
        "handled_by",
        "notes",
    ),
    "occupied_households": ("household_id", "note"),
}


def flats_per_unit(households: int, units: int) -> Iterator[int]:
    """`households` flats over `units` units, the larger units spread evenly through the city."""
    base, extra = divmod(households, units)
    bigger = {u * units // extra for u in range(extra)} if extra else set()
    for u in range(units):
        yield base + (u in bigger)


def synthesize(households: int, units: int, seed: int = 20240521) -> City:
    """Compounds of 10-40 buildings, 2-4 units a building; 3% second flats, 1% developer-held."""
    if units < 1 or households < units:
        raise SystemExit("need at least one unit and at least one household per unit")
    rng = random.Random(seed)
    profiles = available_profiles()
    votes = [v for v, _ in VOTE_MIX]
    weights = [w for _, w in VOTE_MIX]
    statuses = [s.value for s in ObjectionStatus]
    opened = date(2024, 3, 1)
    city = City()
    sizes = flats_per_unit(households, units)
    ids = dict.fromkeys(("compound", "building", "unit", "owner", "household", "objection"), 0)

    def new(kind: str) -> int:
        ids[kind] += 1
        return ids[kind]

    while ids["unit"] < units:
        cid, profile = new("compound"), rng.choice(profiles)
        city["compounds"].append(
            (
                cid,
                f"C{cid:06d}",
                f"小区{cid}",
                "示范市",
                "",
                "",
                "",
                rng.randint(1980, 2000),
                profile,
            )
        )
        developer = new("owner")
        city["owners"].append((developer, cid, f"开发商{cid}", "developer", ""))
        for b in range(rng.randint(10, 40)):
            if ids["unit"] >= units:
                break
            bid = new("building")
            city["buildings"].append((bid, cid, str(b + 1), rng.choice((6, 7))))
            for n in range(rng.randint(2, 4)):
                if ids["unit"] >= units:
                    break
                uid = new("unit")
                own = rng.choice(profiles) if rng.random() < 0.05 else None
                city["units"].append((uid, bid, str(n + 1), own))
                city["vote_rounds"].append((uid, "unit", uid, own or profile, "加装电梯", opened))
                flats: list[int] = []
                vote_of: dict[int, Vote] = {}
                previous: int | None = None
                for f in range(next(sizes)):
                    hid = new("household")
                    roll = rng.random()
                    if roll < 0.01:
                        tenure, owner = Tenure.DEVELOPER_UNSOLD, developer
                    elif roll < 0.04 and previous is not None:
                        tenure, owner = Tenure.RENTED, previous  # a second flat, same stairwell
                    else:
                        owner = previous = new("owner")
                        tenure = Tenure.RENTED if rng.random() < 0.2 else Tenure.OWNER_OCCUPIED
                        city["owners"].append((owner, cid, f"业主{owner}", "person", ""))
                    floor, door = divmod(f, 2)
                    city["households"].append(
                        (
                            hid,
                            uid,
                            f"{floor + 1}0{door + 1}",
                            floor + 1,
                            rng.randint(400_000, 1_200_000),
                            "registered",
                            tenure.value,
                            owner,
                        )
                    )
                    # One owner, one vote for all their flats (the developer included).
                    vote = vote_of.get(owner)
                    if vote is None:
                        vote = vote_of[owner] = rng.choices(votes, weights)[0]
                    if vote is not Vote.ABSENT:
                        city["ballots"].append((uid, hid, vote.value, opened, "bench"))
                    flats.append(hid)
                if rng.random() < 0.02:
                    city["objections"].append(
                        (
                            new("objection"),
                            rng.choice(flats),
                            "light",
                            rng.choice(statuses),
                            opened,
                            opened,
                            "",
                            "",
                        )
                    )
                if rng.random() < 0.10:
                    city["occupied_households"].append((flats[0], "lift shaft"))
    return city


# ---------------------------------------------------------------- loading


def load_sqlite(engine: Engine, city: City) -> None:
    """executemany in big batches in one transaction, then ANALYZE for the planner."""
    raw = engine.raw_connection()
    try:
        db = raw.driver_connection
        assert isinstance(db, sqlite3.Connection)
        db.execute("PRAGMA synchronous = OFF")
        db.execute("BEGIN")
        for name, cols in COLUMNS.items():
            sql = f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            rows = city[name]
            for start in range(0, len(rows), BATCH):
                db.executemany(sql, rows[start : start + BATCH])
        db.execute("COMMIT")
        db.execute("ANALYZE")
        # Fold the load back into the database file, as a live database's WAL stays small.
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA synchronous = FULL")
    finally:
        raw.close()


def load_postgresql(engine: Engine, city: City) -> None:
    """COPY through psycopg, then VACUUM ANALYZE so the planner and index-only scans are ready."""
    raw = engine.raw_connection()
    try:
        db: Any = raw.driver_connection
        with db.cursor() as cur:
            for name, cols in COLUMNS.items():
                with cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in city[name]:
                        copy.write_row(row)
        db.commit()
        db.autocommit = True
        db.execute("VACUUM ANALYZE")
    finally:
        raw.close()


def build(engine: Engine, city: City) -> float:
    """Create the schema and load the city; returns the seconds it took."""
    start = time.perf_counter()
    t.metadata.create_all(engine)
    if engine.dialect.name == "postgresql":
        load_postgresql(engine, city)
    else:
        load_sqlite(engine, city)
    # Bulk rows bypass the repository: mark head-carrying flats as it would have.
    with engine.begin() as conn:
        mark_owner_heads(conn)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE households"
            )
    return time.perf_counter() - start


@contextmanager
def sqlite_database() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'city.db'}")
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def postgresql_database(admin_url: str) -> Iterator[Engine]:
    """A fresh database with a unique name on the server of `admin_url`, dropped afterwards."""
    url = normalize_url(admin_url)
    name = f"colift_bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(url.set(database=name))
        try:
            yield engine
        finally:
            engine.dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


# ---------------------------------------------------------------- measuring


def floor_join() -> Any:
    h, b = t.households, t.ballots
    return (
        select(h.c.unit_id, func.count(), func.sum(h.c.area_cm2))
        .join_from(h, b, b.c.household_id == h.c.id)
        .group_by(h.c.unit_id)
    )


def floor_rows() -> Any:
    """The same rows the tally reads, each flat with its current-round ballot, summed plainly."""
    h, b = t.households, t.ballots
    cur = current_rounds()
    return (
        select(h.c.unit_id, func.count(b.c.vote), func.sum(h.c.area_cm2))
        .select_from(
            h.outerjoin(cur, cur.c.unit_id == h.c.unit_id).outerjoin(
                b, (b.c.round_id == cur.c.round_id) & (b.c.household_id == h.c.id)
            )
        )
        .group_by(h.c.unit_id)
    )


def floor_scan() -> Any:
    h = t.households
    return select(h.c.unit_id, func.count(), func.sum(h.c.area_cm2)).group_by(h.c.unit_id)


def fetch(statement: Any) -> Callable[[Connection], int]:
    def work(conn: Connection) -> int:
        return len(conn.execute(statement).all())

    return work


def tally(conn: Connection) -> int:
    return sum(1 for u in tally_units(conn) if u.passed)


@dataclass
class Timing:
    times: list[float]
    result: int

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def measure(
    engine: Engine, jobs: dict[str, Callable[[Connection], int]], runs: int
) -> dict[str, Timing]:
    """Round-robin over the jobs so drift on a shared machine hits them alike; round 0 warms up."""
    out = {name: Timing([], 0) for name in jobs}
    for round_no in range(runs + 1):
        for name, work in jobs.items():
            with engine.connect() as conn:
                start = time.perf_counter()
                result = work(conn)
                elapsed = time.perf_counter() - start
            out[name].result = result
            if round_no:
                out[name].times.append(elapsed)
    return out


def run_backend(engine: Engine, backend: str, city: City, runs: int) -> dict[str, Any]:
    load_s = build(engine, city)
    households, units = len(city["households"]), len(city["units"])
    print(f"[{backend}] loaded {households:,} households in {load_s:.1f} s", flush=True)
    timings = measure(
        engine,
        {
            "floor_rows": fetch(floor_rows()),
            "floor_join": fetch(floor_join()),
            "floor_scan": fetch(floor_scan()),
            "tally_sql": fetch(tally_statement()),
            "tally": tally,
        },
        runs,
    )
    if timings["tally_sql"].result != units:
        raise SystemExit(f"[{backend}] the tally counted {timings['tally_sql'].result} units")
    row: dict[str, Any] = {
        "backend": backend,
        "households": households,
        "units": units,
        "runs": runs,
        "load_s": round(load_s, 2),
        "units_passed": timings["tally"].result,
    }
    for name, timing in timings.items():
        row[f"{name}_s"] = round(timing.best, 4)
        row[f"{name}_median_s"] = round(timing.median, 4)
    tally_s, floor_s = timings["tally"].best, timings["floor_join"].best
    rows_s = timings["floor_rows"].best
    row["tally_hh_per_s"] = round(households / tally_s)
    row["floor_join_hh_per_s"] = round(households / floor_s)
    row["ratio_tally_to_floor_rows"] = round(tally_s / rows_s, 2)
    row["ratio_rows_median"] = round(timings["tally"].median / timings["floor_rows"].median, 2)
    row["ratio_tally_to_floor_join"] = round(tally_s / floor_s, 2)
    row["ratio_tally_to_floor_scan"] = round(tally_s / timings["floor_scan"].best, 2)
    row["ratio_median"] = round(timings["tally"].median / timings["floor_join"].median, 2)
    print(
        f"[{backend}] floor-rows {rows_s:.3f} s, floor-join {floor_s:.3f} s, floor-scan "
        f"{timings['floor_scan'].best:.3f} s, tally-sql {timings['tally_sql'].best:.3f} s, tally "
        f"{tally_s:.3f} s ({row['ratio_tally_to_floor_rows']}x the same-rows floor, "
        f"{row['ratio_tally_to_floor_join']}x the bare join), {row['tally_hh_per_s']:,} households/s",
        flush=True,
    )
    return row


def summary(rows: Sequence[dict[str, Any]]) -> str:
    head = (
        f"{'backend':<11}{'households':>11}{'units':>8}{'floor-rows':>12}{'floor-join':>12}"
        f"{'tally':>9}{'tally/rows':>12}{'median':>8}{'tally/join':>12}{'hh/s tally':>13}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['backend']:<11}{r['households']:>11,}{r['units']:>8,}{r['floor_rows_s']:>11.3f}s"
            f"{r['floor_join_s']:>11.3f}s{r['tally_s']:>8.3f}s"
            f"{r['ratio_tally_to_floor_rows']:>11.2f}x{r['ratio_rows_median']:>7.2f}x"
            f"{r['ratio_tally_to_floor_join']:>11.2f}x{r['tally_hh_per_s']:>13,}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description="Time the city-wide consent tally.")
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=80_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=3, help="timed rounds after the warm-up")
    parser.add_argument("--json-out", type=Path, help="also write the summary JSON here")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("COLIFT_TEST_POSTGRES_URL", "").strip() or DEFAULT_PG_URL,
        help="a server and database to connect to while creating the benchmark's own database",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    city = synthesize(args.households, args.units)
    print(
        f"synthesized {len(city['households']):,} households in {len(city['units']):,} units "
        f"({len(city['compounds']):,} compounds, {len(city['ballots']):,} ballots) in "
        f"{time.perf_counter() - start:.1f} s",
        flush=True,
    )
    # Millions of city rows would otherwise be rescanned by every garbage collection the
    # measured code triggers, slowing it by a share that depends on the city, not the tally.
    gc.collect()
    gc.freeze()
    try:
        return run(args, city)
    finally:
        gc.unfreeze()


def run(args: argparse.Namespace, city: City) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if args.backend in ("sqlite", "both"):
        with sqlite_database() as engine:
            rows.append(run_backend(engine, "sqlite", city, args.runs))
    if args.backend in ("postgresql", "both"):
        try:
            with postgresql_database(args.pg_url) as engine:
                rows.append(run_backend(engine, "postgresql", city, args.runs))
        except OperationalError as exc:
            if args.backend == "postgresql":
                raise
            # Both were asked for: report SQLite rather than nothing.
            print(f"[postgresql] skipped, server not reachable: {str(exc.orig).strip()}")
    print()
    print(summary(rows))
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(rows))
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
