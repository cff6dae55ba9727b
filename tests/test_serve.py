"""`emoreason serve`: every endpoint over real HTTP (uvicorn on 127.0.0.1, httpx and the openai
client), with tiny random models, plus scripted engines where a test needs a known answer or a
known delay (batching, timeouts, queue limits)."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from emoreason.generation import Completion, SamplingParams, TransformersEngine
from emoreason.models import Conversation, load_model
from emoreason.serve import ModelInfo, ServerThread, ServeSettings, create_app

C2F_ANSWER = (
    "<polarity>positive</polarity><think>Text: the words are warm.\n\nCombined: clearly happy.</think>"
    "<score>2.5</score>"
)


class ScriptedEngine:
    """Answers every prompt with `answer` after `delay` seconds; records each generate call."""

    def __init__(self, answer: str = C2F_ANSWER, delay: float = 0.0):
        self.answer, self.delay = answer, delay
        self.calls: list[tuple[int, SamplingParams]] = []
        self.media_seen: list[dict[str, bytes]] = []
        self.lock = threading.Lock()

    def generate(self, conversations: list[Conversation], params: SamplingParams, progress=None):
        with self.lock:
            self.calls.append((len(conversations), params))
            self.media_seen += [{k: Path(v).read_bytes() for k, v in c.media.items()} for c in conversations]
        time.sleep(self.delay)
        return [
            [
                Completion(
                    text=self.answer,
                    token_ids=list(range(7)),
                    logprobs=[0.0] * 7,
                    finish_reason="eos",
                    prompt_tokens=11,
                )
                for _ in range(params.n)
            ]
            for _ in conversations
        ]


def scripted_app(engine: ScriptedEngine, modalities: frozenset[str] = frozenset(), **settings):
    info = ModelInfo(id="scripted", family="scripted", modalities=modalities)
    return create_app(engine, info, ServeSettings(**settings))


@pytest.fixture(scope="module")
def tiny_lm(tiny_models):
    return load_model(str(tiny_models["causal_lm"]))


@pytest.fixture(scope="module")
def server(tiny_lm) -> Iterator[ServerThread]:
    settings = ServeSettings(
        max_batch_size=8,
        max_tokens_limit=64,
        default_max_tokens=16,
        max_n=4,
        max_upload_bytes=64 * 1024,
        max_body_bytes=256 * 1024,
        max_text_chars=30_000,
    )
    app = create_app(TransformersEngine(tiny_lm, batch_size=8), ModelInfo.from_loaded(tiny_lm, "tiny"), settings)
    with ServerThread(app) as running:
        yield running


@pytest.fixture
def client(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def chat(client: httpx.Client, **body) -> httpx.Response:
    payload = {
        "model": "tiny",
        "messages": [{"role": "user", "content": "I loved it"}],
        "max_tokens": 6,
        "temperature": 0,
        **body,
    }
    return client.post("/v1/chat/completions", json=payload)


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]


def uploads_left(server: ServerThread) -> list[Path]:
    root = server.server.config.app.state.uploads.root
    return list(root.iterdir())


def wait_until_empty(server: ServerThread, timeout: float = 5.0) -> list[Path]:
    deadline = time.monotonic() + timeout
    while uploads_left(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    return uploads_left(server)


# --------------------------------------------------------------------------------------
# endpoints
# --------------------------------------------------------------------------------------


def test_health_models_and_page(client: httpx.Client, tiny_lm) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["auth_required"] is False and health["queue_depth"] == 0
    models = client.get("/v1/models").json()
    assert models["object"] == "list" and [m["id"] for m in models["data"]] == [tiny_lm.name]
    assert client.get(f"/v1/models/{tiny_lm.name}").json()["id"] == tiny_lm.name
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert 'src="/static/app.js"' in page.text and "http" not in page.text.split("<footer")[0]  # no CDN
    assert client.get("/static/app.js").status_code == 200 and client.get("/static/style.css").status_code == 200


def test_chat_completion_shape_usage_n_and_stop(client: httpx.Client) -> None:
    body = chat(client, n=2, max_tokens=5).json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert [c["index"] for c in body["choices"]] == [0, 1]
    for choice in body["choices"]:
        assert choice["message"]["role"] == "assistant" and choice["finish_reason"] in ("stop", "length")
    usage = body["usage"]
    assert usage["prompt_tokens"] > 0 and 0 < usage["completion_tokens"] <= 10
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    # greedy: a stop sequence taken from the free answer cuts it there, and is left out (as OpenAI does)
    free = chat(client, max_tokens=12).json()["choices"][0]["message"]["content"]
    stop = next(ch for ch in free[2:] if ch.isprintable() and not ch.isspace() and ch != "\ufffd")
    cut = chat(client, max_tokens=12, stop=[stop]).json()["choices"][0]
    assert cut["finish_reason"] == "stop" and cut["message"]["content"] == free[: free.index(stop)]


def test_streaming_sends_openai_chunks_then_done(client: httpx.Client) -> None:
    whole = chat(client, max_tokens=8).json()["choices"][0]["message"]["content"]
    with client.stream(
        "POST",
        "/v1/chat/completions",
        json={
            "model": "tiny",
            "messages": [{"role": "user", "content": "I loved it"}],
            "max_tokens": 8,
            "temperature": 0,
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    ) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == whole
    assert chunks[-2]["choices"][0]["finish_reason"] in ("stop", "length")
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 8


def test_analyze_json_and_multipart_give_the_audit_record(client: httpx.Client, tiny_lm) -> None:
    record = client.post("/v1/analyze", json={"text": "The ending dragged.", "max_tokens": 6, "id": "r1"}).json()
    assert set(record) == {
        "id",
        "polarity",
        "score",
        "label",
        "reasoning",
        "parse_ok",
        "errors",
        "raw_completion",
        "completion_tokens",
        "finish_reason",
        "model",
        "format",
        "task",
        "latency_s",
        "citations",
        "score_readout",
    } | ({"polarity_probs", "written_score"} & set(record))  # kept when the untrained model wrote a polarity word
    assert record["id"] == "r1" and record["format"] == "c2f" and record["model"] == tiny_lm.name
    assert record["task"] == "vader:text"  # the vader scale, asked of text the request gave
    assert record["parse_ok"] is False and record["errors"]  # an untrained model: the parser says what failed
    form = client.post("/v1/analyze", data={"text": "Great!", "format": "emor3", "task": "mikels", "max_tokens": "5"})
    assert form.status_code == 200 and (form.json()["format"], form.json()["task"]) == ("emor3", "mikels")
    written = client.post("/v1/analyze", json={"text": "ok", "score_readout": "written", "max_tokens": 4})
    assert written.status_code == 200 and written.json()["score_readout"] == "written"  # refused as an extra field
    bogus = client.post("/v1/analyze", json={"text": "ok", "score_readout": "weighted"})
    assert bogus.status_code == 400 and bogus.json()["error"]["param"] == "score_readout"
    blank = client.post("/v1/analyze", json={"text": "\u200b\u200d"})  # zero-width characters only: generated for
    assert blank.status_code == 400
    empty = client.post("/v1/analyze", json={"text": "grr", "labels": []})  # answered as vader
    assert empty.status_code == 400 and "at least two labels" in empty.text
    # no format asked: a label task takes emor3 (400: "the adapter answers in c2f", though no adapter said so)
    for body in ({"text": "grr", "labels": ["joy", "anger"], "max_tokens": 4}, {"text": "g", "task": "mikels"}):
        labelled = client.post("/v1/analyze", json=body)
        assert labelled.status_code == 200 and labelled.json()["format"] == "emor3", labelled.text
    scaled = client.post("/v1/analyze", json={"text": "ok", "scale": "-2,2", "max_tokens": 4})
    assert scaled.status_code == 200
    options = client.get("/v1/analyze/options").json()
    assert options["tasks"]["vader"]["scale"] == [-4.0, 4.0] and "amusement" in options["tasks"]["mikels"]["labels"]
    # what each format answers, read off the format (r1 answers both; the list said "scale")
    assert {name: f["needs"] for name, f in options["formats"].items()} == {
        "c2f": "scale",
        "emor3": "labels",
        "r1": "scale or labels",
    }


def test_analyze_matches_the_cli_record(client: httpx.Client, tiny_models) -> None:
    from typer.testing import CliRunner

    from emoreason.cli import app

    out = CliRunner().invoke(
        app, ["analyze", "Not bad at all.", "--json", "--model", str(tiny_models["causal_lm"]), "--max-new-tokens", "6"]
    )
    assert out.exit_code == 0, out.output
    cli_record = json.loads(out.stdout.strip().splitlines()[-1])
    served = client.post("/v1/analyze", json={"text": "Not bad at all.", "max_tokens": 6}).json()
    for key in ("raw_completion", "polarity", "score", "parse_ok", "errors", "completion_tokens", "finish_reason"):
        assert served[key] == cli_record[key], key


def test_analyze_answers_what_the_explainer_gives(client: httpx.Client, tiny_lm) -> None:
    """The server's record is the Python API's: same completion, same record, key for key."""
    from emoreason import Explainer

    explainer = Explainer(tiny_lm, TransformersEngine(tiny_lm, batch_size=8), max_new_tokens=6)
    ours = explainer("Not bad at all.").to_dict()
    served = client.post("/v1/analyze", json={"text": "Not bad at all.", "max_tokens": 6, "id": "input1"}).json()
    assert list(served) == list(ours)
    assert {k: v for k, v in served.items() if k != "latency_s"} == {k: v for k, v in ours.items() if k != "latency_s"}
    # the API's context check, in the server's words: the request's field, no sample name
    long = client.post("/v1/analyze", json={"text": "word " * 5000, "max_tokens": 8})
    error = error_of(long)
    assert (long.status_code, error["code"], error["param"]) == (400, "context_length_exceeded", "max_tokens")
    assert error["message"].startswith("the prompt has ") and "max_tokens asks for 8" in error["message"]


def test_analyze_goes_through_the_servers_explainer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The route prepares the sample and makes the record with `Explainer` (the request's options
    applied); only the generation in between goes through the batcher."""
    from emoreason.api.explainer import Explainer
    from emoreason.formats import get_format

    seen: list[tuple] = []
    prepare, records_from = Explainer.prepare, Explainer.records_from

    def spy_prepare(self, samples, progress=None):
        seen.append(("prepare", self.format.name, self.task.name, self.max_new_tokens, self.temperature))
        return prepare(self, samples, progress)

    def spy_records_from(self, inputs, outputs, latency_s):
        records = records_from(self, inputs, outputs, latency_s)
        seen.append(("records_from", [r["id"] for r in records]))
        return [{**r, "made_by": "explainer"} for r in records]

    monkeypatch.setattr(Explainer, "prepare", spy_prepare)
    monkeypatch.setattr(Explainer, "records_from", spy_records_from)
    engine = ScriptedEngine()
    with ServerThread(scripted_app(engine)) as running, httpx.Client(base_url=running.url, timeout=10) as http:
        body = {"text": "hi", "id": "q1", "task": "mosi", "max_tokens": 7, "temperature": 0.5}
        record = http.post("/v1/analyze", json=body).json()
    assert seen == [("prepare", "c2f", "mosi", 7, 0.5), ("records_from", ["q1"])]
    assert record["made_by"] == "explainer" and (record["polarity"], record["model"]) == ("positive", "scripted")
    [(rows, params)] = engine.calls
    assert (rows, params.max_new_tokens, params.temperature) == (1, 7, 0.5)
    assert params.stop_strings == get_format("c2f").stop_strings


