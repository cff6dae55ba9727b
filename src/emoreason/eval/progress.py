"""The one way evaluate's resumable passes (answers, faithfulness probes, attribution) report progress."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def run_counted(progress_factory: Any, total: int, done: int, work: Callable[[Any], T]) -> T:
    """`work(advance)` inside `progress_factory(total, done)`'s bar (`done` of `total` items kept from an
    earlier run), or `work(None)` where there is no factory."""
    if progress_factory is None:
        return work(None)
    with progress_factory(total, done) as advance:
        return work(advance)


__all__ = ["run_counted"]
