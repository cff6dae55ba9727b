"""A bounded load test on loopback: 50 concurrent clients against a server with a small queue.

Fixed request count, a timeout on every request and on the whole run; every request must end
with 200 or 503 + Retry-After (none hangs, none errors), and the server must be healthy after.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from emoreason.generation import TransformersEngine
from emoreason.models import load_model
from emoreason.serve import ModelInfo, ServerThread, ServeSettings, create_app

CLIENTS = 50


async def hammer(url: str) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(30.0), limits=limits) as http:

        async def one(i: int) -> httpx.Response:
            if i % 2:
                return await http.post(
                    "/v1/chat/completions",
                    json={
                        "model": "default",
                        "messages": [{"role": "user", "content": f"message {i}: I loved it"}],
                        "max_tokens": 8,
                        "temperature": 0,
                    },
                )
            return await http.post("/v1/analyze", json={"text": f"sentence {i} was fine", "max_tokens": 8})

        return await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(CLIENTS))), timeout=90)


def test_fifty_concurrent_clients_get_answers_or_503_and_the_server_stays_healthy(tiny_models) -> None:
    loaded = load_model(str(tiny_models["causal_lm"]))
    settings = ServeSettings(max_batch_size=8, max_queue=8, batch_wait_ms=10, max_tokens_limit=16, request_timeout_s=30)
    app = create_app(TransformersEngine(loaded, batch_size=8), ModelInfo.from_loaded(loaded), settings)
    with ServerThread(app) as server:
        started = time.perf_counter()
        responses = asyncio.run(hammer(server.url))
        elapsed = time.perf_counter() - started
        statuses = [r.status_code for r in responses]
        assert len(responses) == CLIENTS and set(statuses) <= {200, 503}, statuses
        assert statuses.count(200) >= settings.max_queue  # the queue's worth at least was served
        for response in responses:
            if response.status_code == 503:
                assert int(response.headers["retry-after"]) >= 1
                assert response.json()["error"]["code"] == "queue_full"
            else:
                body = response.json()
                assert "choices" in body or "polarity" in body
        with httpx.Client(base_url=server.url, timeout=10) as http:
            health = http.get("/health").json()
            assert health["status"] == "ok" and health["queue_depth"] == 0
            metrics = http.get("/metrics").text
        served = sum(
            int(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith('emoreason_requests_total{endpoint="/v1/')
        )
        assert served == CLIENTS
        print(
            f"{CLIENTS} clients: {statuses.count(200)} answered, {statuses.count(503)} told to retry, {elapsed:.2f} s"
        )
