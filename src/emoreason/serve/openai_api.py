"""The subset of OpenAI's chat-completions API that clients rely on.

Request fields: `model, messages, temperature, top_p, max_tokens` (or `max_completion_tokens`),
`n, stop, stream, stream_options.include_usage, seed`. Message content is a string or a list of
content parts: `text`; `image_url`, `input_audio` and `video_url` as base64 data (data: URIs)
for models whose family takes that medium. Fields that would change the answer in ways we do not
implement (tools, logprobs, penalties, JSON response formats) are refused with a 400 rather
than silently ignored; other unknown fields are ignored, as OpenAI clients send a few.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from emoreason.generation import Completion
from emoreason.models import Conversation
from emoreason.serve.errors import APIError, Integer, Number
from emoreason.serve.uploads import UploadSet


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    include_usage: bool = False


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[dict[str, Any]] | None = None


#: what a chat request's JSON object needs, as the errors for a body that is none word it
CHAT_FIELDS = '`model` and `messages`, e.g. {"model": "default", "messages": [{"role": "user", "content": "Hi"}]}'

#: the seeds the engine can take (`torch.Generator.manual_seed`'s range); beyond them it failed after queueing,
#: with "Overflow when unpacking long long"
SEEDS = (-(2**63), 2**64 - 1)


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    temperature: Number = Field(1.0, ge=0.0, le=2.0)
    top_p: Number = Field(1.0, gt=0.0, le=1.0)
    max_tokens: Integer | None = Field(None, ge=1)
    max_completion_tokens: Integer | None = Field(None, ge=1)
    n: Integer = Field(1, ge=1)
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    seed: Integer | None = None  # within SEEDS (`check_seed`)
    # refused unless left at their neutral values (see `check_unsupported`)
    tools: list[Any] | None = None
    functions: list[Any] | None = None
    logprobs: bool | None = None
    top_logprobs: Integer | None = None
    presence_penalty: Number | None = None
    frequency_penalty: Number | None = None
    logit_bias: dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None

    def stop_strings(self) -> tuple[str, ...]:
        stops = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        if len(stops) > 4:
            raise APIError(400, "stop takes at most 4 sequences", param="stop")
        return tuple(s for s in stops if s)

    def check_seed(self) -> None:
        """400 naming the range for a seed the engine cannot take (checked here, before the request is queued)."""
        low, high = SEEDS
        if self.seed is not None and not low <= self.seed <= high:
            digits = len(str(abs(self.seed)))
            given = str(self.seed) if digits <= 40 else f"a number of {digits} digits"
            raise APIError(
                400,
                f"seed is {given}, out of range: give a whole number from {low} to {high} (-2**63 to 2**64 - 1)",
                param="seed",
                code="invalid_value",
            )

    def check_unsupported(self) -> None:
        refused = {
            "tools": bool(self.tools),
            "functions": bool(self.functions),
            "logprobs": bool(self.logprobs),
            "top_logprobs": bool(self.top_logprobs),
            "presence_penalty": bool(self.presence_penalty),
            "frequency_penalty": bool(self.frequency_penalty),
            "logit_bias": bool(self.logit_bias),
            "response_format": bool(self.response_format) and self.response_format.get("type") != "text",
        }
        for name, used in refused.items():
            if used:
                raise APIError(400, f"{name} is not supported by this server", param=name, code="unsupported_parameter")


# media kind for each content-part type that carries a data URI under `<type>.url`
_URL_PARTS = {"image_url": "image", "video_url": "video"}


def to_conversation(
    request: ChatRequest, uploads: UploadSet, modalities: frozenset[str], family: str, max_chars: int
) -> Conversation:
    """Plain-text messages plus the media of the content parts, written as private files."""
    messages: list[dict[str, str]] = []
    media: dict[str, str] = {}
    chars = 0
    for i, message in enumerate(request.messages):
        role = "system" if message.role == "developer" else message.role
        content = message.content
        if content is None or isinstance(content, str):
            text = content or ""
        else:
            texts = []
            for j, part in enumerate(content):
                param = f"messages.{i}.content.{j}"
                kind = part.get("type")
                if kind == "text":
                    if not isinstance(part.get("text"), str):
                        raise APIError(400, f"{param}: a text part needs a string `text`", param=param)
                    texts.append(part["text"])
                    continue
                medium = None
                if isinstance(kind, str):  # a list or object as `type` is refused below, not looked up
                    medium = _URL_PARTS.get(kind) or ("audio" if kind == "input_audio" else None)
                if medium is None:
                    raise APIError(
                        400,
                        f"{param}: content part type {kind!r} is not supported; use text, image_url, "
                        "input_audio or video_url",
                        param=param,
                        code="unsupported_content",
                    )
                if role != "user":
                    raise APIError(400, f"{param}: media go in user messages", param=param)
                if medium not in modalities:
                    takes = ", ".join(sorted(modalities)) or "text only"
                    raise APIError(
                        400,
                        f"{param}: this model ({family}) takes {takes}, not {medium}",
                        param=param,
                        code="unsupported_content",
                    )
                if medium in media:
                    raise APIError(400, f"{param}: one {medium} per conversation", param=param)
                body = part.get(kind)
                if medium == "audio":
                    if not isinstance(body, dict) or not isinstance(body.get("data"), str):
                        raise APIError(
                            400, f"{param}: input_audio needs {{'data': base64, 'format': 'wav'}}", param=param
                        )
                    media[medium] = uploads.save_base64("audio", body["data"], str(body.get("format", "wav")), param)
                else:
                    url = body.get("url") if isinstance(body, dict) else body
                    if not isinstance(url, str):
                        raise APIError(400, f"{param}: {kind} needs a `url` (a data: URI)", param=param)
                    media[medium] = uploads.save_data_uri(medium, url, param)
            text = "\n".join(texts)
        chars += len(text)
        messages.append({"role": role, "content": text})
    if chars > max_chars:
        raise APIError(
            400,
            f"the messages hold {chars} characters; the limit is {max_chars}",
            param="messages",
            code="context_length_exceeded",
        )
    return Conversation(messages=messages, **media)


def finish_reason(completion: Completion) -> str:
    return "length" if completion.finish_reason == "length" else "stop"


def answer_text(completion: Completion, stops: tuple[str, ...]) -> str:
    """OpenAI leaves the matched stop sequence out of the answer; the engine keeps it."""
    text = completion.text
    if completion.finish_reason == "stop":
        for stop in stops:
            if text.endswith(stop):
                return text[: -len(stop)]
    return text


def usage(completions: list[Completion]) -> dict[str, int]:
    prompt = completions[0].prompt_tokens if completions else 0
    generated = sum(c.num_tokens for c in completions)
    return {"prompt_tokens": prompt, "completion_tokens": generated, "total_tokens": prompt + generated}


def new_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def completion_body(model: str, completions: list[Completion], stops: tuple[str, ...]) -> dict[str, Any]:
    return {
        "id": new_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": i,
                "message": {"role": "assistant", "content": answer_text(c, stops)},
                "finish_reason": finish_reason(c),
                "logprobs": None,
            }
            for i, c in enumerate(completions)
        ],
        "usage": usage(completions),
        "system_fingerprint": None,
    }


def text_pieces(completion: Completion, final: str, tokenizer: Any) -> list[str]:
    """The answer split at token boundaries (the deltas of a stream), joined back to `final`."""
    if tokenizer is None or not completion.token_ids:
        return [final] if final else []
    pieces, sent = [], ""
    for i in range(1, len(completion.token_ids) + 1):
        text = tokenizer.decode(completion.token_ids[:i], skip_special_tokens=True)
        if text.endswith("\ufffd"):
            continue  # an incomplete UTF-8 sequence; wait for the rest
        text = text[: len(final)]
        if not text.startswith(sent) or not final.startswith(text):
            break  # decoding a prefix differs from the prefix of the decoding; send the rest at once
        if len(text) > len(sent):
            pieces.append(text[len(sent) :])
            sent = text
        if sent == final:
            break
    if sent != final:
        pieces.append(final[len(sent) :])
    return pieces


def chunk_events(
    model: str, completions: list[Completion], stops: tuple[str, ...], tokenizer: Any, include_usage: bool
) -> list[str]:
    """Server-sent events in OpenAI's chunk format, ending with `data: [DONE]`.

    The engine returns whole completions, so the chunks are made once generation is done: the
    format is OpenAI's, but the first chunk comes no sooner than a non-streamed answer would.
    """
    base = {
        "id": new_id(),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": None,
    }

    def event(choices: list[dict[str, Any]], **extra: Any) -> str:
        return f"data: {json.dumps({**base, 'choices': choices, **extra}, ensure_ascii=False)}\n\n"

    events = []
    for i, completion in enumerate(completions):
        events.append(
            event(
                [{"index": i, "delta": {"role": "assistant", "content": ""}, "finish_reason": None, "logprobs": None}]
            )
        )
        for piece in text_pieces(completion, answer_text(completion, stops), tokenizer):
            events.append(event([{"index": i, "delta": {"content": piece}, "finish_reason": None, "logprobs": None}]))
        events.append(event([{"index": i, "delta": {}, "finish_reason": finish_reason(completion), "logprobs": None}]))
    if include_usage:
        events.append(event([], usage=usage(completions)))
    events.append("data: [DONE]\n\n")
    return events