def test_analyze_votes_samples_k_answers_and_records_their_agreement() -> None:
    """`votes` asks the batcher for K answers of one prompt (a K-row job, sampled at the vote
    temperature unless the request gives one) and answers with the voted record."""
    from emoreason.formats.consensus import VOTE_TEMPERATURE

    engine = ScriptedEngine()
    with ServerThread(scripted_app(engine, max_n=4)) as running, httpx.Client(base_url=running.url, timeout=10) as http:
        record = http.post("/v1/analyze", json={"text": "hi", "votes": 3}).json()
        chosen = http.post("/v1/analyze", json={"text": "hi", "votes": 2, "temperature": 1.1})
        greedy_votes = http.post("/v1/analyze", json={"text": "hi", "votes": 2, "temperature": 0})
        too_many = http.post("/v1/analyze", json={"text": "hi", "votes": 5})
        options = http.get("/v1/analyze/options").json()
    assert (record["votes"]["k"], record["votes"]["agree"], record["votes"]["parsed"]) == (3, 3, 3)
    assert record["polarity"] == "positive"
    assert [(rows, p.n, p.temperature) for rows, p in engine.calls] == [(1, 3, VOTE_TEMPERATURE), (1, 2, 1.1)]
    assert chosen.status_code == 200 and chosen.json()["votes"]["k"] == 2
    assert (greedy_votes.status_code, error_of(greedy_votes)["param"]) == (400, "temperature")
    assert "temperature above 0" in error_of(greedy_votes)["message"]
    assert (too_many.status_code, error_of(too_many)["param"]) == (400, "votes")
    assert "at most 4" in error_of(too_many)["message"] and options["limits"]["max_votes"] == 4


def test_metrics_count_requests_by_endpoint_and_status(client: httpx.Client) -> None:
    chat(client)
    client.get("/v1/nothing-here")
    text = client.get("/metrics").text
    assert 'emoreason_requests_total{endpoint="/v1/chat/completions",status="200"}' in text
    assert 'emoreason_requests_total{endpoint="other",status="404"}' in text
    assert 'emoreason_request_duration_seconds_bucket{endpoint="/v1/chat/completions",le="+Inf"}' in text
    assert "emoreason_queue_depth 0" in text and "emoreason_batch_rows_count" in text


