"""The OpenAI-compatible endpoints: `GET /v1/models`, `GET /v1/models/{id}` and
`POST /v1/chat/completions` (streamed or not). The request schema, the translation of messages
into a `Conversation` and the response and chunk bodies are in `emoreason.serve.openai_api`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from emoreason.generation import SamplingParams
from emoreason.serve.errors import APIError
from emoreason.serve.guards import check_context, check_max_tokens, check_text_fields, require_api_key
from emoreason.serve.openai_api import ChatRequest, completion_body, to_conversation
from emoreason.serve.state import ModelInfo, StateDep

router = APIRouter(dependencies=[Depends(require_api_key)])


def check_model(model: ModelInfo, name: str) -> None:
    """404 unless `name` is the served model's id or one of its aliases."""
    if name != model.id and name not in model.aliases:
        raise APIError(
            404,
            f"model {name!r} is not served here; GET /v1/models lists {model.id!r}",
            param="model",
            code="model_not_found",
        )


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
async def chat_completions(body: ChatRequest, state: StateDep) -> Any:
    model, settings = state.model, state.settings
    check_model(model, body.model)
    check_text_fields(body.model_dump(exclude_none=True))
    body.check_unsupported()
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
    result = await state.generate(conversation, params, uploads)
    completions = result.completions[0]
    if not body.stream:
        return completion_body(model.id, completions, stops)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    # off the event loop: splitting into token deltas decodes every prefix of the answer
    events = await asyncio.to_thread(model.stream_events, completions, stops, include_usage)

    async def send() -> AsyncIterator[str]:
        for event in events:
            yield event

    return StreamingResponse(
        send(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
