"""Checks that refuse a request before it reaches the model: the API key, the body size, a JSON
body's shape, the text's validity, the token budget and the context length. Each raises an
`APIError` (or answers 413) on its own."""

from __future__ import annotations

import hmac
import json
from contextlib import aclosing
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI, Request
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser
from starlette.types import ASGIApp, Receive, Scope, Send

from emoreason.data.text import InvalidTextError, NotUtf8Error, check_text, decode_utf8
from emoreason.inference import ContextTooLong
from emoreason.models import Conversation
from emoreason.serve.errors import APIError, invalid_json
from emoreason.serve.state import MiB, ModelInfo, ServeSettings, get_state


def require_api_key(request: Request) -> None:
    """A route dependency: 401 unless `Authorization: Bearer <key>` matches the server's key (if it has one)."""
    api_key = get_state(request).settings.api_key
    if api_key is None:
        return
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    # compare_digest: the time taken must not tell how much of the key was right. The header's bytes as sent
    # (starlette decodes them as Latin-1) against the key's UTF-8: a key with "é" never matched otherwise
    sent = given.strip().encode("latin-1", errors="replace")
    if scheme.lower() != "bearer" or not hmac.compare_digest(sent, api_key.encode("utf-8")):
        raise APIError(
            401,
            "missing or wrong API key: send `Authorization: Bearer <key>`",
            code="invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )


def check_text_fields(body: Any) -> None:
    """400 naming the field (`text`, `messages.0.content`) when a string of the request body is
    not valid Unicode: `emoreason.data.text.check_text`'s policy, the one every entry point has.
    A JSON `\\ud800` escape decodes to such a string; it would fail the tokenizer (a 500) if let in."""
    try:
        check_text(body)
    except InvalidTextError as err:
        raise APIError(400, str(err), param=err.field or None, code="invalid_value") from None
    except RecursionError:  # a JSON body nested deeper than the checker can walk
        raise APIError(400, "the request body is nested too deeply", code="invalid_value") from None


async def read_json_object(request: Request, needs: str) -> dict[str, Any]:
    """The request body as a JSON object, its strings held to the one text policy (`check_text_fields`); a 400
    saying what is wrong and what to send instead (a JSON object with `needs`, e.g. "`model` and `messages`")
    for a body that is empty, not UTF-8, not JSON (the parser's reason and where it stopped), or not an object."""
    raw = await request.body()
    if not raw.strip():
        raise APIError(400, f"the request body is empty; send a JSON object with {needs}", code="invalid_json")
    try:
        data = json.loads(decode_utf8(raw))
    except NotUtf8Error as err:  # its detail says how to fix it (save as UTF-8)
        raise APIError(400, f"the request body is not UTF-8 ({err.detail})", code="invalid_json") from None
    except json.JSONDecodeError as err:
        raise invalid_json(err.msg, err.pos, needs) from None
    except RecursionError:
        raise invalid_json("arrays or objects nested too deeply", None, needs) from None
    except ValueError as err:  # a number of more than 4,300 digits, which Python will not convert
        raise invalid_json(str(err).split(":")[0], None, needs) from None
    if not isinstance(data, dict):
        kind = "an array" if isinstance(data, list) else "a string" if isinstance(data, str) else "a single value"
        raise APIError(400, f"the JSON body is {kind}; send a JSON object with {needs}", code="invalid_value")
    check_text_fields(data)
    return data


class Utf8FormParser(MultiPartParser):
    """Starlette's multipart parser, with the text fields held to the one text policy (`decode_utf8`): starlette read
    a field that is not UTF-8 as Latin-1, a guess that changed, unseen, the text the model judged ("caf\\xe9" became
    "café" here, other bytes other letters), where a JSON body that is not UTF-8 is refused."""

    def on_part_end(self) -> None:
        part = self._current_part
        if part.file is None:
            try:
                decode_utf8(bytes(part.data))
            except NotUtf8Error as err:
                message = f"the form field {part.field_name!r} is not UTF-8 ({err.detail}); send it as UTF-8"
                raise APIError(400, message, param=part.field_name, code="invalid_value") from None
        super().on_part_end()


class Utf8UrlencodedParser(FormParser):
    """Starlette's parser of `application/x-www-form-urlencoded` bodies, with names and values held to the one text
    policy (`decode_utf8`) as a multipart form's are: starlette unquoted "%E9" (not UTF-8) to U+FFFD in silence,
    and read raw UTF-8 bytes sent unescaped as Latin-1 ("café" became "cafÃ©")."""

    def on_field_end(self) -> None:
        self._current_fields += 1
        if self._current_fields > self.max_fields:
            raise MultiPartException(f"Too many fields. Maximum number of fields is {self.max_fields}.")
        name = self._text(self._field_name, "a form field's name", None)
        self._items.append((name, self._text(self._field_value, f"the form field {name!r}", name)))

    @staticmethod
    def _text(raw: bytearray, what: str, field: str | None) -> str:
        try:  # "+" is a space in this encoding, "%2B" a plus
            return decode_utf8(unquote_to_bytes(bytes(raw).replace(b"+", b" ")))
        except NotUtf8Error as err:
            message = f"{what} is not UTF-8 once its %XX escapes are read ({err.detail}); send it as UTF-8"
            raise APIError(400, message, param=field, code="invalid_value") from None


async def read_utf8_form(request: Request, *, max_files: int, max_fields: int, max_part_size: int) -> FormData:
    """The request's form as `request.form(...)` reads it (close it after use), a multipart form's text fields held
    to UTF-8 (`Utf8FormParser`), a URL-encoded one's names and values too (`Utf8UrlencodedParser`); a malformed
    form raises starlette's `HTTPException` 400, as `request.form` does."""
    content_type = request.headers.get("content-type", "").lower()
    async with aclosing(request.stream()) as stream:
        parser: FormParser | MultiPartParser
        if content_type.startswith("multipart/form-data"):
            parser = Utf8FormParser(
                request.headers, stream, max_files=max_files, max_fields=max_fields, max_part_size=max_part_size
            )
        else:
            parser = Utf8UrlencodedParser(request.headers, stream, max_fields=max_fields, max_part_size=max_part_size)
        try:
            return await parser.parse()
        except MultiPartException as err:
            raise StarletteHTTPException(400, detail=err.message) from None


def check_max_tokens(settings: ServeSettings, value: int | None, param: str) -> int:
    """The request's token budget (the server's default when it names none), within the server's limit."""
    tokens = value if value is not None else min(settings.default_max_tokens, settings.max_tokens_limit)
    if tokens > settings.max_tokens_limit:
        raise APIError(
            400,
            f"{param} is {tokens}; this server allows at most {settings.max_tokens_limit}",
            param=param,
            code="invalid_value",
        )
    return tokens


def check_context(model: ModelInfo, conversation: Conversation, max_tokens: int, param: str) -> None:
    """400 when prompt plus answer cannot fit the model's context (`ModelSpec.check_fits`, the one
    such check; only where the prompt can be counted)."""
    try:
        model.check_fits(conversation, max_tokens, param)
    except ContextTooLong as err:
        raise APIError(400, err.detail, param=param, code="context_length_exceeded") from None


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
        received, exceeded, started = 0, False, False

        async def limited() -> Any:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def answered(message: Any) -> None:
            # past the limit, whatever the app makes of the body it could not read (FastAPI: a 400 "error parsing
            # the body" for a route that takes a model) gives way to the 413 below
            nonlocal started
            if exceeded and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, answered)
        except BodyTooLarge:
            if started:
                raise
        if exceeded and not started:
            await too_large(self.max_bytes).response()(scope, receive, send)


def too_large(limit: int) -> APIError:
    return APIError(413, f"the request body is larger than the {limit / MiB:.1f} MiB limit", code="body_too_large")


def install_body_limit(app: FastAPI, max_bytes: int) -> None:
    """The middleware, and the handler that answers 413 when a streamed body passes the limit mid-request."""

    async def body_too_large(request: Request, err: BodyTooLarge) -> Any:
        return too_large(max_bytes).response()

    app.add_exception_handler(BodyTooLarge, body_too_large)
    app.add_middleware(BodyLimit, max_bytes=max_bytes)
