"""One run per output folder: two runs writing one folder at once mix their records without a word
(the resume checks pass for both before either writes). A run holds an OS lock on OUT/.emoreason.lock
while it writes there; a second run is refused, naming the first. The OS drops the lock when its
process ends, however it ends, so a killed run never leaves a folder locked."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import IO

LOCK_FILE = ".emoreason.lock"


class FolderBusy(RuntimeError):
    """Another run holds the output folder."""


class FolderLock:
    """`with FolderLock(out, "evaluate"):` holds `out` for this process (`what` names the run for the
    refusal another one gets). Where the platform has no `fcntl` (Windows) it holds nothing."""

    def __init__(self, folder: str | Path, what: str) -> None:
        self.folder, self.what = Path(folder), what
        self._handle: IO[str] | None = None  # a file object: it closes (and unlocks) when collected too

    def acquire(self) -> FolderLock:
        try:
            import fcntl
        except ImportError:  # no advisory locks here: run unguarded, as before
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        handle = open(self.folder / LOCK_FILE, "a+", encoding="utf-8")  # noqa: SIM115 - held for the run
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read(300).strip() or "another process"
            handle.close()
            raise FolderBusy(
                f"{self.folder} is in use by another run ({holder}); wait for it to end, or give another folder"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{self.what}, process {os.getpid()}")
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing drops the lock; the file stays (removing it could race a waiter)
            self._handle = None

    def __enter__(self) -> FolderLock:
        return self if self._handle is not None else self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()


__all__ = ["LOCK_FILE", "FolderBusy", "FolderLock"]
