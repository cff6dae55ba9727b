"""The HTTP application: OpenAI-style chat completions, the audit-record endpoint, the page,
health and metrics, in front of one model and one `DynamicBatcher`.

`create_app(engine, model, settings)` takes any `GenerationBackend`, so tests can serve a tiny
model or a scripted engine; `emoreason.serve.server.serve` loads a real one and runs uvicorn.
"""

from __future__ import annotations

import asyncio
import copy
import hmac
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import Future
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import FileResponse, PlainTextResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from emoreason import __version__
from emoreason.data.schema import Sample, TaskInfo, resolve_task
from emoreason.formats import available_formats, get_format
from emoreason.generation import GenerationBackend, SamplingParams
from emoreason.inference import audit_record, build_conversation
from emoreason.models import Conversation, MediaError
from emoreason.serve.batcher import BatcherStopped, BatchResult, DynamicBatcher, QueueFull
from emoreason.serve.errors import APIError, install_error_handlers, validation_error
from emoreason.serve.metrics import Metrics, MetricsMiddleware
from emoreason.serve.openai_api import ChatRequest, chunk_events, completion_body, to_conversation
from emoreason.serve.uploads import MEDIA_KINDS, UploadSet, UploadStore

log = logging.getLogger(__name__)

STATIC = Path(str(resources.files("emoreason.serve") / "static"))
#: tasks offered by the page and `GET /v1/analyze/options` (any `resolve_task` name works in requests)
TASKS = ("vader", "mosi", "mosei", "sims", "simsv2", "mikels")
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
    api_key: str | None = None

    def __post_init__(self) -> None:
        for name in ("max_batch_size", "max_queue", "max_tokens_limit", "default_max_tokens", "max_n",
                     "max_upload_bytes", "max_body_bytes", "max_text_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.request_timeout_s <= 0 or self.batch_wait_ms < 0:
            raise ValueError("request_timeout_s must be > 0 and batch_wait_ms >= 0")


@dataclass
class ModelInfo:
    """What the server needs to know about the model behind the engine."""

    id: str
    family: str = "causal_lm"
    modalities: frozenset[str] = frozenset()
    tokenizer: Any = None  # counts prompt tokens (text models) and splits streamed answers
    context_length: int | None = None
    aliases: tuple[str, ...] = ()
    created: int = field(default_factory=lambda: int(time.time()))
    # the server's uses of its tokenizer take turns: a fast tokenizer raises "Already borrowed"
    # when two threads use it at once (`from_loaded` gives the server a copy of the engine's)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_loaded(cls, loaded: Any, requested: str | None = None) -> ModelInfo:
        """From a `LoadedModel`; the id is the one `emoreason analyze` writes in audit records."""
        model_id = loaded.model_id
        config = loaded.model.config
        text_config = getattr(config, "text_config", None) or config
        return cls(id=model_id, family=loaded.family.name, modalities=frozenset(loaded.family.modalities),
                   tokenizer=copy.deepcopy(loaded.tokenizer),
                   context_length=getattr(text_config, "max_position_embeddings", None),
                   aliases=tuple(a for a in ("default", loaded.name, requested) if a))

    def prompt_tokens(self, conversation: Conversation) -> int | None:
        """Tokens of a text model's rendered prompt; None when unknown (media models)."""
        if self.tokenizer is None or self.family != "causal_lm":
            return None
        from emoreason.models.families.causal_lm import render_prompts

        with self.lock:
            try:
                text = render_prompts(self.tokenizer, [conversation])[0]
            except Exception as err:  # noqa: BLE001 - a chat template refusing the messages (e.g. role order)
                raise APIError(400, f"the model's chat template rejects these messages: {err}",
                               param="messages") from None
            return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def stream_events(self, completions: list[Any], stops: tuple[str, ...], include_usage: bool) -> list[str]:
        with self.lock:
            return chunk_events(self.id, completions, stops, self.tokenizer, include_usage)


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """413 for request bodies over `max_bytes`: at once when Content-Length says so, else as soon
    as the streamed body passes the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await too_large(self.max_bytes).response()(scope, receive, send)
            return
        received = 0

        async def limited() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        await self.app(scope, limited, send)


def too_large(limit: int) -> APIError:
    return APIError(413, f"the request body is larger than the {limit / MiB:.1f} MiB limit", code="body_too_large")


class AnalyzeRequest(BaseModel):
    """`POST /v1/analyze` options (a JSON body, or the text fields of a multipart form)."""

    model_config = ConfigDict(extra="forbid")
    text: str = ""
    id: str | None = Field(None, max_length=128)
    format: str = "c2f"
    task: str = "vader"
    scale: str | list[float] | None = None  # "LOW,HIGH" or [LOW, HIGH]; overrides task
    labels: str | list[str] | None = None  # "a,b,c" or [...]; overrides task
    max_tokens: int | None = Field(None, ge=1)  # default: the server's default_max_tokens
    temperature: float = Field(0.0, ge=0.0, le=2.0)

    def resolve(self) -> tuple[TaskInfo, Any]:
        scale: tuple[float, float] | None = None
        if self.scale is not None:
            values = self.scale.split(",") if isinstance(self.scale, str) else self.scale
            try:
                low, high = (float(v) for v in values)
            except (TypeError, ValueError):
                raise APIError(400, f"scale takes two numbers LOW,HIGH; got {self.scale!r}", param="scale") from None
            if not low < high:
                raise APIError(400, "scale needs LOW < HIGH", param="scale")
            scale = (low, high)
        labels = self.labels.split(",") if isinstance(self.labels, str) else self.labels
        labels = tuple(x.strip() for x in labels or () if x.strip()) or None
        try:
            task = resolve_task(self.task, scale, labels)
        except ValueError as err:
            raise APIError(400, str(err), param="task") from None
        try:
            fmt = get_format(self.format)
        except ValueError as err:
            raise APIError(400, str(err), param="format") from None
        return task, fmt


def create_app(engine: GenerationBackend, model: ModelInfo, settings: ServeSettings | None = None) -> FastAPI:
    settings = settings or ServeSettings()
    metrics = Metrics()
    batcher = DynamicBatcher(engine, max_batch_rows=settings.max_batch_size, max_wait_s=settings.batch_wait_ms / 1000,
                             max_queue=settings.max_queue, on_batch=metrics.observe_batch)
    store = UploadStore(settings.max_upload_bytes)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        batcher.start()
        try:
            yield
        finally:
            await asyncio.to_thread(batcher.stop)
            store.close()

    app = FastAPI(title="emoreason", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.batcher, app.state.metrics, app.state.uploads, app.state.settings = batcher, metrics, store, settings
    app.state.model = model
    install_error_handlers(app)

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, err: BodyTooLarge) -> Any:
        return too_large(settings.max_body_bytes).response()

    known = {"/", "/health", "/metrics", "/v1/models", "/v1/chat/completions", "/v1/analyze", "/v1/analyze/options"}

    def endpoint_of(path: str) -> str:
        if path in known:
            return path
        if path.startswith("/static/"):
            return "/static"
        return "/v1/models/{id}" if path.startswith("/v1/models/") else "other"

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics, endpoint_of=endpoint_of)

    # -- helpers ----------------------------------------------------------------------------

    def check_key(request: Request) -> None:
        if settings.api_key is None:
            return
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), settings.api_key.encode()):
            raise APIError(401, "missing or wrong API key: send `Authorization: Bearer <key>`", code="invalid_api_key",
                           headers={"WWW-Authenticate": "Bearer"})

    def check_model(name: str) -> None:
        if name != model.id and name not in model.aliases:
            raise APIError(404, f"model {name!r} is not served here; GET /v1/models lists {model.id!r}",
                           param="model", code="model_not_found")

    def check_max_tokens(value: int | None, param: str) -> int:
        tokens = value if value is not None else min(settings.default_max_tokens, settings.max_tokens_limit)
        if tokens > settings.max_tokens_limit:
            raise APIError(400, f"{param} is {tokens}; this server allows at most {settings.max_tokens_limit}",
                           param=param, code="invalid_value")
        return tokens

    def check_context(conversation: Conversation, max_tokens: int, param: str) -> None:
        prompt = model.prompt_tokens(conversation)
        if prompt is not None and model.context_length and prompt + max_tokens > model.context_length:
            raise APIError(400, f"the prompt has {prompt} tokens and {param} asks for {max_tokens}; the model's "
                                f"context holds {model.context_length}", param=param, code="context_length_exceeded")

    async def generate(conversation: Conversation, params: SamplingParams, uploads: UploadSet) -> BatchResult:
        """Queue, wait (bounded), map failures to API errors. The request's uploads are deleted
        once its generation is over, or at once when it never ran."""
        future: Future | None = None
        try:
            try:
                future = batcher.submit([conversation], params)
            except QueueFull as err:
                raise APIError(503, "the server is busy (request queue full); retry later", code="queue_full",
                               headers={"Retry-After": str(err.retry_after)}) from None
            except BatcherStopped:
                raise APIError(503, "the server is shutting down", code="shutting_down",
                               headers={"Retry-After": "5"}) from None
            try:
                return await asyncio.wait_for(asyncio.wrap_future(future), settings.request_timeout_s)
            except TimeoutError:
                raise APIError(504, f"no answer within {settings.request_timeout_s:g} s (queue + generation)",
                               code="timeout") from None
            except MediaError as err:
                raise APIError(400, uploads.redact(str(err)), code="invalid_media") from None
            except BatcherStopped:
                raise APIError(503, "the server is shutting down", code="shutting_down",
                               headers={"Retry-After": "5"}) from None
            except ValueError as err:
                raise APIError(400, uploads.redact(str(err)), code="invalid_request") from None
        finally:
            if future is None:
                uploads.delete()
            else:
                future.add_done_callback(lambda _: uploads.delete())

    # -- public routes ------------------------------------------------------------------------

    public = APIRouter()
    security_headers = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
                                                   "media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
                                                   "frame-ancestors 'none'",
                        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

    @public.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers=security_headers)

    @public.get("/health")
    async def health() -> Any:
        ok = batcher.alive
        body = {"status": "ok" if ok else "unavailable", "model": model.id, "family": model.family,
                "modalities": sorted(model.modalities), "queue_depth": batcher.queue_depth,
                "max_queue": settings.max_queue, "batching": settings.max_batch_size > 1,
                "auth_required": settings.api_key is not None, "version": __version__}
        if not ok:
            return APIError(503, "the generation worker is not running", code="unavailable").response()
        return body

    # -- routes behind the API key ------------------------------------------------------------

    api = APIRouter(dependencies=[Depends(check_key)])

    @api.get("/metrics", response_class=PlainTextResponse)
    async def metrics_text() -> PlainTextResponse:
        gauges = {"emoreason_queue_depth": ("Requests waiting for a batch.", batcher.queue_depth),
                  "emoreason_running_rows": ("Rows in the batch being generated.", batcher.running_rows),
                  "emoreason_uptime_seconds": ("Seconds since the server started.", time.time() - metrics.started)}
        return PlainTextResponse(metrics.render(gauges), media_type="text/plain; version=0.0.4")

    def model_card() -> dict[str, Any]:
        return {"id": model.id, "object": "model", "created": model.created, "owned_by": "emoreason"}

    @api.get("/v1/models")
    async def list_models() -> Any:
        return {"object": "list", "data": [model_card()]}

    @api.get("/v1/models/{name:path}")
    async def get_model(name: str) -> Any:
        check_model(name)
        return model_card()

    @api.post("/v1/chat/completions")
    async def chat_completions(body: ChatRequest) -> Any:
        check_model(body.model)
        body.check_unsupported()
        if body.n > settings.max_n:
            raise APIError(400, f"n is {body.n}; this server allows at most {settings.max_n}", param="n",
                           code="invalid_value")
        param = "max_completion_tokens" if body.max_completion_tokens is not None else "max_tokens"
        max_tokens = check_max_tokens(body.max_completion_tokens or body.max_tokens, param)
        stops = body.stop_strings()
        params = SamplingParams(n=body.n, max_new_tokens=max_tokens, temperature=body.temperature, top_p=body.top_p,
                                stop_strings=stops, seed=body.seed)
        uploads = store.new_set()
        try:
            conversation = to_conversation(body, uploads, model.modalities, model.family, settings.max_text_chars)
            check_context(conversation, max_tokens, param)
        except BaseException:
            uploads.delete()
            raise
        result = await generate(conversation, params, uploads)
        completions = result.completions[0]
        if not body.stream:
            return completion_body(model.id, completions, stops)
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        # off the event loop: splitting into token deltas decodes every prefix of the answer
        events = await asyncio.to_thread(model.stream_events, completions, stops, include_usage)

        async def send() -> AsyncIterator[str]:
            for event in events:
                yield event

        return StreamingResponse(send(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @api.get("/v1/analyze/options")
    async def analyze_options() -> Any:
        tasks = {}
        for name in TASKS:
            task = resolve_task(name)
            tasks[name] = ({"scale": list(task.scale), "neutral": [task.neutral.low, task.neutral.high]}
                           if task.scale else {"labels": list(task.labels)})
        formats = {name: {"needs": "labels" if name == "emor3" else "scale"} for name in available_formats()}
        return {"model": model.id, "family": model.family, "modalities": sorted(model.modalities),
                "formats": formats, "tasks": tasks,
                "limits": {"max_tokens": settings.max_tokens_limit, "max_upload_bytes": settings.max_upload_bytes,
                           "max_text_chars": settings.max_text_chars}}

    @api.post("/v1/analyze")
    async def analyze(request: Request) -> Any:
        """The audit record `emoreason analyze --json` prints, for text plus optional media."""
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        uploads = store.new_set()
        try:
            media: dict[str, str] = {}
            if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
                options, media = await read_form(request, uploads)
            elif content_type in ("application/json", ""):
                try:
                    data = await request.json()
                except ValueError:
                    raise APIError(400, "the request body is not valid JSON", code="invalid_json") from None
                if not isinstance(data, dict):
                    raise APIError(400, "the JSON body must be an object with at least `text`", code="invalid_value")
                try:
                    options = AnalyzeRequest.model_validate(data)
                except ValidationError as err:
                    raise validation_error(err) from None
            else:
                raise APIError(415, f"send JSON or a form (multipart/form-data), not {content_type!r}",
                               code="unsupported_media_type")
            if len(options.text) > settings.max_text_chars:
                raise APIError(400, f"text has {len(options.text)} characters; the limit is {settings.max_text_chars}",
                               param="text", code="context_length_exceeded")
            if not options.text.strip() and not media:
                raise APIError(400, "give a text, or media to analyse", param="text")
            for kind in media:
                if kind not in model.modalities:
                    takes = ", ".join(sorted(model.modalities)) or "text only"
                    raise APIError(400, f"this model ({model.family}) takes {takes}, not {kind}", param=kind,
                                   code="unsupported_content")
            task, fmt = options.resolve()
            max_tokens = check_max_tokens(options.max_tokens, "max_tokens")
            sample = Sample(id=options.id or f"req-{uuid.uuid4().hex[:12]}", text=options.text.strip(), **media)
            try:
                conversation = build_conversation(sample, fmt, task)
            except ValueError as err:
                raise APIError(400, str(err), param="task") from None
            check_context(conversation, max_tokens, "max_tokens")
            params = SamplingParams(max_new_tokens=max_tokens, temperature=options.temperature,
                                    stop_strings=fmt.stop_strings)
        except BaseException:
            uploads.delete()
            raise
        result = await generate(conversation, params, uploads)
        return audit_record(sample, result.completions[0][0], fmt, task, model.id, result.seconds / result.batch_rows)

    async def read_form(request: Request, uploads: UploadSet) -> tuple[AnalyzeRequest, dict[str, str]]:
        fields: dict[str, str] = {}
        media: dict[str, str] = {}
        try:
            form_cm = request.form(max_files=len(MEDIA_KINDS), max_fields=16,
                                   max_part_size=settings.max_text_chars * 4 + 1024)
            async with form_cm as form:
                for key, value in form.multi_items():
                    if isinstance(value, UploadFile):
                        if key not in MEDIA_KINDS:
                            raise APIError(400, f"unknown file field {key!r}; use {', '.join(MEDIA_KINDS)}", param=key)
                        if key in media:
                            raise APIError(400, f"one {key} file per request", param=key)
                        if key not in model.modalities:
                            takes = ", ".join(sorted(model.modalities)) or "text only"
                            raise APIError(400, f"this model ({model.family}) takes {takes}, not {key}", param=key,
                                           code="unsupported_content")
                        data = await value.read(settings.max_upload_bytes + 1)
                        media[key] = uploads.save(key, data, filename=value.filename or None, param=key)
                    elif key in MEDIA_KINDS:
                        raise APIError(400, f"{key} must be a file upload (paths are not accepted)", param=key)
                    else:
                        fields[key] = value
        except StarletteHTTPException as err:  # what starlette makes of a malformed or oversized form
            raise APIError(400, f"bad multipart form: {err.detail}", code="invalid_form") from None
        try:
            return AnalyzeRequest.model_validate(fields), media
        except ValidationError as err:
            raise validation_error(err) from None

    app.include_router(public)
    app.include_router(api)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app

