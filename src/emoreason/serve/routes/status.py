"""`GET /health` (open to all, for load balancers and the page) and `GET /metrics` (Prometheus text)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse

from emoreason import __version__
from emoreason.serve.errors import APIError
from emoreason.serve.guards import require_api_key
from emoreason.serve.routes import Route
from emoreason.serve.state import StateDep

router = APIRouter(route_class=Route)


@router.get("/health")
async def health(state: StateDep) -> Any:
    batcher, model, settings = state.batcher, state.model, state.settings
    if not batcher.alive:
        return APIError(503, "the generation worker is not running", code="unavailable").response()
    return {
        "status": "ok",
        "model": model.id,
        "family": model.family,
        "modalities": sorted(model.modalities),
        "queue_depth": batcher.queue_depth,
        "max_queue": settings.max_queue,
        "batching": settings.max_batch_size > 1,
        "auth_required": settings.api_key is not None,
        "version": __version__,
    }


@router.get("/metrics", response_class=PlainTextResponse, dependencies=[Depends(require_api_key)])
async def metrics_text(state: StateDep) -> PlainTextResponse:
    batcher, metrics = state.batcher, state.metrics
    # gauges are read at scrape time; the counters and histograms live in `metrics`
    gauges = {
        "emoreason_queue_depth": ("Requests waiting for a batch.", batcher.queue_depth),
        "emoreason_running_rows": ("Rows in the batch being generated.", batcher.running_rows),
        "emoreason_uptime_seconds": ("Seconds since the server started.", time.time() - metrics.started),
    }
    return PlainTextResponse(metrics.render(gauges), media_type="text/plain; version=0.0.4")