def test_each_request_is_logged_with_its_time_and_an_id_the_response_carries(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """uvicorn's access line had neither the time a request took nor an id to find it by."""
    import logging

    from emoreason.serve.server import logging_config

    with caplog.at_level(logging.INFO, logger="emoreason.serve.requests"):
        own = client.get("/health", headers={"X-Request-ID": "client-42"})
        new = client.get("/v1/nothing-here", headers={"X-Request-ID": "no spaces or\ttabs please"})
        for _ in range(100):  # the line is written once the last byte went out, a moment after the client has it
            lines = [r.getMessage() for r in caplog.records if r.name == "emoreason.serve.requests"]
            if len(lines) == 2:
                break
            time.sleep(0.02)
    assert own.headers["x-request-id"] == "client-42"  # the caller's id, echoed
    assert re.fullmatch(r"[0-9a-f]{16}", new.headers["x-request-id"])  # an unsafe one is replaced
    assert re.fullmatch(r'127\.0\.0\.1:\d+ "GET /health" 200 \d+\.\d{3} s request client-42', lines[0])
    assert re.fullmatch(
        rf'\S+ "GET /v1/nothing-here" 404 \d+\.\d{{3}} s request {new.headers["x-request-id"]}', lines[1]
    )
    # `serve` prints these lines in uvicorn's place (its access line is off), on stdout as that line was
    config = logging_config("warning")
    assert config["loggers"]["emoreason.serve.requests"] == {
        "handlers": ["requests"],
        "level": "WARNING",
        "propagate": False,
    }
    assert config["handlers"]["requests"]["stream"] == "ext://sys.stdout" and "uvicorn.access" in config["loggers"]


# --------------------------------------------------------------------------------------
# bad input and limits: 4xx in OpenAI's error shape
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"max_tokens": 65}, 400, "max_tokens"),
        ({"max_completion_tokens": 500}, 400, "max_completion_tokens"),
        ({"n": 5}, 400, "n"),
        ({"temperature": 5}, 400, "temperature"),
        ({"top_p": 0}, 400, "top_p"),
        ({"model": "gpt-4o"}, 404, "model"),
        ({"messages": []}, 400, "messages"),
        ({"messages": [{"role": "tool", "content": "x"}]}, 400, "messages.0.role"),
        ({"tools": [{"type": "function"}]}, 400, "tools"),
        ({"stop": ["a", "b", "c", "d", "e"]}, 400, "stop"),
        ({"stop": 5}, 400, "stop"),  # fits no member of str | list[str]: named as the field, not "stop.str"
        ({"messages": [{"role": "user", "content": 5}]}, 400, "messages.0.content"),
        ({"messages": [{"role": "user", "content": [{"type": "file", "file": {}}]}]}, 400, "messages.0.content.0"),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}],
                    }
                ]
            },
            400,
            "messages.0.content.0",
        ),
    ],
)
def test_chat_rejects_bad_requests(client: httpx.Client, body: dict, status: int, param: str) -> None:
    response = chat(client, **body)
    assert response.status_code == status, response.text
    assert error_of(response)["param"] == param
    if body.get("stop") == 5:
        assert error_of(response)["message"] == "stop: Input should be a valid string or a valid list"


def test_malformed_json_long_prompts_and_big_bodies(client: httpx.Client) -> None:
    bad = client.post("/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 400 and error_of(bad)["code"] == "invalid_json"
    long = chat(client, messages=[{"role": "user", "content": "word " * 5000}], max_tokens=8)
    assert long.status_code == 400 and error_of(long)["code"] == "context_length_exceeded"
    huge = client.post("/v1/analyze", json={"text": "x" * 300_000})
    assert huge.status_code == 413 and error_of(huge)["code"] == "body_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while reading
        yield b'{"text": "'
        for _ in range(40):
            yield b"y" * 8192
        yield b'"}'

    streamed = client.post("/v1/analyze", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    # the chat route too (FastAPI read the body for its model, and made the limit a 400 "error parsing the body")
    chatted = client.post("/v1/chat/completions", content=chunks(), headers={"content-type": "application/json"})
    assert chatted.status_code == 413 and error_of(chatted)["code"] == "body_too_large"
    assert client.post("/v1/analyze", json={"text": "  "}).status_code == 400
    wrong_task = client.post("/v1/analyze", json={"text": "hi", "format": "c2f", "task": "mikels"})
    assert error_of(wrong_task)["param"] == "task"  # c2f needs a score scale
    assert error_of(client.post("/v1/analyze", json={"text": "hi", "bogus": 1}))["param"] == "bogus"
    assert client.post("/v1/analyze", content=b"text=hi", headers={"content-type": "text/plain"}).status_code == 415
    assert client.delete("/v1/analyze").status_code == 405


def test_text_only_model_refuses_media_and_paths(client: httpx.Client, server: ServerThread, media_files) -> None:
    png = media_files["image"].read_bytes()
    with ServerThread(scripted_app(ScriptedEngine(), cues="off")) as running, httpx.Client(base_url=running.url) as off:
        refused = off.post("/v1/analyze", data={"text": "hi"}, files={"image": ("face.png", png, "image/png")})
        assert refused.status_code == 400 and "text only" in error_of(refused)["message"]
        assert (
            "--cues auto" in error_of(refused)["message"] and off.get("/v1/analyze/options").json()["cue_media"] == []
        )
    path_field = client.post("/v1/analyze", data={"text": "hi", "image": "/etc/passwd"})
    assert path_field.status_code == 400 and "paths are not accepted" in error_of(path_field)["message"]
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    parts = [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": uri}}]
    response = chat(client, messages=[{"role": "user", "content": parts}])
    assert response.status_code == 400 and error_of(response)["code"] == "unsupported_content"
    assert wait_until_empty(server) == []


def test_a_text_model_takes_a_clip_as_measured_cue_text(media_files) -> None:
    """`serve --adapter speech-emotion` refused every clip (the model reads text only), though the adapter
    is trained on clips given as cue text, as `analyze --audio` gives them; by default the server does too."""
    engine = ScriptedEngine()
    wav = media_files["wav"].read_bytes()
    with ServerThread(scripted_app(engine)) as running, httpx.Client(base_url=running.url, timeout=30) as http:
        assert http.get("/v1/analyze/options").json()["cue_media"] == ["audio", "image", "video"]
        response = http.post(
            "/v1/analyze", data={"text": "Kids are talking"}, files={"audio": ("a.wav", wav, "audio/wav")}
        )
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["cues"].startswith("Voice") and "Hz" in record["cues"]  # measured, as analyze --json shows
    assert engine.media_seen == [{}]  # the model got words, not the file


# --------------------------------------------------------------------------------------
# media uploads on a model that takes them (tiny Qwen2.5-VL)
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vl_server(tiny_models) -> Iterator[ServerThread]:
    loaded = load_model(str(tiny_models["qwen2_5_vl"]))
    settings = ServeSettings(max_batch_size=4, max_tokens_limit=32, default_max_tokens=8, max_upload_bytes=64 * 1024)
    app = create_app(TransformersEngine(loaded, batch_size=4), ModelInfo.from_loaded(loaded), settings)
    with ServerThread(app) as running:
        yield running


def test_uploads_are_checked_used_and_deleted(vl_server: ServerThread, media_files) -> None:
    png = media_files["image"].read_bytes()
    with httpx.Client(base_url=vl_server.url, timeout=60) as http:
        record = http.post(
            "/v1/analyze",
            data={"text": "Look at this", "max_tokens": "4"},
            files={"image": ("face.png", png, "image/png")},
        )
        assert record.status_code == 200, record.text
        uri = "data:image/png;base64," + base64.b64encode(png).decode()
        answer = http.post(
            "/v1/chat/completions",
            json={
                "model": "default",
                "max_tokens": 4,
                "temperature": 0,
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "How does this feel?"},
                            {"type": "image_url", "image_url": {"url": uri}},
                        ],
                    }
                ],
            },
        )
        assert answer.status_code == 200, answer.text
        checks = [
            ({"image": ("face.png", b"just some text, not a picture" * 4, "image/png")}, 415),  # sniffed content
            ({"image": ("face.exe", png, "image/png")}, 415),  # extension
            ({"video": ("clip.mp4", png, "video/mp4")}, 415),  # a PNG is no video
            ({"image": ("big.png", png + b"\0" * 70_000, "image/png")}, 413),  # over the upload limit
            ({"audio": ("tone.wav", png, "audio/wav")}, 415),  # a PNG is no audio
            # VL reads no audio: a clip is measured and given as cue text (serve --cues auto), as analyze does
            ({"audio": ("tone.wav", media_files["wav"].read_bytes()[:60_000], "audio/wav")}, 200),
            ({"document": ("a.png", png, "image/png")}, 400),  # unknown field
        ]
        for url in ("file:///etc/passwd", "/etc/passwd", "https://example.com/a.png", "data:image/png,raw"):
            parts = [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": url}}]
            response = http.post(
                "/v1/chat/completions",
                json={"model": "default", "max_tokens": 2, "messages": [{"role": "user", "content": parts}]},
            )
            assert response.status_code == 400 and "data: URI" in error_of(response)["message"], response.text
        for files, status in checks:
            response = http.post("/v1/analyze", data={"text": "x", "max_tokens": "2"}, files=files)
            assert response.status_code == status, (files.keys(), response.text)
            if status != 200:
                message = error_of(response)["message"]
                if status == 413:  # in bytes: "20.0 MiB; the limit is 20.0 MiB" said nothing
                    size, limit = re.search(r"is ([\d,]+) bytes .*the limit is ([\d,]+) bytes", message).groups()
                    assert int(size.replace(",", "")) > int(limit.replace(",", ""))
                if "audio" in files:
                    assert "is not an audio file we can read" in message
        # a PNG whose header passes but whose data is cut: the processor's error names the form field
        truncated = http.post(
            "/v1/analyze", data={"text": "x", "max_tokens": "2"}, files={"image": ("cut.png", png[:80], "image/png")}
        )
        assert truncated.status_code == 400 and error_of(truncated)["param"] == "image", truncated.text
        assert "the uploaded image" in error_of(truncated)["message"]
        # JSON cannot carry a file: say how to send one, not "Extra inputs are not permitted"
        in_json = http.post("/v1/analyze", json={"text": "x", "image": "face.png"})
        assert in_json.status_code == 400 and error_of(in_json)["param"] == "image"
        assert "multipart form (-F image=@FILE)" in error_of(in_json)["message"]
    assert wait_until_empty(vl_server) == []
    root = vl_server.server.config.app.state.uploads.root
    assert root.stat().st_mode & 0o777 == 0o700


def test_uploads_of_a_timed_out_request_are_deleted_once_generation_ends(media_files) -> None:
    engine = ScriptedEngine(delay=0.6)
    app = scripted_app(engine, frozenset({"image"}), request_timeout_s=0.2)
    with ServerThread(app) as running, httpx.Client(base_url=running.url, timeout=10) as http:
        png = media_files["image"].read_bytes()
        response = http.post("/v1/analyze", data={"text": "x"}, files={"image": ("a.png", png, "image/png")})
        assert response.status_code == 504 and error_of(response)["code"] == "timeout"
        assert wait_until_empty(running, timeout=3) == []
        assert engine.media_seen and engine.media_seen[0]["image"] == png  # the engine read the file it was given


# --------------------------------------------------------------------------------------
# auth
# --------------------------------------------------------------------------------------


def test_api_key_is_required_on_the_api_but_not_on_health_or_the_page() -> None:
    app = scripted_app(ScriptedEngine(), api_key="s3cret-key")
    with ServerThread(app) as running, httpx.Client(base_url=running.url, timeout=10) as http:
        assert http.get("/health").json()["auth_required"] is True
        assert http.get("/").status_code == 200
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret-key"}):
            for method, path in (("GET", "/v1/models"), ("POST", "/v1/analyze"), ("GET", "/metrics")):
                response = http.request(method, path, headers=headers, json={"text": "hi"})
                assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
                assert error_of(response)["code"] == "invalid_api_key"
        good = {"Authorization": "Bearer s3cret-key"}
        assert http.get("/v1/models", headers=good).status_code == 200
        assert http.post("/v1/analyze", headers=good, json={"text": "hi"}).json()["polarity"] == "positive"
    # a key beyond ASCII, sent as UTF-8 bytes (as clients send it), matched only as Latin-1 bytes
    with (
        ServerThread(scripted_app(ScriptedEngine(), api_key="sécret")) as running,
        httpx.Client(base_url=running.url) as http,
    ):
        sent = [(b"Authorization", "Bearer sécret".encode())]
        assert http.get("/v1/models", headers=sent).status_code == 200
        assert http.get("/v1/models", headers=[(b"Authorization", "Bearer secret".encode())]).status_code == 401


# --------------------------------------------------------------------------------------
# the openai client, unchanged
# --------------------------------------------------------------------------------------


def test_the_openai_client_works_against_the_server(server: ServerThread, tiny_lm) -> None:
    import openai

    client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=30)
    assert [m.id for m in client.models.list()] == [tiny_lm.name]
    reply = client.chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": "What a day!"}], max_tokens=6, temperature=0, n=2
    )
    assert len(reply.choices) == 2 and reply.usage.completion_tokens <= 12
    assert reply.choices[0].message.role == "assistant"
    stream = client.chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": "What a day!"}], max_tokens=6, temperature=0, stream=True
    )
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert streamed == reply.choices[0].message.content
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "x"}], max_tokens=10_000)
    assert caught.value.param == "max_tokens" and caught.value.code == "invalid_value"
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], max_tokens=2)


