"""Errors in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`, for every 4xx/5xx
the server sends, validation errors included, so OpenAI clients raise their usual exceptions."""

from __future__ import annotations

import logging
import math
import re
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BeforeValidator, ValidationError
from pydantic_core import PydanticCustomError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

#: the `type` OpenAI uses for each status family
_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    429: "rate_limit_error",
    503: "overloaded_error",
    504: "timeout_error",
}

#: nginx's status for a request whose client closed the connection before its answer was sent: the request log
#: and the metrics count it so, not as the 200 an answer nobody read would have been
CLIENT_CLOSED = 499


class APIError(Exception):
    """Raised anywhere in a request; becomes a JSON error response."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        type: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code
        self.type = type or _TYPES.get(status, "invalid_request_error" if status < 500 else "server_error")
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        # a message or param may quote a client's string holding a lone surrogate (a JSON `\ud800`
        # escape, even in a key), which cannot be written as UTF-8: send it escaped, not a 500
        message, param = _printable(self.message), _printable(self.param)
        body = {"error": {"message": message, "type": self.type, "param": param, "code": self.code}}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def client_closed() -> APIError:
    """What a request whose client has gone ends with (nobody reads it; the log and the metrics do)."""
    return APIError(CLIENT_CLOSED, "the client closed the connection before the answer", code="client_closed")


def _printable(text: str | None) -> str | None:
    return text if text is None or text.isascii() else text.encode("utf-8", "backslashreplace").decode("utf-8")


#: how pydantic names the member of a union a value failed (`str`, `list[str]`), as the last part of a path
_UNION_MEMBER = re.compile(r"^(str|int|float|bool|list|dict|none|literal)(\[.*\])?$")
_SHOULD = "Input should be "


def validation_error(err: ValidationError | RequestValidationError) -> APIError:
    """The first problem of a pydantic error, named by its field path (`messages.0.role`). A value
    that fits no member of a union (`content`: a string or a list of parts) fails once per member,
    each under a path ending in the member's type (`messages.0.content.str`); those count as one
    problem, named by the field's own path: "Input should be a valid string or a valid list"."""
    problems = [dict(p) for p in err.errors()]
    first = problems[0] if problems else {"loc": (), "msg": "invalid request"}
    if first.get("type") == "json_invalid":
        position = first["loc"][-1] if first.get("loc") and isinstance(first["loc"][-1], int) else None
        return invalid_json((first.get("ctx") or {}).get("error"), position)
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    message = first.get("msg", "invalid request")
    field = tuple(first.get("loc", ()))[:-1]
    inside = [p for p in problems if len(p.get("loc", ())) > len(field) + 1 and tuple(p["loc"])[: len(field)] == field]
    if loc and _UNION_MEMBER.match(loc[-1]) and inside:
        # the value had one member's shape and failed within it (`scale: [true, 7]` is a list, of one non-number):
        # that says what is wrong, where "should be a valid string" did not
        first, problems = inside[0], inside[:1]
        loc = [str(part) for part in first["loc"] if part not in ("body", "query", "path")]
        loc = [part for part in loc if not _UNION_MEMBER.match(part) and "[" not in part]
        message = first.get("msg", "invalid request")
    elif loc and _UNION_MEMBER.match(loc[-1]):
        members = [p for p in problems if tuple(p.get("loc", ()))[:-1] == tuple(first["loc"])[:-1]]
        members = [p for p in members if isinstance(p["loc"][-1], str) and _UNION_MEMBER.match(p["loc"][-1])]
        if all(p.get("msg", "").startswith(_SHOULD) for p in members):
            message = _SHOULD + " or ".join(p["msg"][len(_SHOULD) :] for p in members)
            problems = [first] + [p for p in problems if all(p is not m for m in members)]
        loc = loc[:-1]
    param = ".".join(loc) or None
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    return APIError(400, f"{param}: {message}{more}" if param else message + more, param=param, code="invalid_value")


def invalid_json(reason: str | None, position: int | None, needs: str | None = None) -> APIError:
    """400 for a body that is not JSON, with the parser's reason and where it stopped, so a client
    can find the mistake (`Expecting ',' delimiter at character 14`), and what to send instead
    (a JSON object with `needs`, e.g. "`model` and `messages`")."""
    where = f" at character {position}" if position is not None else ""
    detail = f": {reason}{where}" if reason else where
    fix = f"; send a JSON object with {needs}" if needs else ""
    return APIError(400, f"the request body is not valid JSON{detail}{fix}", code="invalid_json")


def _plain_number(number: str, error_type: str, finite: bool = False) -> BeforeValidator:
    """Refuses JSON's true and false where `number` ("a whole number") is asked: pydantic's lax mode read them as 1
    and 0. With `finite`, NaN and infinities too (Python's JSON reader takes NaN and Infinity, a form "nan"),
    before any bound is checked: a NaN temperature was refused as "less than or equal to 2"."""

    def check(value: Any) -> Any:
        if isinstance(value, bool):
            raise PydanticCustomError(error_type, f"Input should be {number}, not true or false")
        if finite and isinstance(value, (float, str)):
            try:
                read = float(value)
            except ValueError:  # not a number at all: pydantic's own message says so
                return value
            if not math.isfinite(read):
                raise PydanticCustomError("finite_number", "Input should be a finite number, not NaN or infinity")
        return value

    return BeforeValidator(check)


#: an integer field of a request: JSON's true and false are refused (`max_tokens: true` asked for one token)
Integer = Annotated[int, _plain_number("a whole number", "int_type")]
#: a float field of a request, likewise (`temperature: true` sampled at 1.0, `top_p: true` was 1.0), and finite:
#: a NaN penalty or scale bound was let through
Number = Annotated[float, _plain_number("a number", "float_type", finite=True)]


def allowed_methods(err: StarletteHTTPException) -> set[str]:
    """The methods a 405 names in its Allow header (the router's own list for the route), else none. OPTIONS is
    answered from it: what a route takes is said in one place, where it is declared."""
    allow = next((value for key, value in (err.headers or {}).items() if key.lower() == "allow"), "")
    return {method.strip() for method in allow.split(",") if method.strip()}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api_error(request: Request, err: APIError) -> JSONResponse:
        return err.response()

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, err: RequestValidationError) -> JSONResponse:
        return validation_error(err).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> Response:
        allowed = allowed_methods(err)
        if request.method == "OPTIONS" and err.status_code == 405 and allowed:
            return Response(status_code=204, headers={"Allow": ", ".join(sorted(allowed | {"OPTIONS"}))})
        messages = {
            404: f"no such endpoint: {request.method} {request.url.path}",
            405: f"method {request.method} is not allowed on {request.url.path}",
        }
        message = messages.get(err.status_code, str(err.detail))
        headers = dict(err.headers or {})
        if err.status_code == 405 and allowed:  # the same list OPTIONS answers with, which it is part of
            headers = {k: v for k, v in headers.items() if k.lower() != "allow"} | {
                "Allow": ", ".join(sorted(allowed | {"OPTIONS"}))
            }
        return APIError(err.status_code, message, headers=headers).response()

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", None)  # set by MetricsMiddleware, inside which this is not
        log.exception("unhandled error on %s %s (request %s)", request.method, request.url.path, request_id)
        headers = {"X-Request-ID": request_id} if request_id else None
        return APIError(
            500, "internal server error; see the server log", code="internal_error", headers=headers
        ).response()
