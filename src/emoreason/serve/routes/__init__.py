"""The endpoints, one `APIRouter` per group; `emoreason.serve.app.create_app` includes them all.

- `page.py`: `GET /`, the web page (its files are mounted at `/static` by `create_app`);
- `status.py`: `GET /health` (no key needed) and `GET /metrics`;
- `openai_compat.py`: `GET /v1/models`, `GET /v1/models/{id}`, `POST /v1/chat/completions`;
- `analyze.py`: `GET /v1/analyze/options` and `POST /v1/analyze`, the audit-record endpoint.

Every route but `/` and `/health` needs the API key, when the server has one. Every router makes its routes
with `Route`, so each GET route answers HEAD too.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from fastapi.routing import APIRoute


class Route(APIRoute):
    """A FastAPI route that answers HEAD wherever it answers GET, as starlette's own routes do: FastAPI's take
    only the methods named, so `HEAD /health` (a load balancer's or a link checker's probe) was a 405. The
    response is GET's; the server sends its headers without the body."""

    def __init__(self, path: str, endpoint: Callable[..., Any], *, methods: Collection[str] | None = None, **kw: Any):
        named = {method.upper() for method in methods or ["GET"]}
        super().__init__(path, endpoint, methods=(named | {"HEAD"}) if "GET" in named else named, **kw)
