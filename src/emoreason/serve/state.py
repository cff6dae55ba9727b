"""What every endpoint shares: the settings, the model behind the engine, the explainer that makes
its audit records, the batcher, the metrics and the upload store, held in one `ServeState` that
`create_app` puts on `app.state.serve`.

Routes take it as a parameter (`state: StateDep`), so each route file reads as plain functions of
the request and the state, with no closures over `create_app`'s locals.
"""

from __future__ import annotations

import asyncio
import copy
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Annotated, Any, Self

from fastapi import Depends, Request

from emoreason.api.explainer import Explainer
from emoreason.formats.readout import SCORE_READOUTS
from emoreason.generation import SamplingParams
from emoreason.inference import ModelSpec
from emoreason.models import Conversation, MediaError
from emoreason.serve.batcher import BatcherStopped, BatchResult, DynamicBatcher, QueueFull
from emoreason.serve.errors import APIError, client_closed
from emoreason.serve.metrics import Metrics
from emoreason.serve.openai_api import chunk_events
from emoreason.serve.uploads import UploadSet, UploadStore

MiB = 2**20


@dataclass(frozen=True)
class ServeSettings:
    """Limits and batching switches (the `emoreason serve` options)."""

    max_batch_size: int = 32  # rows per generate call; 1 turns dynamic batching off
    batch_wait_ms: float = 10.0  # how long the first request of a batch waits for company
    max_queue: int = 64  # waiting requests; beyond this, 503 + Retry-After
    request_timeout_s: float = 120.0  # queue + generation, per request; then 504
    max_tokens_limit: int = 1024
    default_max_tokens: int = 256
    max_n: int = 8
    max_upload_bytes: int = 20 * MiB  # per media file
    max_body_bytes: int = 64 * MiB  # per request, all parts together
    max_text_chars: int = 20_000
    # `attribute: true` runs one prompt pass per word of the text after the answer, beyond the request timeout:
    # a 20,000-character text was 10,000 passes on the served weights
    max_attribution_words: int = 200
    api_key: str | None = None
    ground_quotes: bool = True  # /v1/analyze answers quote only the input (`generation.quotes`)
    name_negations: bool = True  # and name a negation a cue's list already applies (`generation.negations`)
    score_readout: str = "fitted"  # how /v1/analyze reads a scored answer's score (`formats.readout`)
    # media the model cannot read: "auto" measures them and gives them as cue text (`emoreason.cues`), as `analyze`
    # does, so a text model (the shipped speech-emotion adapter) takes a clip; "off" refuses them (400)
    cues: str = "auto"

    def __post_init__(self) -> None:
        for name in (
            "max_batch_size",
            "max_queue",
            "max_tokens_limit",
            "default_max_tokens",
            "max_n",
            "max_upload_bytes",
            "max_body_bytes",
            "max_text_chars",
            "max_attribution_words",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.request_timeout_s <= 0 or self.batch_wait_ms < 0:
            raise ValueError("request_timeout_s must be > 0 and batch_wait_ms >= 0")
        if self.cues not in ("auto", "off"):
            raise ValueError(f"cues must be auto or off, got {self.cues!r}")
        if self.score_readout not in SCORE_READOUTS:  # here, so `serve` says so before the model loads
            raise ValueError(f"score_readout must be one of {', '.join(SCORE_READOUTS)}, got {self.score_readout!r}")


@dataclass
class ModelInfo(ModelSpec):
    """What the server needs to know about the model behind the engine: a `ModelSpec` (the id its
    records carry, family, media, prompt counting) plus the names clients may call it by. A copy of
    its tokenizer splits streamed answers into token deltas (`stream_events`): with one tokenizer and
    one lock, a request's context check on the event loop waited for a stream's whole split."""

    aliases: tuple[str, ...] = ()
    created: int = field(default_factory=lambda: int(time.time()))
    _stream_tokenizer: Any = field(default=None, repr=False)
    _stream_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_loaded(cls, loaded: Any, requested: str | None = None, **more: Any) -> Self:
        """From a `LoadedModel` (the server gets a copy of the engine's tokenizer), known by its
        name, `default` and the name it was `requested` by."""
        aliases = tuple(a for a in ("default", loaded.name, requested) if a)
        return super().from_loaded(loaded, aliases=aliases, **more)

    def prompt_tokens(self, conversation: Conversation) -> int | None:
        """Tokens of a text model's rendered prompt; None when unknown (media models); a 400 when
        the chat template rejects the messages (e.g. their role order)."""
        try:
            return super().prompt_tokens(conversation)
        except ValueError as err:
            raise APIError(400, str(err), param="messages") from None

    def stream_events(self, completions: list[Any], stops: tuple[str, ...], include_usage: bool) -> list[str]:
        with self._stream_lock:  # streams take turns with each other, not with the context checks
            if self._stream_tokenizer is None and self.tokenizer is not None:
                with self.lock:
                    self._stream_tokenizer = copy.deepcopy(self.tokenizer)
            return chunk_events(self.id, completions, stops, self._stream_tokenizer, include_usage)


@dataclass
class ServeState:
    """One server's shared parts; `create_app` makes it, the lifespan starts and stops it."""

    settings: ServeSettings
    model: ModelInfo
    #: turns a request's sample and options into the prompt, and its completion into the audit
    #: record (`emoreason.api.Explainer`, as `emoreason analyze` does); generation goes through `batcher`
    explainer: Explainer
    batcher: DynamicBatcher
    metrics: Metrics
    uploads: UploadStore

    async def generate(
        self, conversation: Conversation, params: SamplingParams, uploads: UploadSet, request: Request | None = None
    ) -> BatchResult:
        """Queue, wait (bounded), map failures to API errors. The request's uploads are deleted
        once its generation is over, or at once when it never ran. With the `request` given, its
        client leaving ends the wait at once (499): still queued, it is dropped from its batch."""
        timeout_s = self.settings.request_timeout_s
        future: Future | None = None
        try:
            if request is not None and await request.is_disconnected():
                raise client_closed()  # gone while its input was prepared: nothing is queued
            try:
                future = self.batcher.submit([conversation], params)
            except QueueFull as err:
                raise APIError(
                    503,
                    "the server is busy (request queue full); retry later",
                    code="queue_full",
                    headers={"Retry-After": str(err.retry_after)},
                ) from None
            except BatcherStopped:
                raise shutting_down() from None
            try:
                return await answer_of(future, timeout_s, request)
            except TimeoutError:
                raise APIError(504, f"no answer within {timeout_s:g} s (queue + generation)", code="timeout") from None
            except MediaError as err:
                said, field = uploads.redact(str(err)), uploads.field_named_in(str(err))
                raise APIError(400, said, param=field, code="invalid_media") from None
            except BatcherStopped:
                raise shutting_down() from None
            except ValueError as err:
                raise APIError(400, uploads.redact(str(err)), code="invalid_request") from None
        finally:
            if future is None:
                uploads.delete()
            else:
                future.add_done_callback(lambda _: uploads.delete())


async def answer_of(future: Future, timeout_s: float, request: Request | None) -> BatchResult:
    """The batch's result for `future`; a TimeoutError after `timeout_s`, and a 499 as soon as the client of
    `request` has gone. Either way the future is cancelled: one still queued is never generated (`DynamicBatcher`
    drops it), one running finishes with its batch (the engine cannot stop one row) and its result is discarded."""
    answer = asyncio.wrap_future(future)
    waits: set[asyncio.Future[Any]] = {answer}
    left = asyncio.ensure_future(client_gone(request)) if request is not None else None
    if left is not None:
        waits.add(left)
    try:
        done, _ = await asyncio.wait(waits, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        answer.cancel()  # nothing once it is done
        if left is not None:
            left.cancel()
    if answer in done:
        return answer.result()
    if left in done:
        left.result()  # what went wrong, if the watch itself failed
        raise client_closed()
    raise TimeoutError


async def client_gone(request: Request) -> None:
    """Returns once the client has closed the connection. Its body is read by then, so the next message the
    server has for the request is `http.disconnect` (uvicorn's, as soon as the socket closes)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def shutting_down() -> APIError:
    return APIError(503, "the server is shutting down", code="shutting_down", headers={"Retry-After": "5"})


def get_state(request: Request) -> ServeState:
    return request.app.state.serve


#: a route parameter annotated with this receives the app's `ServeState`
StateDep = Annotated[ServeState, Depends(get_state)]
