"""A fuzz test of the HTTP server, in-process (FastAPI's `TestClient`, no sockets): over a thousand
generated bad requests (malformed JSON, wrong types, odd Unicode, out-of-range numbers, bad media,
path-like names, wrong methods and content types, oversized bodies) must each get an answer below
500, and the server must still answer good requests afterwards.

The requests are generated from a seeded `random.Random`, so the set (and its count) is the same
on every run. Generation stays cheap: the servers allow at most 4 new tokens, so a request that
gets past every check costs one tiny generate call.
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from emoreason.generation import TransformersEngine
from emoreason.models import load_model
from emoreason.serve import ModelInfo, ServeSettings, create_app

SEED = 20260530
MAX_BODY = 256 * 1024
SETTINGS = dict(
    max_batch_size=4,
    batch_wait_ms=0,
    max_queue=64,
    max_tokens_limit=4,
    default_max_tokens=2,
    max_n=2,
    max_upload_bytes=16 * 1024,
    max_body_bytes=MAX_BODY,
    max_text_chars=2_000,
)

# --------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------

PATHS = [
    "../../etc/passwd",
    "/etc/passwd",
    "/dev/zero",
    "/dev/random",
    "file:///etc/shadow",
    "C:\\x",
    "C:\\Windows\\system32\\config\\SAM",
    "\\\\server\\share\\x",
    "~/.ssh/id_rsa",
    "..",
    ".",
    "",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "http://127.0.0.1:1/x",
    "data:,hello",
    "/proc/self/environ",
    "nul",
    "a\x00b",
]

ODD_STRINGS = [
    "\ud800",  # lone surrogates: json.dumps writes them as `\ud800` escapes
    "half an emoji \ud83d",
    "\udfff trailing",
    "\u202eRTL override\u202c and \u200f marks",
    "zero\u200bwidth\u200djoiner\u2060",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 family",
    "\U0001f600" * 300,
    "\ufeffBOM inside",
    "\x00\x01\x02 control",
    "x" * 100_000,
    "\U0001f4a9" * 25_000,
    "e\u0301" * 5_000,  # combining marks
    "\ufffd\ufffe\uffff",
    "\u0000",
    " \t\n ",
    "",
    "I loved it \U0001f60d",
    "ﷺ" * 1000,
]

WRONG_VALUES: list[Any] = [
    None,
    0,
    -1,
    1.5,
    2**70,
    -(2**70),
    True,
    False,
    [],
    ["a", "b"],
    [1, [2, [3]]],
    {},
    {"a": 1},
    "",
    "1",
    "NaN",
    "-5",
    "true",
    float("nan"),
    float("inf"),
    float("-inf"),
    1e308,
    -0.0,
]

OUT_OF_RANGE = {
    "max_tokens": [-1, 0, 5, 10**9, 2**63, 2**70, 1e400, float("nan"), 3.7, -(2**63)],
    "max_completion_tokens": [-1, 0, 10**9, 2**64, float("nan")],
    "temperature": [float("nan"), float("inf"), -float("inf"), -1, 2.0001, 1e300, -0.0],
    "top_p": [5, 0, -1, float("nan"), 1.0000001, float("inf")],
    "n": [0, -1, 3, 10**9, 2**70],
    "seed": [-1, -(2**63), 2**63 - 1, 2**63, 2**64, 2**70, -(2**70), 1.5, float("nan")],
}

ANALYZE_FIELDS = ["text", "id", "format", "task", "scale", "labels", "max_tokens", "temperature"]
CHAT_FIELDS = [
    "model",
    "messages",
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "n",
    "stop",
    "stream",
    "stream_options",
    "seed",
    "tools",
    "functions",
    "logprobs",
    "top_logprobs",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "response_format",
]

ROUTES = {
    "/": "GET",
    "/health": "GET",
    "/metrics": "GET",
    "/v1/models": "GET",
    "/v1/models/tiny": "GET",
    "/v1/analyze/options": "GET",
    "/v1/analyze": "POST",
    "/v1/chat/completions": "POST",
    "/static/app.js": "GET",
}
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]

PNG_HEAD = b"\x89PNG\r\n\x1a\n"
MAGIC = {
    "png": PNG_HEAD,
    "jpg": b"\xff\xd8\xff\xe0",
    "gif": b"GIF89a",
    "webp": b"RIFF\x00\x00\x00\x00WEBP",
    "wav": b"RIFF\x24\x00\x00\x00WAVEfmt ",
    "flac": b"fLaC",
    "ogg": b"OggS",
    "mp3": b"ID3\x03\x00",
    "mp4": b"\x00\x00\x00\x18ftypisom",
    "m4a": b"\x00\x00\x00\x18ftypM4A ",
    "mkv": b"\x1a\x45\xdf\xa3",
    "avi": b"RIFF\x00\x00\x00\x00AVI ",
}


@dataclass
class Case:
    kind: str
    app: str  # "text" (tiny causal LM) or "media" (tiny Qwen2.5-Omni thinker)
    method: str
    path: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        shown = {
            k: (repr(v)[:300] if not isinstance(v, dict) else {kk: repr(vv)[:200] for kk, vv in v.items()})
            for k, v in self.kwargs.items()
        }
        return f"[{self.kind}] {self.method} {self.path} {shown}"


def dumps(value: Any) -> bytes:
    """JSON as a lax client writes it: NaN/Infinity literals, lone surrogates as `\\ud800` escapes."""
    return json.dumps(value, allow_nan=True).encode()


def json_case(kind: str, path: str, body: bytes | Any, app: str = "text", **headers: str) -> Case:
    content = body if isinstance(body, bytes) else dumps(body)
    return Case(
        kind, app, "POST", path, {"content": content, "headers": {"content-type": "application/json", **headers}}
    )


def good_analyze() -> dict[str, Any]:
    return {"text": "I loved it", "max_tokens": 2, "temperature": 0}


def good_chat() -> dict[str, Any]:
    return {"model": "tiny", "messages": [{"role": "user", "content": "I loved it"}], "max_tokens": 2, "temperature": 0}


def raw(text: str) -> bytes:
    """UTF-8, lone surrogates included (as a client that does not check would send them)."""
    return text.encode("utf-8", "surrogatepass")


def on_the_wire(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The request as bytes: a form with files is written out by hand (httpx refuses to encode
    lone surrogates in field values and file names), and non-ASCII header values are sent raw."""
    kwargs = dict(kwargs)
    if "headers" in kwargs:
        kwargs["headers"] = {k: v if v.isascii() else raw(v) for k, v in kwargs["headers"].items()}
    if "files" in kwargs:
        boundary = "fuzzboundary7d1f"
        files = kwargs.pop("files")
        parts = [(name, None, raw(value), None) for name, value in kwargs.pop("data", {}).items()]
        for name, (filename, data, ctype) in files.items() if isinstance(files, dict) else files:
            parts.append((name, filename, data, ctype))
        body = b""
        for name, filename, data, ctype in parts:
            disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
            body += raw(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n")
            body += raw(f"Content-Type: {ctype}\r\n" if ctype else "") + b"\r\n" + data + b"\r\n"
        kwargs["content"] = body + raw(f"--{boundary}--\r\n")
        kwargs["headers"] = {**kwargs.get("headers", {}), "content-type": f"multipart/form-data; boundary={boundary}"}
    return kwargs


def rand_bytes(rng: random.Random, n: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(n))


# --------------------------------------------------------------------------------------
# the generators, one per kind of bad request
# --------------------------------------------------------------------------------------


def malformed_json(rng: random.Random) -> Iterator[Case]:
    for path, good in (("/v1/analyze", good_analyze()), ("/v1/chat/completions", good_chat())):
        raw = dumps(good)
        for _ in range(25):  # truncated anywhere
            yield json_case("malformed-json", path, raw[: rng.randrange(len(raw))])
        for _ in range(15):  # a bracket or quote swapped for another
            i = rng.randrange(len(raw))
            yield json_case(
                "malformed-json", path, raw[:i] + rng.choice([b"]", b"}", b"[", b"{", b'"', b",", b":"]) + raw[i + 1 :]
            )
        for _ in range(10):  # non-UTF-8 bytes spliced in
            i = rng.randrange(len(raw))
            yield json_case(
                "malformed-json",
                path,
                raw[:i] + rng.choice([b"\xff", b"\xc3", b"\xe9", b"\xed\xa0\x80", b"\x80\x80"]) + raw[i:],
            )
        yield json_case("malformed-json", path, b"\xef\xbb\xbf" + raw)  # UTF-8 BOM
        yield json_case("malformed-json", path, b"\xff\xfe" + raw.decode().encode("utf-16-le"))  # UTF-16
        yield json_case("malformed-json", path, raw.decode().encode("utf-32"))
        for body in (
            b"",
            b" ",
            b"null",
            b"true",
            b"0",
            b"-1",
            b'"text"',
            b"[]",
            b"[1,2]",
            b"{}",
            b"NaN",
            b"Infinity",
            b"{'text': 'single quotes'}",
            b'{"text": "a",}',
            b'{"text": "a" "b"}',
            b"{text: 1}",
            b'{"text": "\\x41"}',
            b'{"text": "\\u12"}',
            b'{"text": "\\ud800"}',
            b"\x00" * 16,
            b'{"text": "a"}{"text": "b"}',
            b'{"text": "a"} trailing',
            b'{"a": 01}',
            b'{"a": 1e99999}',
        ):
            yield json_case("malformed-json", path, body)
        for depth in (50, 200, 500, 900, 990, 1000, 5000, 100_000):  # huge nesting
            yield json_case("deep-nesting", path, b"[" * depth + b"]" * depth)
            yield json_case("deep-nesting", path, b'{"a":' * depth + b"1" + b"}" * depth)
            inner = "[" * depth + "]" * depth
            if path == "/v1/analyze":
                yield json_case("deep-nesting", path, f'{{"text": "hi", "labels": {inner}}}'.encode())
            else:
                deep = '{"type": "text", "text": "hi", "x": ' + inner + "}"
                yield json_case(
                    "deep-nesting",
                    path,
                    f'{{"model": "tiny", "messages": [{{"role": "user", "content": [{deep}]}}]}}'.encode(),
                )


def wrong_types(rng: random.Random) -> Iterator[Case]:
    for path, good, fields in (
        ("/v1/analyze", good_analyze(), ANALYZE_FIELDS),
        ("/v1/chat/completions", good_chat(), CHAT_FIELDS),
    ):
        for name in fields:
            for value in WRONG_VALUES:
                yield json_case("wrong-type", path, {**good, name: value})
    # wrong types inside the messages
    message_values: list[Any] = [
        None,
        1,
        "hi",
        [],
        [None],
        [1],
        [[]],
        [{}],
        [{"role": "user"}],
        [{"content": "x"}],
        [{"role": "robot", "content": "x"}],
        [{"role": 1, "content": "x"}],
        [{"role": "user", "content": 5}],
        [{"role": "user", "content": {"text": "x"}}],
        [{"role": "user", "content": [1, 2]}],
        [{"role": "user", "content": [None]}],
        [{"role": "user", "content": [{"type": None}]}],
        [{"role": "user", "content": [{"type": "text"}]}],
        [{"role": "user", "content": [{"type": "text", "text": 5}]}],
        [{"role": "user", "content": [{"type": "text", "text": ["a"]}]}],
        [{"role": "user", "content": [{"type": "image_url"}]}],
        [{"role": "user", "content": [{"type": 7}]}],
        [{"role": "user", "content": [{"type": ["text"]}]}],
        [{"role": "user", "content": [{"type": {"a": 1}}]}],
        [{"role": "assistant", "content": "x"}],
        [{"role": "system", "content": "x"}],
        [{"role": "system", "content": "x"}, {"role": "system", "content": "y"}],
        [{"role": "assistant", "content": "x"}, {"role": "assistant", "content": "y"}],
        [{"role": "user", "content": None}],
        [{"role": "user", "content": ""}],
        [{"role": "user", "content": []}],
        [{"role": "user", "content": "x", "name": 5, "tool_calls": [1]}],
        [{"role": "developer", "content": "x"}, {"role": "user", "content": "y"}],
    ]
    for value in message_values:
        yield json_case("wrong-type", "/v1/chat/completions", {**good_chat(), "messages": value})
    for value in ({"include_usage": "yes"}, {"include_usage": [1]}, {"include_usage": True}, {"x": 1}, "a", [1]):
        yield json_case("wrong-type", "/v1/chat/completions", {**good_chat(), "stream": True, "stream_options": value})
    for value in (["a"] * 5, [1], [None], "", [""], {"a": 1}, ["\ud800"]):
        yield json_case("wrong-type", "/v1/chat/completions", {**good_chat(), "stop": value})
    for value in ({"type": "json_object"}, {"type": None}, {"type": "text"}, {"x": 1}, {}):
        yield json_case("wrong-type", "/v1/chat/completions", {**good_chat(), "response_format": value})
    for value in (
        [1, 2],
        [2, 1],
        [1, 1],
        [1, 2, 3],
        [],
        ["a", "b"],
        [1e400, 2],
        [0, 1e400],
        [-1e400, 0],
        [float("nan"), 1],
        "1,",
        ",",
        "a,b",
        "1,2,3",
        "5,1",
        "0,inf",
        "-inf,inf",
        "nan,1",
        [True, False],
    ):
        yield json_case("wrong-type", "/v1/analyze", {**good_analyze(), "scale": value})
    for value in ([], [""], ["a"], ["a", "a"], ",,,", "a", ["a"] * 500, ["x" * 10_000, "y"], [" ", " "], "a,b,c"):
        yield json_case("wrong-type", "/v1/analyze", {**good_analyze(), "labels": value})


def missing_and_extra(rng: random.Random) -> Iterator[Case]:
    for path, good in (("/v1/analyze", good_analyze()), ("/v1/chat/completions", good_chat())):
        keys = list(good)
        for _ in range(15):
            drop = rng.sample(keys, rng.randint(1, len(keys)))
            yield json_case("missing-field", path, {k: v for k, v in good.items() if k not in drop})
        for extra in (
            {"extra": 1},
            {"unknown": None},
            {"__proto__": {}},
            {"": ""},
            {"\ud800": 1},
            {"x" * 5000: 1},
            {"Text": "x"},
            {"text ": "x"},
            {"MODEL": "tiny"},
            {"messages ": []},
            {"image": "x.png"},
            {"audio": "/dev/zero"},
            {"media": {"image": "/etc/passwd"}},
            {"tools": [{"type": "function"}]},
            {"logit_bias": {"1": 100}},
            {"logprobs": True},
            {"top_logprobs": 5},
            {"presence_penalty": 1},
        ):
            yield json_case("extra-field", path, {**good, **extra})


def odd_unicode(rng: random.Random) -> Iterator[Case]:
    for text in ODD_STRINGS:
        for name in ("text", "id", "format", "task", "labels", "scale"):
            yield json_case("odd-unicode", "/v1/analyze", {**good_analyze(), name: text})
        chat = good_chat()
        yield json_case("odd-unicode", "/v1/chat/completions", {**chat, "model": text})
        yield json_case(
            "odd-unicode", "/v1/chat/completions", {**chat, "messages": [{"role": "user", "content": text}]}
        )
        yield json_case("odd-unicode", "/v1/chat/completions", {**chat, "stop": [text]})
        yield json_case(
            "odd-unicode",
            "/v1/chat/completions",
            {**chat, "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}]},
        )
        yield json_case("odd-unicode", "/v1/chat/completions", {**chat, "messages": [{"role": text, "content": "x"}]})
        yield json_case("odd-unicode", "/v1/chat/completions", {**chat, text[:50]: text[:50]})
        # the text fields of a multipart form
        yield Case(
            "odd-unicode",
            "text",
            "POST",
            "/v1/analyze",
            {"data": {"text": text, "max_tokens": "2"}, "files": {"x": ("", b"", "text/plain")}},
        )


def out_of_range(rng: random.Random) -> Iterator[Case]:
    for name, values in OUT_OF_RANGE.items():
        for value in values:
            if name in ("max_tokens", "temperature"):
                yield json_case("out-of-range", "/v1/analyze", {**good_analyze(), name: value})
            yield json_case("out-of-range", "/v1/chat/completions", {**good_chat(), name: value})
            yield json_case("out-of-range", "/v1/chat/completions", {**good_chat(), name: value, "stream": True})
            # sampled, not greedy: the seed and top_p are used only then
            yield json_case("out-of-range", "/v1/chat/completions", {**good_chat(), name: value, "temperature": 1.0})
    # literal NaN / Infinity written by hand, as a lax client would
    for literal in (
        "NaN",
        "Infinity",
        "-Infinity",
        "1e999",
        "-1e999",
        "1e-999",
        "0e0",
        "-0",
        "99999999999999999999999999",
    ):
        for name in ("temperature", "top_p", "max_tokens", "n", "seed"):
            body = f'{{"model": "tiny", "messages": [{{"role": "user", "content": "hi"}}], "{name}": {literal}}}'
            yield json_case("out-of-range", "/v1/chat/completions", body.encode())
        for name in ("temperature", "max_tokens"):
            yield json_case("out-of-range", "/v1/analyze", f'{{"text": "hi", "{name}": {literal}}}'.encode())
    # the multipart form's numbers are strings
    for name, value in (
        ("max_tokens", "-1"),
        ("max_tokens", "1e999"),
        ("max_tokens", "nan"),
        ("max_tokens", "99999"),
        ("temperature", "nan"),
        ("temperature", "inf"),
        ("temperature", "5"),
        ("max_tokens", "0x10"),
        ("max_tokens", " 2 "),
        ("temperature", ""),
        ("max_tokens", ""),
    ):
        yield Case(
            "out-of-range",
            "text",
            "POST",
            "/v1/analyze",
            {"data": {"text": "hi", name: value}, "files": {"x": ("", b"", "text/plain")}},
        )


def bad_media(rng: random.Random) -> Iterator[Case]:
    """Uploads to a model that takes image, audio and video, so the checks past the modality run too."""
    names = [
        "x.png",
        "x.jpg",
        "x.wav",
        "x.mp3",
        "x.mp4",
        "x.txt",
        "x",
        ".wav",
        "x.WAV",
        "x.png.exe",
        "../../etc/passwd",
        "/dev/zero",
        "C:\\x.wav",
        "x.\ud800",
        "\u202ex.wav",
        "",
        "a" * 300 + ".wav",
    ]
    ctypes = [
        "image/png",
        "audio/wav",
        "video/mp4",
        "text/plain",
        "application/octet-stream",
        "",
        "x/y",
        "image/png; a=b",
    ]
    for _ in range(70):
        kind = rng.choice(["image", "audio", "video"])
        payload = rng.choice(
            [
                b"",
                rand_bytes(rng, rng.randint(1, 300)),
                b"RIFF....WAVE but really text",
                b"hello, I am a text file\n" * 3,
                rng.choice(list(MAGIC.values())) + rand_bytes(rng, rng.randint(0, 200)),  # a real header, garbage after
                rng.choice(list(MAGIC.values())),
                PNG_HEAD + rand_bytes(rng, 20_000),  # over max_upload_bytes
            ]
        )
        files = {kind: (rng.choice(names), payload, rng.choice(ctypes))}
        yield Case(
            "bad-media", "media", "POST", "/v1/analyze", {"data": {"text": "look", "max_tokens": "2"}, "files": files}
        )
    for field_name, value in (
        ("image", "/etc/passwd"),
        ("audio", "file:///etc/shadow"),
        ("video", "C:\\x"),
        ("image", "../../etc/passwd"),
        ("audio", ""),
    ):
        yield Case("bad-media", "media", "POST", "/v1/analyze", {"data": {"text": "look", field_name: value}})
    # a file under a field that is not a medium, two files of one kind, too many files
    yield Case(
        "bad-media",
        "media",
        "POST",
        "/v1/analyze",
        {"data": {"text": "x"}, "files": {"text": ("a.txt", b"hi", "text/plain")}},
    )
    yield Case(
        "bad-media",
        "media",
        "POST",
        "/v1/analyze",
        {
            "data": {"text": "x"},
            "files": [("image", ("a.png", PNG_HEAD, "image/png")), ("image", ("b.png", PNG_HEAD, "image/png"))],
        },
    )
    yield Case(
        "bad-media",
        "media",
        "POST",
        "/v1/analyze",
        {
            "data": {"text": "x"},
            "files": [(k, (f"a.{k}", b"x", "x/y")) for k in ("image", "audio", "video", "image", "audio")],
        },
    )
    yield Case(
        "bad-media",
        "media",
        "POST",
        "/v1/analyze",
        {"data": {f"f{i}": "x" for i in range(40)}, "files": {"x": ("", b"", "text/plain")}},
    )
    # chat content parts: data URIs, bad base64, wrong formats, paths and URLs in place of data
    for _ in range(50):
        kind = rng.choice(["image_url", "video_url", "input_audio"])
        payload = rng.choice(
            [
                b"",
                rand_bytes(rng, rng.randint(1, 200)),
                rng.choice(list(MAGIC.values())) + rand_bytes(rng, 100),
                b"plain text",
                PNG_HEAD + rand_bytes(rng, 20_000),
            ]
        )
        b64 = base64.b64encode(payload).decode()
        b64 = rng.choice([b64, b64[:-1], b64 + "!", "%%%", "", b64.replace("A", "-")])
        if kind == "input_audio":
            part: dict[str, Any] = {
                "type": kind,
                kind: rng.choice(
                    [
                        {"data": b64, "format": rng.choice(["wav", "mp3", "txt", "", "../x", 5, None])},
                        {"data": 5},
                        "x",
                        None,
                        {"data": b64},
                        {"format": "wav"},
                    ]
                ),
            }
        else:
            mime = rng.choice(["image/png", "video/mp4", "audio/wav", "text/plain", "", "image/png;charset=x", "a/b"])
            url = rng.choice(
                [f"data:{mime};base64,{b64}", f"data:{mime},{b64}", rng.choice(PATHS), f"data:;base64,{b64}"]
            )
            part = {"type": kind, kind: rng.choice([{"url": url}, url, {"url": 5}, {}, None, [url]])}
        role = rng.choice(["user", "user", "user", "assistant", "system"])
        body = {**good_chat(), "messages": [{"role": role, "content": [{"type": "text", "text": "hi"}, part]}]}
        yield json_case("bad-media", "/v1/chat/completions", body, app="media")
        yield json_case("bad-media", "/v1/chat/completions", body, app="text")


def path_like(rng: random.Random) -> Iterator[Case]:
    for value in PATHS:
        yield json_case("path-like", "/v1/chat/completions", {**good_chat(), "model": value})
        for name in ("format", "task", "id", "text"):
            yield json_case("path-like", "/v1/analyze", {**good_analyze(), name: value})
        yield json_case("path-like", "/v1/analyze", {**good_analyze(), "labels": [value, "b"]})
        yield json_case(
            "path-like",
            "/v1/chat/completions",
            {
                **good_chat(),
                "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": value}}]}],
            },
            app="media",
        )
        yield json_case(
            "path-like",
            "/v1/chat/completions",
            {
                **good_chat(),
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "input_audio", "input_audio": {"data": "AAAA", "format": value}}],
                    }
                ],
            },
            app="media",
        )
    for url in (
        "/v1/models/../../etc/passwd",
        "/v1/models/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/v1/models/C:\\x",
        "/v1/models/file:///etc/shadow",
        "/v1/models/%00",
        "/v1/models/" + "a" * 5000,
        "/static/../../etc/passwd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2f..%2fetc%2fpasswd",
        "/static/",
        "/static/%00",
        "/static/app.js/..",
        "/v1/analyze/../../etc/passwd",
        "/%2e%2e/etc/passwd",
        "/v1/models/\u202e",
        "/v1/models/%F0%9F%98%80",
        "/v1/models/%ED%A0%80",
        "/v1/models/%FF",
        "/v1/analyze?text=%FF",
        "/v1/models?x=" + "%ED%A0%80" * 10,
        "//etc/passwd",
        "/v1//models",
    ):
        yield Case("path-like", "text", "GET", url)