def test_the_openai_client_sends_the_api_key() -> None:
    import openai

    with ServerThread(scripted_app(ScriptedEngine(), api_key="k-123")) as running:
        good = openai.OpenAI(base_url=running.url + "/v1", api_key="k-123", max_retries=0, timeout=10)
        answer = good.chat.completions.create(model="scripted", messages=[{"role": "user", "content": "hi"}])
        assert answer.choices[0].message.content == C2F_ANSWER
        bad = openai.OpenAI(base_url=running.url + "/v1", api_key="nope", max_retries=0, timeout=10)
        with pytest.raises(openai.AuthenticationError):
            bad.models.list()


# --------------------------------------------------------------------------------------
# batching, queue limits, timeouts
# --------------------------------------------------------------------------------------


def fire(url: str, bodies: list[dict], path: str = "/v1/chat/completions", timeout: float = 20) -> list[httpx.Response]:
    def one(body: dict) -> httpx.Response:
        with httpx.Client(base_url=url, timeout=timeout) as http:
            return http.post(path, json=body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(one, bodies))


def test_concurrent_requests_share_generate_calls_grouped_by_params() -> None:
    engine = ScriptedEngine(delay=0.25)
    with ServerThread(scripted_app(engine, max_batch_size=8, batch_wait_ms=20)) as running:
        base = {"model": "scripted", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
        bodies = [{**base, "temperature": 0.0 if i % 2 else 0.7} for i in range(12)]
        responses = fire(running.url, bodies)
    assert all(r.status_code == 200 for r in responses)
    assert sum(n for n, _ in engine.calls) == 12
    assert len(engine.calls) <= 6 and max(n for n, _ in engine.calls) >= 3  # batched, not one by one
    assert {p.temperature for _, p in engine.calls} == {0.0, 0.7}  # each call holds one kind of params


def test_no_batching_runs_requests_one_by_one() -> None:
    engine = ScriptedEngine(delay=0.02)
    with ServerThread(scripted_app(engine, max_batch_size=1)) as running:
        body = {"model": "scripted", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
        assert all(r.status_code == 200 for r in fire(running.url, [body] * 6))
    assert [n for n, _ in engine.calls] == [1] * 6


def test_a_seeded_sampled_request_is_batched_alone() -> None:
    """The engine draws one random stream per batch: a seeded request answered differently when another request
    shared its batch (reproduced with seed 7 at temperature 1 on the tiny model)."""
    engine = ScriptedEngine(delay=0.05)
    with ServerThread(scripted_app(engine)) as running:
        body = {"model": "scripted", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
        seeded = {**body, "seed": 7, "temperature": 1.0}
        assert all(r.status_code == 200 for r in fire(running.url, [seeded] * 4 + [body] * 4))
    assert sorted(n for n, p in engine.calls if p.seed is not None) == [1, 1, 1, 1]
    assert max(n for n, p in engine.calls if p.seed is None) > 1  # the others are still batched


def test_full_queue_answers_503_with_retry_after_and_slow_requests_504() -> None:
    engine = ScriptedEngine(delay=0.5)
    app = scripted_app(engine, max_batch_size=1, max_queue=1, request_timeout_s=5)
    with ServerThread(app) as running:
        body = {"model": "scripted", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
        responses = fire(running.url, [body] * 5)
        statuses = sorted(r.status_code for r in responses)
        assert statuses.count(200) >= 2 and 503 in statuses and set(statuses) <= {200, 503}, statuses
        for response in responses:
            if response.status_code == 503:
                assert int(response.headers["retry-after"]) >= 1 and error_of(response)["code"] == "queue_full"
    app = scripted_app(ScriptedEngine(delay=0.8), max_batch_size=1, request_timeout_s=0.3)
    with ServerThread(app) as running:
        responses = fire(running.url, [body] * 3)
        assert [r.status_code for r in responses] == [504] * 3
        with httpx.Client(base_url=running.url, timeout=10) as http:
            assert http.get("/health").json()["status"] == "ok"


def test_a_failing_request_does_not_fail_its_batch_neighbours(tiny_models, media_files) -> None:
    """One corrupt image in a batch: that request gets a 400, the others their answers."""
    loaded = load_model(str(tiny_models["qwen2_5_vl"]))
    engine = TransformersEngine(loaded, batch_size=4)
    batch_sizes: list[int] = []
    real_generate = engine.generate

    def recording_generate(conversations, params, progress=None):
        batch_sizes.append(len(conversations))
        return real_generate(conversations, params, progress)

    engine.generate = recording_generate
    app = create_app(
        engine, ModelInfo.from_loaded(loaded), ServeSettings(max_batch_size=4, batch_wait_ms=300, max_tokens_limit=8)
    )
    good = media_files["image"].read_bytes()
    broken = b"\x89PNG\r\n\x1a\n" + b"\0" * 200  # sniffs as PNG, does not decode
    with ServerThread(app) as running:

        def one(data: bytes) -> httpx.Response:
            with httpx.Client(base_url=running.url, timeout=60) as http:
                return http.post(
                    "/v1/analyze", data={"text": "hm", "max_tokens": "3"}, files={"image": ("x.png", data, "image/png")}
                )

        with ThreadPoolExecutor(3) as pool:
            responses = list(pool.map(one, [good, broken, good]))
        assert [r.status_code for r in responses] == [200, 400, 200], [r.text for r in responses]
        assert batch_sizes[0] == 3 and batch_sizes[1:] == [1, 1, 1]  # the batch failed, then each ran alone
        message = error_of(responses[1])["message"]
        assert "the uploaded image" in message and str(running.server.config.app.state.uploads.root) not in message
        assert wait_until_empty(running) == []


def test_the_event_loop_stays_responsive_while_a_batch_generates() -> None:
    engine = ScriptedEngine(delay=1.5)
    with ServerThread(scripted_app(engine)) as running, ThreadPoolExecutor(1) as pool:
        body = {"model": "scripted", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
        pending = pool.submit(fire, running.url, [body])
        while not engine.calls:
            time.sleep(0.02)
        with httpx.Client(base_url=running.url, timeout=10) as http:
            started = time.perf_counter()
            assert http.get("/health").status_code == 200
            assert time.perf_counter() - started < 0.5  # generation runs in the worker thread, not on the loop
        assert pending.result()[0].status_code == 200


def test_the_serve_command_starts_a_server_with_the_key_from_the_environment(tiny_models) -> None:
    import os
    import subprocess
    import sys

    from emoreason.serve.server import free_port

    port = free_port()
    env = {**os.environ, "EMOREASON_API_KEY": "env-key"}
    command = [
        sys.executable,
        "-m",
        "emoreason",
        "serve",
        "--model",
        str(tiny_models["causal_lm"]),
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-batching",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120  # seconds: a loaded machine takes a while to import and load
        while True:
            assert process.poll() is None, process.stdout.read()
            try:
                health = httpx.get(url + "/health", timeout=2).json()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "emoreason serve did not start within 120 s"
                time.sleep(0.2)
        assert health["auth_required"] is True and health["batching"] is False
        assert httpx.get(url + "/v1/models", timeout=5).status_code == 401
        models = httpx.get(url + "/v1/models", headers={"Authorization": "Bearer env-key"}, timeout=5).json()
        assert models["data"][0]["id"] == str(tiny_models["causal_lm"])
    finally:
        process.terminate()
        process.wait(timeout=20)


def served_adapter(tiny_models, folder: Path, settings: dict, fit=None) -> Path:
    """A LoRA adapter for the tiny LM with its own settings file (and score line)."""
    from peft import LoraConfig, get_peft_model

    get_peft_model(
        load_model(str(tiny_models["causal_lm"])).model, LoraConfig(r=2, target_modules="all-linear")
    ).save_pretrained(folder)
    if fit is not None:
        fit.save(folder / "score_fit.json")
    (folder / "emoreason.json").write_text(json.dumps(settings))
    return folder


def test_the_server_reads_the_served_adapters_own_settings(tiny_models, tmp_path: Path) -> None:
    """What the adapter was trained for (format, task, its score line) is the server's default, as it is
    `emoreason analyze`'s: a server that ignored it read the shipped default's scores off another readout."""
    from emoreason import Explainer
    from emoreason.formats.readout import ScoreFit

    line = ScoreFit(weights=(0.0, 2.0, 0.0, 0.0), intercept=0.25, fitted_on=("by hand",), n=3, scale=(-4.0, 4.0))
    scored = served_adapter(
        tiny_models, tmp_path / "scored", {"format": "c2f", "task": "vader", "score_fit": "score_fit.json"}, line
    )
    loaded = load_model(str(tiny_models["causal_lm"]), [str(scored)])
    engine = TransformersEngine(loaded, batch_size=2)
    app = create_app(engine, ModelInfo.from_loaded(loaded, "tiny"), ServeSettings(default_max_tokens=8))
    served = app.state.serve.explainer
    assert served.score_fit == line and served.reading_fit == line
    assert served.reading_fit == Explainer(loaded, engine).reading_fit
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.get("/v1/analyze/options").json()["defaults"] == {"format": "c2f", "task": "vader"}
    labelled = served_adapter(tiny_models, tmp_path / "labelled", {"format": "emor3", "task": "mikels"})
    loaded = load_model(str(tiny_models["causal_lm"]), [str(labelled)])
    app = create_app(TransformersEngine(loaded, batch_size=2), ModelInfo.from_loaded(loaded, "tiny"), ServeSettings())
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.get("/v1/analyze/options").json()["defaults"] == {"format": "emor3", "task": "mikels"}
        record = http.post("/v1/analyze", json={"text": "what a day", "max_tokens": 4}).json()
        assert record["format"] == "emor3", record
        # a request that names them still gets its own
        asked = http.post("/v1/analyze", json={"text": "what a day", "max_tokens": 4, "format": "c2f", "task": "vader"})
        assert asked.json()["format"] == "c2f"
    # an adapter trained on a file of its own advertises its task by the file's name, and takes that name back
    from emoreason.data.schema import TaskInfo

    ratings = TaskInfo("ratings", scale=(1.0, 7.0)).to_dict()
    own = served_adapter(tiny_models, tmp_path / "own", {"format": "c2f", "task": ratings})
    loaded = load_model(str(tiny_models["causal_lm"]), [str(own)])
    app = create_app(TransformersEngine(loaded, batch_size=2), ModelInfo.from_loaded(loaded, "tiny"), ServeSettings())
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        named = http.get("/v1/analyze/options").json()["defaults"]["task"]
        asked = http.post("/v1/analyze", json={"text": "what a day", "max_tokens": 4, "task": named})
        assert named == "ratings" and asked.status_code == 200, asked.text
        assert asked.json()["task"] == "ratings"
    # a file of its own named like a known task ("vader.csv"): the known name keeps its meaning in a request
    clash = served_adapter(tiny_models, tmp_path / "clash", {"format": "c2f", "task": {**ratings, "name": "vader"}})
    loaded = load_model(str(tiny_models["causal_lm"]), [str(clash)])
    app = create_app(TransformersEngine(loaded, batch_size=2), ModelInfo.from_loaded(loaded, "tiny"), ServeSettings())
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        asked = http.post(
            "/v1/analyze", json={"text": "what a day", "max_tokens": 4, "task": "vader", "score_readout": "written"}
        )
        assert asked.status_code == 200, asked.text
        served = app.state.serve.explainer
        assert served.task.scale == (1.0, 7.0)  # its own default stays the file's


def test_analyze_attributes_the_words_on_request(client: httpx.Client, tiny_lm) -> None:
    """`attribute: true` adds the record's `attribution`, the Python API's on the same weights; a request
    the server cannot attribute is refused by name."""
    from emoreason import Explainer

    explainer = Explainer(tiny_lm, TransformersEngine(tiny_lm, batch_size=8), max_new_tokens=6, attribute=True)
    ours = explainer("Not bad at all.").attribution
    served = client.post("/v1/analyze", json={"text": "Not bad at all.", "max_tokens": 6, "attribute": True}).json()
    assert ours is not None and [w["word"] for w in served["attribution"]] == [w["word"] for w in ours]
    assert [w["shift"] for w in served["attribution"]] == pytest.approx([w["shift"] for w in ours], abs=1e-5)
    assert "attribution" not in client.post("/v1/analyze", json={"text": "Not bad.", "max_tokens": 4}).json()
    form = client.post(
        "/v1/analyze", data={"text": "Not bad.", "max_tokens": "4", "attribute": "true"}
    ).json()  # the page's form field
    assert sorted(w["word"] for w in form["attribution"]) == ["Not", "bad."]
    emor3 = client.post(
        "/v1/analyze", json={"text": "Not bad.", "format": "emor3", "task": "mikels", "attribute": True}
    )
    assert emor3.status_code == 400 and error_of(emor3)["param"] == "attribute"
    assert "polarity word" in error_of(emor3)["message"]
    with ServerThread(scripted_app(ScriptedEngine())) as scripted, httpx.Client(base_url=scripted.url) as http:
        refused = http.post("/v1/analyze", json={"text": "Not bad.", "attribute": True})
    assert refused.status_code == 400 and error_of(refused)["param"] == "attribute"


def test_a_stream_being_split_does_not_hold_up_the_context_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Splitting a stream into token deltas held the tokenizer's one lock, which every request's context check
    takes on the event loop: /health took 0.69 s during one n=8, 1024-token stream (0.0016 s idle)."""
    import threading

    from emoreason.serve import state as serve_state

    splitting = threading.Event()

    def slow_split(*args: object) -> list[str]:
        splitting.set()
        time.sleep(0.5)
        return []

    monkeypatch.setattr(serve_state, "chunk_events", slow_split)
    model = serve_state.ModelInfo(id="m", family="causal_lm", modalities=frozenset({"text"}), tokenizer={"a": 1})
    stream = threading.Thread(target=model.stream_events, args=([], (), False))
    stream.start()
    assert splitting.wait(5)
    assert model.lock.acquire(timeout=0.1)  # free while the stream is split
    model.lock.release()
    stream.join()


# --------------------------------------------------------------------------------------
# clients that leave, and what a request may hold
# --------------------------------------------------------------------------------------


def raw_post(path: str, body: dict) -> bytes:
    """An HTTP/1.1 POST of `body` as JSON, as bytes for a socket the test closes itself."""
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


def request_lines(caplog: pytest.LogCaptureFixture, what: str, count: int = 1, timeout: float = 5.0) -> list[str]:
    """The request log's lines holding `what`, once `count` are written (or the time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [
            r.getMessage() for r in caplog.records if r.name == "emoreason.serve.requests" and what in r.getMessage()
        ]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


def test_a_client_leaving_mid_stream_stops_the_stream_and_is_logged_once_as_499(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The events of a stream were written back to back: once its client was gone, each went into the closed
    socket, asyncio warning at every write ("socket.send() raised exception.", 2,473 of them for a 3,000-event
    stream), and the request was logged as a 200."""
    import logging
    import socket
    import struct

    from emoreason.serve import state as serve_state

    monkeypatch.setattr(serve_state, "chunk_events", lambda *args: [f"data: {'x' * 2000}\n\n"] * 3000)  # 6 MB
    body = {"model": "scripted", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4, "stream": True}
    with caplog.at_level(logging.INFO), ServerThread(scripted_app(ScriptedEngine())) as running:
        with socket.socket() as client:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            client.connect(("127.0.0.1", running.port))
            client.sendall(raw_post("/v1/chat/completions", body))
            received = b""
            while len(received) < 1000:  # the stream has begun
                received += client.recv(4096)
            client.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )  # a reset, as a killed client's
        lines = request_lines(caplog, '"POST /v1/chat/completions"')
        with httpx.Client(base_url=running.url, timeout=10) as http:
            metrics = http.get("/metrics").text
    assert received.startswith(b"HTTP/1.1 200")
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []
    assert len(lines) == 1 and '"POST /v1/chat/completions" 499 ' in lines[0], lines
    assert 'emoreason_requests_total{endpoint="/v1/chat/completions",status="499"} 1' in metrics


def test_a_queued_request_whose_client_left_is_dropped_from_its_batch(caplog: pytest.LogCaptureFixture) -> None:
    """A request waiting for its batch was generated though its client had gone: nobody could read the answer."""
    import logging
    import socket

    engine = ScriptedEngine(delay=0.6)
    app = scripted_app(engine, max_batch_size=1)
    batcher = app.state.batcher
    base = {"model": "scripted", "messages": [{"role": "user", "content": "hi"}]}

    def wait_for(condition) -> None:
        deadline = time.monotonic() + 5
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.01)

    with caplog.at_level(logging.INFO), ServerThread(app) as running:
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(fire, running.url, [{**base, "max_tokens": 4}])
            wait_for(lambda: len(engine.calls) == 1)  # it holds the worker
            with socket.create_connection(("127.0.0.1", running.port)) as client:
                client.sendall(raw_post("/v1/chat/completions", {**base, "max_tokens": 5}))
                wait_for(lambda: batcher.queue_depth == 1)
                assert batcher.queue_depth == 1 and len(engine.calls) == 1  # queued behind the first
            # closed while queued
            lines = request_lines(caplog, '"POST /v1/chat/completions" 499')
            assert first.result()[0].status_code == 200
        # the request after it runs next: the one whose client left never does
        assert fire(running.url, [{**base, "max_tokens": 6}])[0].status_code == 200
    assert [params.max_new_tokens for _, params in engine.calls] == [4, 6]
    assert len(lines) == 1, lines


def test_chat_says_what_is_wrong_with_a_body_that_is_not_json_or_a_seed_out_of_range() -> None:
    """FastAPI's own reading answered "Field required" for an empty body and "Input should be a valid dictionary or
    object to extract fields from" for a JSON array or a form, neither naming what to send; a seed beyond 64 bits
    failed in the engine, after queueing, with "Overflow when unpacking long long"."""
    good = {"model": "scripted", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
    with ServerThread(scripted_app(ScriptedEngine())) as running, httpx.Client(base_url=running.url) as http:

        def refused(content: bytes, content_type: str = "application/json") -> dict:
            response = http.post("/v1/chat/completions", content=content, headers={"content-type": content_type})
            assert response.status_code == 400, response.text
            return error_of(response)

        empty = refused(b"")
        assert empty["message"].startswith("the request body is empty; send a JSON object with `model` and `messages`")
        assert refused(b"[1, 2]")["message"].startswith("the JSON body is an array; send a JSON object with `model`")
        broken = refused(b'{"model": "scripted"')
        assert broken["code"] == "invalid_json"
        assert broken["message"].startswith(
            "the request body is not valid JSON: Expecting ',' delimiter at character 20; send a JSON object with "
            "`model` and `messages`, e.g. {"
        )
        form = refused(b"model=scripted", "application/x-www-form-urlencoded")["message"]
        assert "'application/x-www-form-urlencoded'; send it as JSON (Content-Type: application/json)" in form
        assert "not UTF-8 (byte 0xff" in refused(b'{"model": "\xff"}')["message"]
        for seed in (2**64, -(2**63) - 1, 10**30):
            error = error_of(http.post("/v1/chat/completions", json={**good, "seed": seed}))
            assert (error["param"], error["code"]) == ("seed", "invalid_value")
            assert error["message"] == (
                f"seed is {seed}, out of range: give a whole number from -9223372036854775808 to "
                "18446744073709551615 (-2**63 to 2**64 - 1)"
            )
        for seed in (2**64 - 1, -(2**63), 7):  # the ends of the range the engine takes
            assert http.post("/v1/chat/completions", json={**good, "seed": seed}).status_code == 200


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/chat/completions", "max_tokens"),
        ("/v1/chat/completions", "max_completion_tokens"),
        ("/v1/chat/completions", "n"),
        ("/v1/chat/completions", "seed"),
        ("/v1/chat/completions", "top_logprobs"),
        ("/v1/analyze", "max_tokens"),
        ("/v1/analyze", "votes"),
    ],
)
def test_a_boolean_is_no_integer(path: str, field: str) -> None:
    """`max_tokens: true` was read as 1 (pydantic's lax mode takes JSON's true and false as 1 and 0)."""
    body = {"model": "scripted", "messages": [{"role": "user", "content": "hi"}], "text": "hi", field: True}
    if path == "/v1/analyze":
        del body["model"], body["messages"]
    engine = ScriptedEngine()
    with ServerThread(scripted_app(engine)) as running, httpx.Client(base_url=running.url) as http:
        response = http.post(path, json=body)
    assert response.status_code == 400 and engine.calls == []
    assert error_of(response)["param"] == field
    assert error_of(response)["message"] == f"{field}: Input should be a whole number, not true or false"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/chat/completions", "temperature"),
        ("/v1/chat/completions", "top_p"),
        ("/v1/chat/completions", "presence_penalty"),
        ("/v1/chat/completions", "frequency_penalty"),
        ("/v1/analyze", "temperature"),
    ],
)
def test_a_boolean_is_no_number(path: str, field: str) -> None:
    """`temperature: true` sampled at 1.0 and `top_p: true` was 1.0 (pydantic's lax mode reads true as 1.0); they are
    refused in the integer fields' words."""
    body = {"model": "scripted", "messages": [{"role": "user", "content": "hi"}], "text": "hi", field: True}
    if path == "/v1/analyze":
        del body["model"], body["messages"]
    engine = ScriptedEngine()
    with ServerThread(scripted_app(engine)) as running, httpx.Client(base_url=running.url) as http:
        response = http.post(path, json=body)
    assert response.status_code == 400 and engine.calls == []
    assert error_of(response)["param"] == field
    assert error_of(response)["message"] == f"{field}: Input should be a number, not true or false"


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/analyze"])
def test_nan_and_infinity_are_no_numbers(path: str) -> None:
    """Python's JSON reader takes NaN and Infinity: a NaN temperature was refused as "greater than or equal to 0",
    a NaN penalty or scale bound let through."""
    head = '{"model": "scripted", "messages": [{"role": "user", "content": "hi"}], ' if path.endswith("s") else "{"
    fields = ["temperature", "presence_penalty"] if path.endswith("s") else ["temperature", "scale"]
    engine = ScriptedEngine()
    with ServerThread(scripted_app(engine)) as running, httpx.Client(base_url=running.url) as http:
        for field in fields:
            for value in ("NaN", "Infinity", "-Infinity"):
                given = f"[-4, {value}]" if field == "scale" else value
                body = f'{head}"text": "hi", "{field}": {given}}}'
                response = http.post(path, content=body, headers={"content-type": "application/json"})
                assert response.status_code == 400, (field, value, response.text)
                assert error_of(response)["param"].startswith(field), response.text
                assert "Input should be a finite number" in error_of(response)["message"], response.text
    assert engine.calls == []


def test_a_boolean_is_no_number_in_a_scale_or_band_either() -> None:
    """`"scale": [true, 7]` was read as 1..7."""
    engine = ScriptedEngine()
    with ServerThread(scripted_app(engine)) as running, httpx.Client(base_url=running.url) as http:
        for field in ("scale", "neutral_band"):
            body = {"text": "hi", "scale": [-4, 4], field: [True, 3]}
            response = http.post("/v1/analyze", json=body)
            assert response.status_code == 400 and "not true or false" in error_of(response)["message"], response.text
    assert engine.calls == []


def test_head_answers_as_get_without_a_body_and_options_names_the_methods() -> None:
    """HEAD and OPTIONS were 405 on every route: FastAPI's GET routes, unlike starlette's, take no HEAD."""
    with (
        ServerThread(scripted_app(ScriptedEngine(), api_key="k")) as running,
        httpx.Client(base_url=running.url) as http,
    ):
        key = {"Authorization": "Bearer k"}
        for path, headers in (("/health", {}), ("/", {}), ("/v1/models", key), ("/v1/analyze/options", key)):
            got, head = http.get(path, headers=headers), http.head(path, headers=headers)
            assert head.status_code == got.status_code == 200 and head.content == b"", path
            assert head.headers["content-type"] == got.headers["content-type"], path
            assert head.headers["content-length"] == got.headers["content-length"], path
        assert http.head("/v1/models").status_code == 401  # the GET route's key, asked of HEAD too
        for path, allowed in (("/health", "GET, HEAD, OPTIONS"), ("/v1/analyze", "OPTIONS, POST")):
            options = http.options(path)
            assert (options.status_code, options.headers["allow"], options.content) == (204, allowed, b""), path
        refused = http.head("/v1/analyze")
        assert (refused.status_code, refused.headers["allow"]) == (405, "OPTIONS, POST")  # as OPTIONS lists them
        assert http.options("/nowhere").status_code == 404


def test_a_form_field_that_is_not_utf8_is_refused_naming_it() -> None:
    """A multipart field with bytes that are not UTF-8 was read as Latin-1 ("caf\\xe9" judged as "café"), where a
    JSON body that is not UTF-8 is a 400."""
    engine = ScriptedEngine()
    with ServerThread(scripted_app(engine)) as running, httpx.Client(base_url=running.url) as http:
        refused = http.post("/v1/analyze", files={"text": (None, b"caf\xe9 ok"), "max_tokens": (None, b"4")})
        assert refused.status_code == 400, refused.text
        error = error_of(refused)
        assert (error["param"], error["code"]) == ("text", "invalid_value")
        assert error["message"].startswith("the form field 'text' is not UTF-8 (byte 0xe9 at column 4")
        assert error["message"].endswith("send it as UTF-8")
        assert engine.calls == []
        accepted = http.post("/v1/analyze", files={"text": (None, "café ok".encode()), "max_tokens": (None, b"4")})
        assert accepted.status_code == 200, accepted.text
    assert len(engine.calls) == 1


def test_a_urlencoded_form_is_read_as_utf8_and_refused_where_it_is_not() -> None:
    """A URL-encoded form's "%E9" (not UTF-8 once unescaped) was read as U+FFFD in silence, and UTF-8 bytes sent
    unescaped as Latin-1 ("café" judged as "cafÃ©"): the multipart form's policy holds for both now."""
    engine = AskedEngine()
    form = {"content-type": "application/x-www-form-urlencoded"}
    with ServerThread(scripted_app(engine)) as running, httpx.Client(base_url=running.url) as http:
        refused = http.post("/v1/analyze", content=b"text=caf%E9+ok&max_tokens=4", headers=form)
        assert refused.status_code == 400, refused.text
        error = error_of(refused)
        assert (error["param"], error["code"]) == ("text", "invalid_value")
        read = "the form field 'text' is not UTF-8 once its %XX escapes are read (byte 0xe9"
        assert error["message"].startswith(read)
        bad_name = http.post("/v1/analyze", content=b"te%FFxt=ok", headers=form)
        assert bad_name.status_code == 400 and error_of(bad_name)["param"] is None, bad_name.text
        assert engine.calls == []
        for body in ("text=caf%C3%A9+1%2B1&max_tokens=4".encode(), "text=café+1%2B1&max_tokens=4".encode()):
            accepted = http.post("/v1/analyze", content=body, headers=form)
            assert accepted.status_code == 200, accepted.text
            assert "café 1+1" in engine.asked[-1], engine.asked[-1]
    assert len(engine.calls) == 2


class AskedEngine(ScriptedEngine):
    """A `ScriptedEngine` that keeps the last message (the question) of each conversation it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def generate(self, conversations: list[Conversation], params: SamplingParams, progress=None):
        self.asked += [str(c.messages[-1]["content"]) for c in conversations]
        return super().generate(conversations, params, progress)


class PromptEngine(ScriptedEngine):
    """A `ScriptedEngine` that keeps the system prompt of each conversation it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.prompts: list[str] = []

    def generate(self, conversations: list[Conversation], params: SamplingParams, progress=None):
        self.prompts += [c.messages[0]["content"] for c in conversations]
        return super().generate(conversations, params, progress)


def test_analyze_refuses_a_task_given_with_a_scale_or_labels() -> None:
    """`{"task": "mosi", "scale": "-2,2"}` answered on -2..2 and dropped the task without a word (the Python API
    refuses both: "give a task, or a scale or labels of your own, not both")."""
    engine = ScriptedEngine()
    with ServerThread(scripted_app(engine)) as running, httpx.Client(base_url=running.url) as http:
        for other, value in (("scale", "-2,2"), ("scale", [-2, 2]), ("labels", "joy,anger")):
            response = http.post("/v1/analyze", json={"text": "ok", "task": "mosi", other: value})
            assert response.status_code == 400, response.text
            assert error_of(response)["message"] == (
                f"give a task, or a scale or labels of your own, not both: drop `task` or `{other}`"
            )
            form = http.post("/v1/analyze", data={"text": "ok", "task": "mosi", other: "-2,2"})
            assert form.status_code == 400 and error_of(form)["param"] == "task"
        assert http.post("/v1/analyze", json={"text": "ok", "scale": "-2,2"}).status_code == 200
    assert len(engine.calls) == 1


def test_a_request_sets_the_neutral_band_within_the_scale() -> None:
    """The band the prompt states and the answers are read with could not be set from a request."""
    engine = PromptEngine()
    with ServerThread(scripted_app(engine)) as running, httpx.Client(base_url=running.url) as http:

        def analyze(**options) -> httpx.Response:
            return http.post("/v1/analyze", json={"text": "ok", "max_tokens": 4, **options})

        assert analyze().status_code == 200  # vader's own band
        assert analyze(neutral_band="-1,1").status_code == 200  # on the served task (vader)
        assert analyze(task="mosi", neutral_band=[-0.5, 0.5]).status_code == 200
        assert analyze(scale=[1, 7], neutral_band=[4, 4]).status_code == 200  # one score alone
        assert http.post("/v1/analyze", data={"text": "ok", "neutral_band": "-2,2"}).status_code == 200
        refusals = {
            "a neutral band needs LOW <= HIGH; got 1,-1 (did you mean -1,1?)": analyze(neutral_band=[1, -1]),
            "the neutral band -5,1 reaches outside the vader:text scale, -4 to 4; give LOW and HIGH within it": (
                analyze(neutral_band="-5,1")
            ),
            "the neutral band 0,8 reaches outside the custom scale, 1 to 7; give LOW and HIGH within it": (
                analyze(scale="1,7", neutral_band="0,8")
            ),
            "task 'mikels' answers with labels; a neutral band applies to a score scale": (
                analyze(task="mikels", neutral_band="-1,1")
            ),
            "a neutral band is LOW,HIGH, two finite numbers; got nan,1": analyze(neutral_band="nan,1"),
        }
        for message, response in refusals.items():
            assert response.status_code == 400 and error_of(response)["param"] == "neutral_band", response.text
            assert error_of(response)["message"].startswith(f"neutral_band: {message}"), response.text
        unparsed = analyze(neutral_band="wide")
        assert error_of(unparsed)["message"] == "neutral_band takes two numbers LOW,HIGH, e.g. \"-1,1\"; got 'wide'"
    said = [re.search(r"(only a score of exactly \S+|scores in \S+ \S+) counts? as neutral", p) for p in engine.prompts]
    assert [m.group(1) if m else None for m in said] == [
        "scores in (-0.5, 0.5)",
        "scores in (-1, 1)",
        "scores in (-0.5, 0.5)",
        "only a score of exactly 4",
        "scores in (-2, 2)",
    ]


def test_analyze_takes_a_neutral_band(tiny_models, monkeypatch: pytest.MonkeyPatch) -> None:
    """`analyze --neutral-band LOW,HIGH`: the band the records are read with; refused before the model loads
    where the task cannot take it."""
    from typer.testing import CliRunner

    from emoreason.api import Explainer
    from emoreason.cli import app

    bands = []
    records = Explainer.records

    def spy(self, *args, **kwargs):
        bands.append(self.task.neutral)
        return records(self, *args, **kwargs)

    monkeypatch.setattr(Explainer, "records", spy)
    model = ["--model", str(tiny_models["causal_lm"]), "--max-new-tokens", "2", "--json"]
    runner = CliRunner()
    done = runner.invoke(app, ["analyze", "Not bad.", "--task", "mosi", "--neutral-band", "-0.5,0.5", *model])
    assert done.exit_code == 0, done.output
    assert [(b.low, b.high, b.low_closed, b.high_closed) for b in bands] == [(-0.5, 0.5, False, False)]
    for option, said in (
        (["--neutral-band", "1,-1"], "--neutral-band 1,-1: a neutral band needs LOW <= HIGH"),
        (["--task", "mosi", "--neutral-band", "-4,0"], "reaches outside the mosi scale, -3 to 3"),
        (["--task", "mikels", "--neutral-band", "-1,1"], "task 'mikels' answers with labels"),
        (["--neutral-band", "wide"], "--neutral-band takes two numbers LOW,HIGH"),
    ):
        refused = runner.invoke(app, ["analyze", "Not bad.", *option, *model])
        assert refused.exit_code == 2 and said in " ".join(refused.output.split()), refused.output
    assert len(bands) == 1  # no model was run for a refused band
    shown = runner.invoke(app, ["analyze", "--help"], env={"COLUMNS": "200"})
    assert "--neutral-band" in shown.output
