"""Dynamic batching: concurrent requests share one `engine.generate` call.

Requests wait in a bounded queue. One worker thread takes the oldest request, waits until
`max_wait_s` after its arrival for others, then runs every waiting request with the *same*
sampling parameters (up to `max_batch_rows` rows, a prompt with `n` choices counting `n`) as one
batch. Requests with other parameters stay queued for a later batch; the oldest always leads, so
none starves. Generation runs in the worker thread, so the event loop keeps serving.

A request that times out, or whose client leaves, while queued is dropped before it runs (its future
is cancelled); one that is already running finishes (the engine cannot stop one row of a batch) and
its result is discarded. When a batch
fails, each of its requests is run again alone, so one bad request cannot fail its neighbours.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from emoreason.generation import Completion, GenerationBackend, SamplingParams
from emoreason.models import Conversation

log = logging.getLogger(__name__)


class QueueFull(Exception):
    """The queue holds `max_queue` requests; try again after `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"queue full; retry after {retry_after} s")
        self.retry_after = retry_after


class BatcherStopped(Exception):
    """The server is shutting down."""


@dataclass
class BatchResult:
    completions: list[list[Completion]]  # per conversation of the request, `n` each
    seconds: float  # wall time of the whole batch
    batch_rows: int  # rows in the batch this request ran in
    batch_requests: int


@dataclass
class _Job:
    conversations: list[Conversation]
    params: SamplingParams
    future: Future = field(default_factory=Future)
    enqueued: float = field(default_factory=time.perf_counter)

    @property
    def rows(self) -> int:
        return len(self.conversations) * self.params.n


def runs_alone(params: SamplingParams) -> bool:
    """A seeded request that samples: the engine draws one random stream per batch, so in company its answer
    depended on which requests shared the batch and its row in it; alone, one seed gives one answer."""
    return params.seed is not None and params.temperature > 0


class DynamicBatcher:
    """Queue + worker thread in front of a generation engine (see module docstring).

    `max_batch_rows=1` turns batching off: every request runs alone, in arrival order.
    `on_batch(rows, requests, seconds, completion_tokens)` is called after every batch.
    """

    def __init__(
        self,
        engine: GenerationBackend,
        max_batch_rows: int = 32,
        max_wait_s: float = 0.01,
        max_queue: int = 64,
        on_batch: Callable[[int, int, float, int], None] | None = None,
    ):
        if max_batch_rows < 1 or max_queue < 1:
            raise ValueError("max_batch_rows and max_queue must be >= 1")
        self.engine = engine
        self.max_batch_rows, self.max_wait_s, self.max_queue = max_batch_rows, max_wait_s, max_queue
        self.on_batch = on_batch
        self._pending: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="emoreason-generate", daemon=True)
        self._batch_seconds = 1.0  # moving average, for Retry-After
        self.running_rows = 0

    # -- public ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Refuse new requests, fail the queued ones, let the running batch finish."""
        with self._cond:
            self._stopping = True
            dropped = list(self._pending)
            self._pending.clear()
            self._cond.notify_all()
        for job in dropped:
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(BatcherStopped("the server is shutting down"))
        if self._thread.is_alive():
            self._thread.join(timeout)

    def submit(self, conversations: list[Conversation], params: SamplingParams) -> Future:
        """Queue one request; its future resolves to a `BatchResult` (or the engine's exception)."""
        job = _Job(list(conversations), params)
        with self._cond:
            if self._stopping:
                raise BatcherStopped("the server is shutting down")
            if len(self._pending) >= self.max_queue:
                self._drop_cancelled()
            if len(self._pending) >= self.max_queue:
                raise QueueFull(self.retry_after())
            self._pending.append(job)
            self._cond.notify()
        return job.future

    @property
    def queue_depth(self) -> int:
        """Requests waiting (not counting the batch that is running)."""
        with self._cond:
            return sum(not job.future.cancelled() for job in self._pending)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self._stopping

    def retry_after(self) -> int:
        """Seconds until the queue has likely drained by one batch's worth."""
        batches_ahead = len(self._pending) / max(1, self.max_batch_rows)
        return max(1, math.ceil(self._batch_seconds * min(batches_ahead, 10.0)))

    # -- worker ---------------------------------------------------------------------------

    def _drop_cancelled(self) -> None:
        self._pending = deque(job for job in self._pending if not job.future.cancelled())

    def _take_batch(self) -> list[_Job]:
        with self._cond:
            while True:
                self._drop_cancelled()
                if self._stopping:
                    return []
                if not self._pending:
                    self._cond.wait()
                    continue
                first = self._pending[0]
                compatible = sum(job.rows for job in self._pending if job.params == first.params)
                wait = first.enqueued + self.max_wait_s - time.perf_counter()
                if runs_alone(first.params) or compatible >= self.max_batch_rows or wait <= 0:
                    break
                self._cond.wait(wait)
            batch, rows, keep = [], 0, deque()
            for job in self._pending:
                fits = not batch or (rows + job.rows <= self.max_batch_rows and not runs_alone(first.params))
                if job.params == first.params and fits:
                    batch.append(job)
                    rows += job.rows
                else:
                    keep.append(job)
            self._pending = keep
        # a job cancelled (timed out) since the check above is dropped here
        return [job for job in batch if job.future.set_running_or_notify_cancel()]

    def _run(self) -> None:
        while True:
            batch = self._take_batch()
            if not batch:
                if self._stopping:
                    return
                continue
            self._run_batch(batch)

    def _run_batch(self, batch: list[_Job]) -> None:
        params = batch[0].params
        conversations = [c for job in batch for c in job.conversations]
        rows = len(conversations) * params.n
        self.running_rows = rows
        started = time.perf_counter()
        try:
            outputs = self.engine.generate(conversations, params)
        except Exception as err:  # noqa: BLE001 - handed to the request that caused it
            self.running_rows = 0
            if len(batch) > 1:
                log.info("a batch of %d requests failed (%s); running them one by one", len(batch), err)
                for job in batch:
                    self._run_batch([job])
                return
            batch[0].future.set_exception(err)
            return
        finally:
            self.running_rows = 0
        seconds = time.perf_counter() - started
        self._batch_seconds = 0.8 * self._batch_seconds + 0.2 * seconds
        start = 0
        for job in batch:
            mine = outputs[start : start + len(job.conversations)]
            start += len(job.conversations)
            job.future.set_result(BatchResult(mine, seconds, rows, len(batch)))
        if self.on_batch is not None:
            tokens = sum(c.num_tokens for out in outputs for c in out)
            self.on_batch(rows, len(batch), seconds, tokens)
