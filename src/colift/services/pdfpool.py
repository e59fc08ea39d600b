"""One shared headless Chromium for every PDF a process prints.

Starting a browser costs about a second and 100+ MB; one per request (the old way) let eight
parallel requests from one resident start 86 processes and 6.5 GB. Here a process has at most
one browser, started on the first PDF (never at import or start-up), driven by Playwright's
async API on a thread of its own. A small pool of pages prints in parallel (`COLIFT_PDF_PAGES`,
default 2 — the machine's cores, not the number of callers); callers beyond that wait in a
queue with a bound (`COLIFT_PDF_QUEUE`, default 16), and one more is refused at once with
`PrintBusy` (429 with `Retry-After`) instead of piling up memory. When the browser dies
(killed, out of memory), the next PDF starts a new one; the request that saw it die is retried
once on the new browser.

PDFs are cached by the SHA-256 of the HTML they were printed from (and the print options), up
to `COLIFT_PDF_CACHE_MB` (default 64) with least-recently-used eviction: the same document
printed twice is printed once; any change to it (a vote, a new ledger head) changes the HTML and
so the key. The browser is Debian's `chromium` (or $COLIFT_CHROMIUM); Playwright never
downloads one.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import os
import threading
from collections import OrderedDict
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from colift.errors import ColiftError
from colift.i18n import msg

PRINT_OPTIONS: dict[str, Any] = {
    "format": "A4",
    "prefer_css_page_size": True,  # a document's own @page size wins (survey: A4 landscape)
    "print_background": True,
    "margin": {"top": "15mm", "bottom": "15mm", "left": "15mm", "right": "15mm"},
}
_CACHE_VERSION = "pdf/2"  # part of every cache key: change it when PRINT_OPTIONS change
RENDER_TIMEOUT_S = 60.0
# Fewer processes, less memory: no extensions, no site isolation (one trusted document), at most
# as many renderers as the pool has pages.
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-extensions",
    "--disable-features=Translate,MediaRouter,OptimizationHints,site-per-process",
]


class PrintBusy(ColiftError):
    """Every page of the pool is printing and the queue is full; `retry_after` in seconds."""

    code = "print_busy"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            msg(
                "the printer is busy with other documents: try again in {seconds} s",
                seconds=retry_after,
            )
        )
        self.retry_after = retry_after


class PrintFailed(ColiftError):
    """Chromium failed twice on one document (after a restart)."""

    code = "print_unavailable"


def _env_int(name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(os.environ.get(name, default))
    except ValueError:
        return default
    return min(max(value, low), high)


@dataclass
class PoolStats:
    """What the pool did since it was made (for tests, benchmarks and `docs/reliability.md`)."""

    printed: int = 0  # PDFs Chromium printed
    cache_hits: int = 0
    refused: int = 0  # PrintBusy answers
    launches: int = 0  # browsers started (1 + restarts)


class PdfCache:
    """PDF bytes by content hash, least recently used evicted beyond `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    @staticmethod
    def key(html: str) -> str:
        return hashlib.sha256(f"{_CACHE_VERSION}\0{html}".encode()).hexdigest()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: str, pdf: bytes) -> None:
        if len(pdf) > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = pdf
            self._size += len(pdf)
            while self._size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0


class PdfPool:
    """A lazily started browser, `pages` pages printing at once, at most `queue` waiting."""

    def __init__(
        self,
        executable: str,
        *,
        pages: int = 2,
        queue: int = 16,
        cache_bytes: int = 64 * 2**20,
    ) -> None:
        self.executable = executable
        self.pages = max(1, pages)
        self.queue = max(0, queue)
        self.cache = PdfCache(cache_bytes)
        self.stats = PoolStats()
        self._lock = threading.Lock()  # guards the thread start and the in-flight count
        self._in_flight = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Touched only on the pool's own thread:
        self._playwright: Any = None
        self._driver_pid: int | None = None  # this pool's Playwright driver, its browser under it
        self._browser: Any = None
        self._idle: list[Any] = []  # open pages not printing now
        self._slots: asyncio.Semaphore | None = None
        self._starting: asyncio.Lock | None = None

    # --- the caller's side -------------------------------------------------------------------

    def render(self, html: str) -> bytes:
        """The PDF of `html`, from the cache or printed by the shared browser."""
        key = self.cache.key(html)
        cached = self.cache.get(key)
        if cached is not None:
            with self._lock:
                self.stats.cache_hits += 1
            return cached
        with self._lock:
            if self._in_flight >= self.pages + self.queue:
                self.stats.refused += 1
                raise PrintBusy(self._retry_after())
            self._in_flight += 1
            loop = self._ensure_thread()
        try:
            future = asyncio.run_coroutine_threadsafe(self._print(html), loop)
            try:
                pdf = future.result(timeout=RENDER_TIMEOUT_S)
            except FutureTimeout:
                future.cancel()
                raise PrintFailed(
                    "Chromium took longer than {seconds} s to print this document",
                    seconds=int(RENDER_TIMEOUT_S),
                ) from None
        finally:
            with self._lock:
                self._in_flight -= 1
        self.cache.put(key, pdf)
        return pdf

    @property
    def in_flight(self) -> int:
        """Documents printing or waiting for a page now."""
        with self._lock:
            return self._in_flight

    def _retry_after(self) -> int:
        # A page prints a document in well under a second; the whole queue ahead drains in
        # about (queue / pages) seconds. Never less than 1.
        return max(1, -(-self.queue // self.pages))

    def _ensure_thread(self) -> asyncio.AbstractEventLoop:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            return self._loop
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            self._slots = asyncio.Semaphore(self.pages)
            self._starting = asyncio.Lock()
            ready.set()
            loop.run_forever()

        thread = threading.Thread(target=run, name="colift-pdf", daemon=True)
        thread.start()
        ready.wait()
        self._loop, self._thread = loop, thread
        return loop

    def browser_pid(self) -> int | None:
        """This pool's browser's main process id, when one runs (None before the first PDF).

        Looked for under this pool's own Playwright driver: another pool of the same process
        (the web app's beside a test's) has a browser of its own under its own driver."""
        root = self._driver_pid
        if root is None:
            return None
        for proc in process_tree(root):
            if proc.is_browser_main(self.executable):
                return proc.pid
        return None

    def close(self) -> None:
        """Close the browser and stop the pool's thread (the next PDF starts them again)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        if thread.is_alive():
            with contextlib.suppress(Exception):  # already gone, or closing after a crash
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=15)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)

    # --- the pool's thread ---------------------------------------------------------------------

    async def _print(self, html: str) -> bytes:
        assert self._slots is not None
        async with self._slots:
            try:
                return await self._print_once(html)
            except Exception as exc:
                if not self._is_browser_error(exc):
                    raise
                await self._drop_browser()
                try:
                    return await self._print_once(html)
                except Exception as again:
                    if not self._is_browser_error(again):
                        raise
                    await self._drop_browser()
                    raise PrintFailed(
                        "Chromium failed to print this document: {error}",
                        error=str(again).splitlines()[0][:200],
                    ) from None

    @staticmethod
    def _is_browser_error(exc: BaseException) -> bool:
        from playwright.async_api import Error as PlaywrightError

        return isinstance(exc, PlaywrightError)

    async def _print_once(self, html: str) -> bytes:
        browser = await self._browser_now()
        page = self._idle.pop() if self._idle else await browser.new_page()
        try:
            await page.set_content(html, wait_until="load")
            pdf: bytes = await page.pdf(**PRINT_OPTIONS)
        except BaseException:
            with contextlib.suppress(Exception):  # already gone, or closing after a crash
                await page.close()
            raise
        await page.goto("about:blank")  # leave nothing of this document in the pooled page
        if browser is self._browser and len(self._idle) < self.pages:
            self._idle.append(page)
        else:
            await page.close()
        self.stats.printed += 1
        return pdf

    async def _browser_now(self) -> Any:
        assert self._starting is not None
        async with self._starting:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            await self._drop_browser()
            if self._playwright is None:
                from playwright.async_api import async_playwright

                before = {p.pid for p in process_tree(os.getpid())}
                self._playwright = await async_playwright().start()
                started = [
                    p.pid
                    for p in process_tree(os.getpid())
                    if p.pid not in before and p.ppid == os.getpid()
                ]
                self._driver_pid = started[0] if len(started) == 1 else None
            self._browser = await self._playwright.chromium.launch(
                executable_path=self.executable,
                args=[*BROWSER_ARGS, f"--renderer-process-limit={self.pages}"],
            )
            self.stats.launches += 1
            return self._browser

    async def _drop_browser(self) -> None:
        browser, self._browser = self._browser, None
        self._idle.clear()
        if browser is not None:
            with contextlib.suppress(Exception):  # already gone, or closing after a crash
                await browser.close()

    async def _shutdown(self) -> None:
        await self._drop_browser()
        if self._playwright is not None:
            playwright, self._playwright = self._playwright, None
            self._driver_pid = None
            with contextlib.suppress(Exception):  # already gone, or closing after a crash
                await playwright.stop()


# --- the process's pool ----------------------------------------------------------------------

_pool: PdfPool | None = None
_pool_lock = threading.Lock()


def shared_pool(executable: str) -> PdfPool:
    """The process's one pool (made on first use, closed at exit)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool.executable != executable:
            if _pool is not None:
                _pool.close()
            _pool = PdfPool(
                executable,
                pages=_env_int("COLIFT_PDF_PAGES", 2, 1, 8),
                queue=_env_int("COLIFT_PDF_QUEUE", 16, 0, 256),
                cache_bytes=_env_int("COLIFT_PDF_CACHE_MB", 64, 0, 4096) * 2**20,
            )
        return _pool


def current_pool() -> PdfPool | None:
    return _pool


def close_shared_pool() -> None:
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.close()


atexit.register(close_shared_pool)


# --- processes (tests and the benchmark count and weigh the browser) ---------------------------


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    exe: str
    cmdline: tuple[str, ...]
    rss_kb: int
    pss_kb: int | None

    def is_browser_main(self, executable: str) -> bool:
        """The browser's own process (not a renderer, GPU or zygote helper)."""
        name = Path(executable).name
        return (
            bool(self.cmdline)
            and (Path(self.cmdline[0]).name.startswith(name) or Path(self.exe).name == name)
            and not any(a.startswith("--type=") for a in self.cmdline)
        )

    def is_browser(self, executable: str) -> bool:
        name = Path(executable).name
        return bool(self.cmdline) and (
            Path(self.exe).name.startswith(name) or Path(self.cmdline[0]).name.startswith(name)
        )


def _read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def _status_kb(status: str, field: str) -> int:
    for line in status.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _proc(pid: int) -> Proc | None:
    status = _read(f"/proc/{pid}/status")
    if not status:
        return None
    cmdline = tuple(a for a in _read(f"/proc/{pid}/cmdline").split("\0") if a)
    if len(cmdline) == 1 and " --" in cmdline[0]:
        cmdline = tuple(cmdline[0].split())  # Chromium rewrites its helpers' argv as one string
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        exe = ""
    rollup = _read(f"/proc/{pid}/smaps_rollup")
    pss = _status_kb(rollup, "Pss") if rollup else None
    return Proc(
        pid=pid,
        ppid=_status_kb(status, "PPid"),
        exe=exe,
        cmdline=cmdline,
        rss_kb=_status_kb(status, "VmRSS"),
        pss_kb=pss,
    )


def process_tree(root: int) -> list[Proc]:
    """Every live descendant of `root` (not `root` itself), read from /proc."""
    procs: dict[int, Proc] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            found = _proc(int(entry.name))
            if found is not None:
                procs[found.pid] = found
    children: dict[int, list[int]] = {}
    for p in procs.values():
        children.setdefault(p.ppid, []).append(p.pid)
    out: list[Proc] = []
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        out.append(procs[pid])
        todo.extend(children.get(pid, []))
    return out


def browser_memory_kb(executable: str, root: int | None = None) -> tuple[int, int, int]:
    """(processes, RSS sum, PSS sum) of the browser processes under `root` (default: us)."""
    mine = [p for p in process_tree(root or os.getpid()) if p.is_browser(executable)]
    rss = sum(p.rss_kb for p in mine)
    pss = sum(p.pss_kb if p.pss_kb is not None else p.rss_kb for p in mine)
    return len(mine), rss, pss


def count_browsers(executable: str, root: int | None = None) -> int:
    """How many browser main processes run under `root` (default: this process)."""
    return sum(1 for p in process_tree(root or os.getpid()) if p.is_browser_main(executable))
