"""The HTTP application: OpenAI-style chat completions, the audit-record endpoint, the page,
health and metrics, in front of one model and one `DynamicBatcher`.

`create_app(engine, model, settings)` takes any `GenerationBackend`, so tests can serve a tiny
model or a scripted engine; `emoreason.serve.server.serve` loads a real one and runs uvicorn.
The endpoints themselves are in `emoreason.serve.routes`, one file per group.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from emoreason import __version__
from emoreason.api.explainer import Explainer
from emoreason.generation import GenerationBackend
from emoreason.models.loading import LoadedModel
from emoreason.serve.batcher import DynamicBatcher
from emoreason.serve.errors import install_error_handlers
from emoreason.serve.guards import install_body_limit
from emoreason.serve.metrics import Metrics, MetricsMiddleware
from emoreason.serve.routes import analyze, openai_compat, page, status
from emoreason.serve.state import ModelInfo, ServeSettings, ServeState
from emoreason.serve.uploads import UploadStore

__all__ = ["ModelInfo", "ServeSettings", "create_app"]

#: request paths counted under their own name in the metrics; see `endpoint_label`
ENDPOINTS = frozenset(
    {"/", "/health", "/metrics", "/v1/models", "/v1/chat/completions", "/v1/analyze", "/v1/analyze/options"}
)


def create_app(engine: GenerationBackend, model: ModelInfo, settings: ServeSettings | None = None) -> FastAPI:
    settings = settings or ServeSettings()
    metrics = Metrics()
    batcher = DynamicBatcher(
        engine,
        max_batch_rows=settings.max_batch_size,
        max_wait_s=settings.batch_wait_ms / 1000,
        max_queue=settings.max_queue,
        on_batch=metrics.observe_batch,
    )
    # the Python API makes the audit records; with cues "auto" media the model cannot read are measured into cue
    # text (off: refused with 400).
    # A real engine's weights let a request ask for its words' attribution (a scripted one has none).
    weights = getattr(engine, "loaded", None)
    explainer = Explainer(
        model,
        engine,
        weights=weights if isinstance(weights, LoadedModel) else None,
        max_new_tokens=settings.default_max_tokens,
        cues=settings.cues,
        ground_quotes=settings.ground_quotes,
        name_negations=settings.name_negations,
        score_readout=settings.score_readout,
    )
    explainer.option = "max_tokens"  # a context-length refusal names the request's field
    state = ServeState(
        settings=settings,
        model=model,
        explainer=explainer,
        batcher=batcher,
        metrics=metrics,
        uploads=UploadStore(settings.max_upload_bytes),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.batcher.start()
        try:
            yield
        finally:
            await asyncio.to_thread(state.batcher.stop)
            state.uploads.close()

    app = FastAPI(
        title="emoreason", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.serve = state  # what the routes receive (`emoreason.serve.state.get_state`)
    # the parts stay reachable by their own names too, as before the routes were split out
    app.state.batcher, app.state.metrics, app.state.uploads = state.batcher, state.metrics, state.uploads
    app.state.settings, app.state.model = state.settings, state.model
    install_error_handlers(app)
    # the metrics middleware is added last so it wraps the body limit and counts its 413s
    install_body_limit(app, settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics, endpoint_of=endpoint_label)

    for group in (page, status, openai_compat, analyze):
        app.include_router(group.router)
    # mounted on the app itself: `include_router` does not carry mounts over on every FastAPI we support
    app.mount("/static", StaticFiles(directory=page.STATIC), name="static")
    return app


def endpoint_label(path: str) -> str:
    """The metrics label of a request path: a fixed, small set, whatever paths clients send."""
    if path in ENDPOINTS:
        return path
    if path.startswith("/static/"):
        return "/static"
    return "/v1/models/{id}" if path.startswith("/v1/models/") else "other"
