"""One shared Chromium prints every PDF: 8 parallel requests start one browser, a killed browser
is replaced, the same document is printed once, and a full queue answers 429 at once.

Needs Debian's chromium (or $COLIFT_CHROMIUM); without it the tests are skipped, except under
CI=true where they fail. The limits per account are tested in test_quota.py without a browser.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from colift.services.documents import chromium_path
from colift.services.pdfpool import PdfPool, PrintBusy, browser_memory_kb, count_browsers


@pytest.fixture
def executable() -> str:
    found = chromium_path()
    if found is None:
        message = "chromium not found: install Debian's chromium package to print PDFs"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
def pool(executable: str) -> Iterator[PdfPool]:
    made = PdfPool(executable, pages=2, queue=16)
    try:
        yield made
    finally:
        made.close()


def _document(i: int) -> str:
    rows = "".join(f"<tr><td>{i}-{n}</td><td>室{n}</td></tr>" for n in range(200))
    return f"<html><body><h1>公示 {i}</h1><table>{rows}</table></body></html>"


def test_eight_parallel_pdfs_share_one_browser(pool: PdfPool, executable: str) -> None:
    # Other browsers of this test process (the browser tests' own, another pool) are counted
    # once before and taken off: what is asserted is what this pool adds.
    before = count_browsers(executable)
    before_processes = browser_memory_kb(executable)[0]
    assert pool.stats.launches == 0, "no browser before the first PDF (started lazily)"
    results: list[bytes] = []
    seen: list[int] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.append(count_browsers(executable))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    threads = [
        threading.Thread(target=lambda i=i: results.append(pool.render(_document(i))))
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    done.set()
    watcher.join()
    assert len(results) == 8 and all(pdf.startswith(b"%PDF-") for pdf in results)
    added = sorted({n - before for n in seen})
    assert max(added) == 1, f"browser main processes added while printing: {added}"
    assert pool.stats.launches == 1 and pool.stats.printed == 8
    processes = browser_memory_kb(executable)[0] - before_processes
    # browser, zygotes, network, storage, GPU and the pages' renderers: a dozen at most (the
    # browser-per-request way started 86 for the same eight requests)
    assert 1 <= processes <= 12, f"{processes} browser processes for a pool of 2 pages"


def test_the_same_document_is_printed_once(pool: PdfPool) -> None:
    first = pool.render(_document(1))
    again = pool.render(_document(1))
    assert again == first
    assert pool.stats.printed == 1 and pool.stats.cache_hits == 1
    pool.render(_document(2))  # any change to the HTML is a new key
    assert pool.stats.printed == 2


def test_a_killed_browser_is_replaced(pool: PdfPool) -> None:
    pool.render(_document(1))
    pid = pool.browser_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pool.browser_pid() == pid and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool.render(_document(2)).startswith(b"%PDF-")
    assert pool.stats.launches == 2
    assert pool.browser_pid() not in (None, pid)


def test_each_pool_knows_its_own_browser_beside_another_pools(
    pool: PdfPool, executable: str
) -> None:
    other = PdfPool(executable, pages=1)  # the web app's pool beside a test's, in one process
    try:
        other.render(_document(0))
        pool.render(_document(1))
        mine, theirs = pool.browser_pid(), other.browser_pid()
        assert mine is not None and theirs is not None and mine != theirs
        os.kill(theirs, signal.SIGKILL)
        assert pool.browser_pid() == mine  # killing the other pool's browser is not ours
        assert pool.render(_document(2)).startswith(b"%PDF-")
        assert pool.stats.launches == 1
    finally:
        other.close()


def test_a_full_queue_refuses_at_once_with_a_wait(executable: str) -> None:
    pool = PdfPool(executable, pages=1, queue=0)
    try:
        pool.render(_document(0))  # the browser is up
        long_one = "".join(_document(n) for n in range(20))  # a few seconds on one page
        worker = threading.Thread(target=pool.render, args=(long_one,))
        worker.start()
        deadline = time.monotonic() + 10
        while pool.in_flight == 0 and time.monotonic() < deadline:
            time.sleep(0.001)
        assert pool.in_flight == 1
        with pytest.raises(PrintBusy) as busy:
            pool.render(_document(2))
        assert busy.value.retry_after >= 1
        worker.join(timeout=120)
        assert pool.stats.refused == 1 and pool.stats.printed == 2
    finally:
        pool.close()
