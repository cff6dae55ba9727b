"""The OpenAI-compatible endpoints: `GET /v1/models`, `GET /v1/models/{id}` and
`POST /v1/chat/completions` (streamed or not). The request schema, the translation of messages
into a `Conversation` and the response and chunk bodies are in `emoreason.serve.openai_api`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from emoreason.generation import SamplingParams
from emoreason.serve.errors import APIError, validation_error
from emoreason.serve.guards import check_context, check_max_tokens, read_json_object, require_api_key
from emoreason.serve.openai_api import CHAT_FIELDS, ChatRequest, completion_body, to_conversation
from emoreason.serve.routes import Route
from emoreason.serve.state import ModelInfo, StateDep

router = APIRouter(route_class=Route, dependencies=[Depends(require_api_key)])


def check_model(model: ModelInfo, name: str) -> None:
    """404 unless `name` is the served model's id or one of its aliases."""
    if name != model.id and name not in model.aliases:
        raise APIError(
            404,
            f"model {name!r} is not served here; GET /v1/models lists {model.id!r}",
            param="model",
            code="model_not_found",
        )


async def read_chat(request: Request) -> ChatRequest:
    """The request's body as a `ChatRequest`; a 400 saying what is wrong with it and what to send instead
    (FastAPI's own reading said "Field required" for an empty body, and for JSON that is not an object, or a
    body sent as a form, "Input should be a valid dictionary or object to extract fields from")."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("", "application/json") and not content_type.endswith("+json"):
        message = (
            f"the request body is sent as {content_type!r}; send it as JSON (Content-Type: application/json): "
            f"an object with {CHAT_FIELDS}"
        )
        raise APIError(400, message, code="invalid_json")
    data = await read_json_object(request, CHAT_FIELDS)
    try:
        return ChatRequest.model_validate(data)
    except ValidationError as err:
        raise validation_error(err) from None


def model_card(model: ModelInfo) -> dict[str, Any]:
    return {"id": model.id, "object": "model", "created": model.created, "owned_by": "emoreason"}


@router.get("/v1/models")
async def list_models(state: StateDep) -> Any:
    return {"object": "list", "data": [model_card(state.model)]}


@router.get("/v1/models/{name:path}")
async def get_model(name: str, state: StateDep) -> Any:
    check_model(state.model, name)
    return model_card(state.model)


@router.post("/v1/chat/completions")
async def chat_completions(request: Request, state: StateDep) -> Any:
    model, settings = state.model, state.settings
    body = await read_chat(request)  # its strings checked as text (`read_json_object`)
    check_model(model, body.model)
    body.check_unsupported()
    body.check_seed()
    if body.n > settings.max_n:
        raise APIError(
            400, f"n is {body.n}; this server allows at most {settings.max_n}", param="n", code="invalid_value"
        )
    param = "max_completion_tokens" if body.max_completion_tokens is not None else "max_tokens"
    max_tokens = check_max_tokens(settings, body.max_completion_tokens or body.max_tokens, param)
    stops = body.stop_strings()
    params = SamplingParams(
        n=body.n,
        max_new_tokens=max_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        stop_strings=stops,
        seed=body.seed,
    )
    uploads = state.uploads.new_set()
    try:
        conversation = to_conversation(body, uploads, model.modalities, model.family, settings.max_text_chars)
        check_context(model, conversation, max_tokens, param)
    except BaseException:
        uploads.delete()  # from `state.generate` on, it deletes them; before, this handler must
        raise
    result = await state.generate(conversation, params, uploads, request)
    completions = result.completions[0]
    if not body.stream:
        return completion_body(model.id, completions, stops)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    # off the event loop: splitting into token deltas decodes every prefix of the answer
    events = await asyncio.to_thread(model.stream_events, completions, stops, include_usage)

    async def send() -> AsyncIterator[str]:
        for event in events:
            # a turn of the event loop before each event, in which it sees the client go: written back to back,
            # the events went on into the closed socket, asyncio warning at each ("socket.send() raised exception.")
            await asyncio.sleep(0)
            if await request.is_disconnected():
                return  # the request is logged as 499 (`MetricsMiddleware`)
            yield event

    return StreamingResponse(
        send(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
