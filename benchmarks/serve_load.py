"""Serving throughput: `emoreason serve` with dynamic batching on and off.

Starts the server (a subprocess on 127.0.0.1) once per mode, then sends a fixed number of
`POST /v1/analyze` requests (C2F prompts for vader:movies test sentences, greedy, fixed max
tokens) from 1, 8 and 32 concurrent clients. Prints requests/s, p50/p95 latency and generated
tokens/s per level, and the batching-on / batching-off throughput ratio.

    python benchmarks/serve_load.py [--model default] [--concurrency 1,8,32] [--requests 48]
                                    [--max-tokens 32] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time

import httpx

from emoreason.data import load_dataset
from emoreason.serve.server import free_port


def start_server(model: str, port: int, batching: bool, max_batch_size: int) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "emoreason",
        "serve",
        "--model",
        model,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--max-queue",
        "4096",
        "--request-timeout",
        "3600",
        "--max-batch-size",
        str(max_batch_size if batching else 1),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {process.stderr.read() if process.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.terminate()
    raise RuntimeError("the server did not come up within 300 s")


async def run_level(url: str, texts: list[str], clients: int, requests: int, max_tokens: int) -> dict:
    """`requests` analyses from `clients` concurrent clients; latencies of each, wall time of all."""
    latencies: list[float] = []
    tokens = 0
    next_index = 0
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(600.0), limits=limits) as http:

        async def client() -> None:
            nonlocal next_index, tokens
            while next_index < requests:
                index = next_index
                next_index += 1
                body = {"text": texts[index % len(texts)], "max_tokens": max_tokens, "temperature": 0}
                started = time.perf_counter()
                response = await http.post("/v1/analyze", json=body)
                latencies.append(time.perf_counter() - started)
                response.raise_for_status()
                tokens += response.json()["completion_tokens"]

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        wall = time.perf_counter() - started
    latencies.sort()
    return {
        "clients": clients,
        "requests": requests,
        "seconds": round(wall, 3),
        "requests_per_s": round(requests / wall, 3),
        "tokens_per_s": round(tokens / wall, 1),
        "p50_s": round(statistics.median(latencies), 3),
        "p95_s": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--requests", type=int, default=48, help="requests per concurrency level")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--max-batch-size", type=int, default=32)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    texts = [s.text for s in load_dataset("vader:movies").split("test")]
    results: dict[str, list[dict]] = {}
    for mode, batching in (("batching", True), ("no batching", False)):
        port = free_port()
        process = start_server(args.model, port, batching, args.max_batch_size)
        url = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(run_level(url, texts, 1, 2, 4))  # warm-up
            results[mode] = []
            for clients in levels:
                row = asyncio.run(run_level(url, texts, clients, args.requests, args.max_tokens))
                results[mode].append(row)
                if not args.json:
                    print(
                        f"{mode:<12} {clients:>3} clients: {row['requests_per_s']:.2f} req/s",
                        file=sys.stderr,
                        flush=True,
                    )
        finally:
            process.terminate()
            process.wait(timeout=30)
    ratios = {
        str(on["clients"]): round(on["requests_per_s"] / off["requests_per_s"], 2)
        for on, off in zip(results["batching"], results["no batching"], strict=True)
    }
    if args.json:
        print(
            json.dumps(
                {
                    "model": args.model,
                    "max_tokens": args.max_tokens,
                    "requests_per_level": args.requests,
                    "cpus": os.cpu_count(),
                    "results": results,
                    "speedup": ratios,
                },
                indent=2,
            )
        )
        return
    print(
        f"model {args.model}, {args.requests} requests per level, max_tokens {args.max_tokens}, greedy, "
        f"POST /v1/analyze, {os.cpu_count()} CPUs"
    )
    header = f"{'mode':<12} {'clients':>7} | {'req/s':>7} {'tok/s':>7} | {'p50 s':>7} {'p95 s':>7} | {'speedup':>7}"
    print(header)
    print("-" * len(header))
    for mode, rows in results.items():
        for row in rows:
            speedup = f"{ratios[str(row['clients'])]:.2f}x" if mode == "batching" else ""
            print(
                f"{mode:<12} {row['clients']:>7} | {row['requests_per_s']:>7.2f} {row['tokens_per_s']:>7.1f} | "
                f"{row['p50_s']:>7.3f} {row['p95_s']:>7.3f} | {speedup:>7}"
            )


if __name__ == "__main__":
    main()