def wrong_methods(rng: random.Random) -> Iterator[Case]:
    for path, allowed in ROUTES.items():
        for method in METHODS:
            if method == allowed or (method == "HEAD" and allowed == "GET"):
                continue
            yield Case("wrong-method", "text", method, path, {"content": dumps(good_chat())})
    for method in ("PROPFIND", "TRACE", "CONNECT", "FOO"):
        yield Case("wrong-method", "text", method, "/v1/chat/completions")


def wrong_content_types(rng: random.Random) -> Iterator[Case]:
    types = [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=xyz",
        "application/json; charset=latin-1",
        "application/json; charset=utf-16",
        "APPLICATION/JSON",
        "application/jsonx",
        "image/png",
        "*/*",
        ";;;",
        "application/octet-stream",
        "text/html; charset=\ud800",
    ]
    bodies = [
        dumps(good_analyze()),
        dumps(good_chat()),
        b"text=hi&max_tokens=2",
        b'--xyz\r\nContent-Disposition: form-data; name="text"\r\n\r\nhi\r\n--xyz--\r\n',
        b'--xyz\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n' + PNG_HEAD,
        b"--xyz\r\n\r\n",
        b"<xml/>",
        b"",
    ]
    for path in ("/v1/analyze", "/v1/chat/completions"):
        for ctype in types:
            for body in rng.sample(bodies, 3):
                yield Case(
                    "wrong-content-type", "text", "POST", path, {"content": body, "headers": {"content-type": ctype}}
                )
        # form-urlencoded fields of every sort, for the analyze form reader
        for data in (
            {"text": "hi", "image": "/etc/passwd"},
            {"text": "hi", "extra": "1"},
            {"text": "x" * 100_000},
            {"text": "hi", "scale": "1"},
            {"text": "hi", "labels": ""},
            {},
        ):
            yield Case("wrong-content-type", "text", "POST", path, {"data": data})
        # no content-type at all
        yield Case("wrong-content-type", "text", "POST", path, {"content": dumps(good_chat())})
        yield Case("wrong-content-type", "text", "POST", path, {"content": b"\xff\xfe garbage"})


