"""The `openai` teacher: any OpenAI-compatible chat-completions endpoint (vLLM, SGLang, a
llama.cpp server, `emoreason serve`, a hosted API).

Requests run concurrently (at most `concurrency` in flight), each with its own timeout. A
timeout, a dropped connection, a 429, a 5xx or an unreadable body is retried with exponential
backoff and full jitter (a 429's or 503's `Retry-After` is honoured when it asks for longer);
other 4xx answers are final. After the last attempt the reply is a failure record that says
what went wrong, and the run goes on with the other samples.

Media go as the content parts omni/VL servers accept: `image_url` and `video_url` with data
URIs, `input_audio` with base64 data and its format.
"""

from __future__ import annotations

import asyncio
import base64
import json
import mimetypes
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emoreason.distill.teachers import OnReply, Teacher, TeacherReply, TeacherRequest

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 1.0  # seconds before the 2nd attempt (then doubled each time)
    max_delay: float = 30.0
    max_retry_after: float = 120.0  # a server asking for longer than this is capped

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based): full jitter on
        an exponential ceiling, but never less than the server's Retry-After."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        wait = (rng or random).uniform(0, ceiling)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_retry_after))
        return wait


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from datetime import datetime, timezone
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _data_uri(path: str) -> str:
    mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(Path(path).read_bytes()).decode()}"


def media_parts(image: str | None, audio: str | None, video: str | None) -> list[dict[str, Any]]:
    """OpenAI content parts for a sample's media files (read and base64-encoded)."""
    parts: list[dict[str, Any]] = []
    if image:
        parts.append({"type": "image_url", "image_url": {"url": _data_uri(image)}})
    if video:
        parts.append({"type": "video_url", "video_url": {"url": _data_uri(video)}})
    if audio:
        fmt = Path(audio).suffix.lstrip(".").lower() or "wav"
        parts.append(
            {
                "type": "input_audio",
                "input_audio": {"data": base64.b64encode(Path(audio).read_bytes()).decode(), "format": fmt},
            }
        )
    return parts


def request_messages(request: TeacherRequest) -> list[dict[str, Any]]:
    """The chat messages as sent: the last user turn becomes content parts when there is media."""
    messages = [dict(m) for m in request.messages]
    sample = request.sample
    parts = media_parts(sample.image, sample.audio, sample.video)
    if parts:
        messages[-1]["content"] = parts + [{"type": "text", "text": str(messages[-1]["content"])}]
    return messages


class RetryableError(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class OpenAITeacher(Teacher):
    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        max_tokens: int = 512,
        temperature: float = 0.0,
        top_p: float = 1.0,
        concurrency: int = 8,
        timeout: float = 120.0,
        retry: RetryPolicy | None = None,
        seed: int | None = None,
    ):
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "http://127.0.0.1:8000/v1").rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.max_tokens, self.temperature, self.top_p, self.seed = max_tokens, temperature, top_p, seed
        self.concurrency, self.timeout = concurrency, timeout
        self.retry = retry or RetryPolicy()
        self.rng = random.Random(seed)

    def params(self) -> dict[str, Any]:
        # the endpoint too: two servers may serve different weights under one model name, and a shared cache
        # file gave one's answers for the other's
        return {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "seed": self.seed,
            "base_url": self.base_url,
        }

    def body(self, request: TeacherRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": request_messages(request),
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
        }
        if self.seed is not None:
            body["seed"] = self.seed
        return body

    def run(self, requests: Sequence[TeacherRequest], on_reply: OnReply) -> None:
        if requests:
            asyncio.run(self._run_all(requests, on_reply))

    async def _run_all(self, requests: Sequence[TeacherRequest], on_reply: OnReply) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        semaphore = asyncio.Semaphore(self.concurrency)
        async with httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=self.timeout, limits=limits
        ) as client:

            async def one(index: int, request: TeacherRequest) -> None:
                async with semaphore:
                    reply = await self._complete(client, request)
                on_reply(index, reply)

            await asyncio.gather(*(one(i, r) for i, r in enumerate(requests)))

    async def _complete(self, client: Any, request: TeacherRequest) -> TeacherReply:
        try:
            body = self.body(request)
        except OSError as err:
            return TeacherReply(None, f"cannot read media of {request.sample.id}: {err}", attempts=0)
        last_error = "no attempt made"
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                text, usage = await self._attempt(client, body)
                return TeacherReply(text, attempts=attempt, usage=usage)
            except RetryableError as err:
                last_error = str(err)
                if attempt < self.retry.max_attempts:
                    await asyncio.sleep(self.retry.delay(attempt, err.retry_after, self.rng))
            except _FinalError as err:
                return TeacherReply(None, str(err), attempts=attempt)
        return TeacherReply(
            None, f"gave up after {self.retry.max_attempts} attempts: {last_error}", attempts=self.retry.max_attempts
        )

    async def _attempt(self, client: Any, body: dict[str, Any]) -> tuple[str, dict[str, int]]:
        import httpx

        try:
            response = await client.post("/chat/completions", json=body)
        except httpx.TimeoutException:
            raise RetryableError(f"timed out after {self.timeout:g} s") from None
        except httpx.TransportError as err:  # refused, reset, closed mid-response
            raise RetryableError(f"connection error: {type(err).__name__}: {err}") from None
        if response.status_code in RETRY_STATUS:
            raise RetryableError(
                f"HTTP {response.status_code}: {response.text[:200]}",
                parse_retry_after(response.headers.get("retry-after")),
            )
        if response.status_code >= 400:
            raise _FinalError(f"HTTP {response.status_code} (not retried): {response.text[:300]}")
        try:
            payload = response.json()
            text = payload["choices"][0]["message"]["content"]
        except (json.JSONDecodeError, ValueError, KeyError, IndexError, TypeError) as err:
            raise RetryableError(f"malformed response ({type(err).__name__}): {response.text[:200]!r}") from None
        if not isinstance(text, str):  # a well-formed answer with no text (the token limit hit in reasoning, a refusal)
            finish = payload["choices"][0].get("finish_reason")
            said = (
                f"the endpoint answered with no text (message content {type(text).__name__}, finish_reason {finish!r}"
            )
            if self.temperature == 0:  # greedy: asking again gets the same answer, each billed
                raise _FinalError(said + "; not retried: a greedy request gets the same answer again)")
            raise RetryableError(said + ")")
        usage = {k: int(v) for k, v in (payload.get("usage") or {}).items() if isinstance(v, int)}
        return text, usage


class _FinalError(Exception):
    pass


__all__ = ["OpenAITeacher", "RetryPolicy", "media_parts", "parse_retry_after", "request_messages"]
