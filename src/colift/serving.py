"""Serving for real: several uvicorn worker processes and the summary's background refresher.

`colift serve --workers N` runs `uvicorn` with `app_from_env` as its factory, so each worker
process builds its own engine from `COLIFT_DATABASE_URL` (and its read engine from
`COLIFT_READ_DATABASE_URL`, a streaming replica, when set). On SQLite the file is in WAL mode:
readers never wait, writers queue on the file's one write lock (busy timeout 30 s).

One process at a time (whichever holds a lock file named after the database) also runs the
summary refresher: it brings the advice columns of lines a vote marked stale up to date, a
batch at a time, in short transactions guarded by the line's version (services/summary.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

import anyio.to_thread
from fastapi import FastAPI
from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

from colift.store import database_url, make_engine

READ_ENV_VAR = "COLIFT_READ_DATABASE_URL"
REFRESH_ENV_VAR = "COLIFT_SUMMARY_REFRESH"  # "0" turns the background refresher off
POOL_ENV_VAR = "COLIFT_POOL_SIZE"
THREADS_ENV_VAR = "COLIFT_THREADS"
# Threads a worker runs its blocking endpoints on (anyio's limiter; its own default is 40).
# Each holds one pooled connection while it works, so the pool is as large as the threads plus
# the refresher and a spare: a pool smaller than the threads let its overflow connections be
# opened and closed again for every few requests (a new PostgreSQL backend each time, and its
# prepared statements lost with it). Eight, not anyio's 40: at 200 clients on two cores,
# 4 / 8 / 12 / 32 threads gave 383-401 / 349-363 / 341-369 / 275-286 votes a second
# (docs/benchmarks.md): fewer threads wait less on the GIL and on each other's row locks, and
# requests queue on the event loop instead. A slow page holds one of them, so not fewer.
DEFAULT_THREADS = 8
POOL_OVERFLOW = 4
PING_AFTER_IDLE_SECONDS = 10.0  # a pooled connection idle this long is pinged before use
BATCH = 50  # lines per refresh transaction
IDLE_SECONDS = 1.0  # pause when nothing is stale (the advice lags a vote by about this)
DUTY_ENV_VAR = "COLIFT_REFRESH_DUTY"
# Share of one core the refresher may take while votes pour in: after a batch that took t
# seconds it rests t * (1 / duty - 1), so the advice lags more under load instead of the
# votes slowing down. Assumption, tuned per deployment.
DEFAULT_DUTY = 0.25


def worker_threads() -> int:
    """The threads of a worker process (`COLIFT_THREADS`, default 8)."""
    return max(1, int(os.environ.get(THREADS_ENV_VAR, "") or DEFAULT_THREADS))


def pool_size() -> int:
    """The PostgreSQL pool of a worker process: `COLIFT_POOL_SIZE`, else its threads + 2."""
    return max(1, int(os.environ.get(POOL_ENV_VAR, "") or worker_threads() + 2))


def engine_from_url(url: str) -> Engine:
    """An engine sized for a web worker: on PostgreSQL a pool as large as its threads (plus
    the refresher and a spare, `pool_size`) and a small overflow, whose connections are checked
    before use when they sat idle (`ping_when_idle`)."""
    if url.startswith("sqlite"):
        return make_engine(url)
    engine = make_engine(url, pool_size=pool_size(), max_overflow=POOL_OVERFLOW)
    ping_when_idle(engine)
    return engine


def ping_when_idle(engine: Engine, idle_seconds: float = PING_AFTER_IDLE_SECONDS) -> None:
    """Check a pooled connection with a ping before use only if it sat idle `idle_seconds`;
    a dead one is replaced before the request sees it.

    `pool_pre_ping` pings on every checkout: a round trip for each unit of work, three per
    vote through the API, on connections that a busy server used a few milliseconds before.
    A connection used within the window is trusted; one that dies inside it (the database
    restarted just then) fails its request once and is replaced (SQLAlchemy invalidates the
    pool on a disconnect)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["colift_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("colift_idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the driver's own error: the connection is gone
            raise DisconnectionError("the pooled connection is gone") from exc
        if not alive:
            raise DisconnectionError("the pooled connection is gone")


class SummaryRefresher:
    """A daemon thread refreshing stale summary lines, in one process per database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="summary-refresher", daemon=True)
        self._lock_file: IO[bytes] | None = None
        duty = float(os.environ.get(DUTY_ENV_VAR, "") or DEFAULT_DUTY)
        self.duty = min(1.0, max(0.01, duty))

    def _lock_path(self) -> Path:
        key = self.engine.url.render_as_string(hide_password=True).encode()
        name = "colift-refresher-" + hashlib.sha256(key).hexdigest()[:16] + ".lock"
        return Path(tempfile.gettempdir()) / name

    def _try_lock(self) -> bool:
        handle = self._lock_path().open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock_file = handle
        return True

    def _run(self) -> None:
        from colift.services.summary import refresh_stale

        while not self.stop.is_set():
            if self._lock_file is None and not self._try_lock():
                self.stop.wait(10)  # another worker refreshes; take over if it ends
                continue
            started = time.perf_counter()
            try:
                done = refresh_stale(self.engine, BATCH)
            except Exception:  # a busy or restarting database: try again after a pause
                done = 0
            if done == 0:
                self.stop.wait(IDLE_SECONDS)
            else:
                spent = time.perf_counter() - started
                self.stop.wait(spent * (1 / self.duty - 1))

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        if self._lock_file is not None:
            self._lock_file.close()


def app_from_env() -> FastAPI:
    """The app of one worker process, configured from the environment (uvicorn's factory)."""
    from colift.app import create_app

    engine = engine_from_url(database_url())
    read_url = os.environ.get(READ_ENV_VAR, "").strip()
    read_engine = engine_from_url(read_url) if read_url else None
    app = create_app(engine, read_engine=read_engine)
    refresher = SummaryRefresher(engine) if os.environ.get(REFRESH_ENV_VAR, "1") != "0" else None
    threads = worker_threads()
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[Any]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        if refresher is not None:
            refresher.start()
        try:
            async with inner(app_) as state:
                yield state
        finally:
            if refresher is not None:
                refresher.close()

    app.router.lifespan_context = lifespan
    return app


def run(url: str, host: str, port: int, workers: int = 1, refresh: bool = True) -> None:
    """Serve `url` with `workers` uvicorn processes (each builds its app from the env)."""
    import uvicorn

    os.environ["COLIFT_DATABASE_URL"] = url
    os.environ[REFRESH_ENV_VAR] = "1" if refresh else "0"
    uvicorn.run(
        "colift.serving:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=max(1, workers),
        log_level="warning",
        access_log=False,
    )