def oversized(rng: random.Random) -> Iterator[Case]:
    big = MAX_BODY + 1
    for path in ("/v1/analyze", "/v1/chat/completions", "/health", "/v1/models", "/nowhere"):
        yield Case(
            "oversized",
            "text",
            "POST",
            path,
            {"content": b"{" + b" " * big + b"}", "headers": {"content-type": "application/json"}},
        )
        yield Case(
            "oversized",
            "text",
            "POST",
            path,
            {
                "content": dumps({**good_analyze(), **good_chat(), "text": "x" * big}),
                "headers": {"content-type": "application/json"},
            },
        )
        # streamed (chunked, no Content-Length): refused once the body passes the limit
        chunks = [b'{"text": "'] + [b"y" * 65536] * 6 + [b'"}']
        yield Case(
            "oversized",
            "text",
            "POST",
            path,
            {"content": iter(chunks), "headers": {"content-type": "application/json"}},
        )
        # a Content-Length that lies or is nonsense
        for length in ("999999999999", "-1", "abc", "0", "1"):
            yield Case(
                "oversized",
                "text",
                "POST",
                path,
                {
                    "content": dumps(good_chat()),
                    "headers": {"content-type": "application/json", "content-length": length},
                },
            )
    yield Case(
        "oversized",
        "media",
        "POST",
        "/v1/analyze",
        {"data": {"text": "x"}, "files": {"image": ("a.png", PNG_HEAD + b"\x00" * big, "image/png")}},
    )
    yield Case(
        "oversized",
        "media",
        "POST",
        "/v1/analyze",
        {"data": {"text": "x" * (MAX_BODY // 2)}, "files": {"image": ("a.png", PNG_HEAD, "image/png")}},
    )
    yield Case(
        "oversized",
        "text",
        "POST",
        "/v1/chat/completions",
        {
            "content": dumps({**good_chat(), "messages": [{"role": "user", "content": "hi"}] * 20_000}),
            "headers": {"content-type": "application/json"},
        },
    )


def headers_and_keys(rng: random.Random) -> Iterator[Case]:
    for value in ("Bearer", "Bearer ", "Basic abc", "Bearer \u00e9", "x" * 10_000, "Bearer a b c"):
        for path in ("/v1/chat/completions", "/metrics"):
            method = "POST" if path.startswith("/v1") else "GET"
            yield Case(
                "odd-header",
                "text",
                method,
                path,
                {
                    "content": dumps(good_chat()),
                    "headers": {"authorization": value, "content-type": "application/json"},
                },
            )


GENERATORS = [
    malformed_json,
    wrong_types,
    missing_and_extra,
    odd_unicode,
    out_of_range,
    bad_media,
    path_like,
    wrong_methods,
    wrong_content_types,
    oversized,
    headers_and_keys,
]


def generate_cases(seed: int = SEED) -> list[Case]:
    rng = random.Random(seed)
    return [case for make in GENERATORS for case in make(rng)]


# --------------------------------------------------------------------------------------
# the apps and the test
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clients(tiny_models) -> Iterator[dict[str, TestClient]]:
    text = load_model(str(tiny_models["causal_lm"]))
    media = load_model(str(tiny_models["qwen2_5_omni"]))
    apps = {
        "text": create_app(
            TransformersEngine(text, batch_size=4), ModelInfo.from_loaded(text, "tiny"), ServeSettings(**SETTINGS)
        ),
        "media": create_app(
            TransformersEngine(media, batch_size=4), ModelInfo.from_loaded(media, "tiny"), ServeSettings(**SETTINGS)
        ),
    }
    with (
        TestClient(apps["text"], raise_server_exceptions=False) as t,
        TestClient(apps["media"], raise_server_exceptions=False) as m,
    ):
        yield {"text": t, "media": m}


def test_generation_is_deterministic_and_large_enough() -> None:
    cases = generate_cases()
    assert len(cases) >= 1000
    assert [c.describe() for c in cases[:50]] == [c.describe() for c in generate_cases()[:50]]


@pytest.mark.slow
def test_a_thousand_bad_requests_get_no_5xx_and_the_server_still_answers(clients: dict[str, TestClient]) -> None:
    cases = generate_cases()
    assert len(cases) >= 1000
    failures: list[str] = []
    statuses: Counter[tuple[str, int]] = Counter()
    started = time.monotonic()
    for case in cases:
        try:
            response = clients[case.app].request(case.method, case.path, **on_the_wire(case.kwargs))
        except Exception as err:  # noqa: BLE001 - an exception escaping the app is a failure to report, not to raise
            failures.append(f"{case.describe()} -> raised {err!r}")
            continue
        statuses[case.kind, response.status_code] += 1
        if response.status_code >= 500:
            failures.append(f"{case.describe()} -> {response.status_code} {response.text[:300]}")
    elapsed = time.monotonic() - started
    print(f"{len(cases)} requests in {elapsed:.1f} s; by kind and status: {sorted(statuses.items())}")
    assert not failures, f"{len(failures)} of {len(cases)} requests got >= 500:\n" + "\n".join(failures[:40])

    # the server still answers good requests
    record = clients["text"].post("/v1/analyze", json=good_analyze())
    assert record.status_code == 200, record.text
    assert record.json()["format"] == "c2f" and isinstance(record.json()["raw_completion"], str)
    answer = clients["text"].post("/v1/chat/completions", json=good_chat())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["object"] == "chat.completion" and isinstance(body["choices"][0]["message"]["content"], str)
    assert clients["media"].post("/v1/chat/completions", json=good_chat()).status_code == 200
    assert clients["text"].get("/health").json()["status"] == "ok"


def test_the_requests_that_used_to_answer_500_now_answer_400(clients: dict[str, TestClient]) -> None:
    """What this fuzz found: each got a 500 before the fix in `emoreason.serve`."""

    def post(path: str, body: bytes) -> tuple[int, dict]:
        response = clients["text"].post(path, content=body, headers={"content-type": "application/json"})
        return response.status_code, response.json()["error"]

    # JSON nested past Python's recursion limit (json.loads raised RecursionError)
    status, error = post("/v1/analyze", b"[" * 5000 + b"]" * 5000)
    assert status == 400 and error["code"] == "invalid_json" and "nested too deeply" in error["message"]
    # a lone surrogate in a key: the 400 naming it could not be written as UTF-8
    status, error = post("/v1/analyze", b'{"text": "hi", "\\ud800": 1}')
    assert status == 400 and error["param"] == "\\ud800"
    # a list as a content part's type (it was looked up in a dict: unhashable)
    body = dumps({**good_chat(), "messages": [{"role": "user", "content": [{"type": ["text"]}]}]})
    status, error = post("/v1/chat/completions", body)
    assert status == 400 and error["param"] == "messages.0.content.0"
