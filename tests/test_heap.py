"""`train.heap`: the pages a step freed go back to the system."""

from __future__ import annotations

import ctypes
import sys

import pytest

from emoreason.train.heap import release_free_heap, resident_gb

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not hasattr(ctypes.CDLL(None), "malloc_trim"),
    reason="malloc_trim is glibc's (Linux); elsewhere release_free_heap does nothing",
)


@glibc
def test_release_free_heap_gives_back_what_a_pinned_heap_keeps() -> None:
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    size, count = 64 * 1024, 1024  # 64 MB of blocks under the mmap threshold: served from the heap
    blocks = [libc.malloc(size) for _ in range(count)]
    for block in blocks:
        ctypes.memset(block, 1, size)  # resident
    pin = libc.malloc(size)  # outlives the rest, above them: the heap's top stays in use
    before = resident_gb()
    for block in blocks:
        libc.free(block)
    kept = resident_gb()
    assert release_free_heap() is True
    after = resident_gb()
    libc.free(pin)
    assert before is not None and kept is not None and after is not None
    # freed but pinned under a used top: glibc keeps most of it resident (a trim returns only the top)
    assert kept > before - 0.03
    assert after < kept - 0.05  # at least 50 of the 64 MB handed back


def test_resident_gb_reads_this_process() -> None:
    rss = resident_gb()
    if sys.platform.startswith("linux"):
        assert rss is not None and 0.01 < rss < 1024


def test_heap_keeper_trims_when_the_process_grew_past_its_slack(monkeypatch: pytest.MonkeyPatch) -> None:
    from emoreason.train import heap

    readings = iter([5.0, 2.0, 2.1, 2.6, 1.9, None])  # GB, in the order the keeper reads them
    trims: list[int] = []
    monkeypatch.setattr(heap, "resident_gb", lambda: next(readings))
    monkeypatch.setattr(heap, "release_free_heap", lambda: trims.append(1) or True)
    keeper = heap.HeapKeeper(slack_gb=0.25)
    assert keeper.after_step() == 2.0 and len(trims) == 1  # first step: trimmed, 5.0 -> 2.0
    assert keeper.after_step() == 2.1 and len(trims) == 1  # 2.1 <= 2.0 + 0.25: left alone
    assert keeper.after_step() == 1.9 and len(trims) == 2  # 2.6 > 2.25: trimmed to 1.9
    assert keeper.after_step() is None and len(trims) == 2  # /proc says nothing: nothing done
