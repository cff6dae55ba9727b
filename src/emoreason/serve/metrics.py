"""Request and batch metrics in the Prometheus text format (version 0.0.4).

A few counters and histograms, written out by hand: `prometheus-client` would add a dependency
and a process-global registry for what is thirty lines here.
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emoreason.serve.errors import CLIENT_CLOSED

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


class Histogram:
    def __init__(self, buckets: tuple[float, ...]):
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)  # the last one is +Inf
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value

    def lines(self, name: str, labels: str) -> list[str]:
        out, running = [], 0
        sep = "," if labels else ""
        for bound, count in zip([*self.buckets, "+Inf"], self.counts, strict=True):
            running += count
            out.append(f'{name}_bucket{{{labels}{sep}le="{bound}"}} {running}')
        braces = f"{{{labels}}}" if labels else ""
        out += [f"{name}_sum{braces} {self.total:.6f}", f"{name}_count{braces} {running}"]
        return out


class Metrics:
    """Counters and histograms, safe to update from the event loop and the worker thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, int], int] = defaultdict(int)
        self.latency: dict[str, Histogram] = {}
        self.batch_rows = Histogram(BATCH_BUCKETS)
        self.batch_seconds = 0.0
        self.generated_tokens = 0
        self.started = time.time()

    def observe_request(self, endpoint: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(endpoint, status)] += 1
            self.latency.setdefault(endpoint, Histogram(LATENCY_BUCKETS)).observe(seconds)

    def observe_batch(self, rows: int, requests: int, seconds: float, tokens: int) -> None:
        with self._lock:
            self.batch_rows.observe(rows)
            self.batch_seconds += seconds
            self.generated_tokens += tokens

    def render(self, gauges: dict[str, tuple[str, float]]) -> str:
        """The exposition text; `gauges` maps a name to (help, value) read at scrape time."""
        lines = [
            "# HELP emoreason_requests_total HTTP requests by endpoint and status code.",
            "# TYPE emoreason_requests_total counter",
        ]
        with self._lock:
            for (endpoint, status), count in sorted(self.requests.items()):
                lines.append(f'emoreason_requests_total{{endpoint="{endpoint}",status="{status}"}} {count}')
            lines += [
                "# HELP emoreason_request_duration_seconds Time from request to the end of the response.",
                "# TYPE emoreason_request_duration_seconds histogram",
            ]
            for endpoint, histogram in sorted(self.latency.items()):
                lines += histogram.lines("emoreason_request_duration_seconds", f'endpoint="{endpoint}"')
            lines += [
                "# HELP emoreason_batch_rows Rows (prompts x n) per generate call.",
                "# TYPE emoreason_batch_rows histogram",
            ]
            lines += self.batch_rows.lines("emoreason_batch_rows", "")
            lines += [
                "# HELP emoreason_generation_seconds_total Time spent in generate calls.",
                "# TYPE emoreason_generation_seconds_total counter",
                f"emoreason_generation_seconds_total {self.batch_seconds:.6f}",
                "# HELP emoreason_generated_tokens_total Completion tokens generated.",
                "# TYPE emoreason_generated_tokens_total counter",
                f"emoreason_generated_tokens_total {self.generated_tokens}",
            ]
        for name, (help_text, value) in gauges.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value:g}"]
        return "\n".join(lines) + "\n"


#: One line a request (client, method, path, status, seconds to the last byte, request id): what
#: uvicorn's access line lacks to trace a slow or failed answer; `serve` prints it instead of that line.
request_log = logging.getLogger("emoreason.serve.requests")

REQUEST_ID_HEADER = b"x-request-id"
_CLIENT_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")  # a caller's own id is echoed only if it is this tame


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's X-Request-ID when it sent a plain one, else a new random one."""
    for name, value in headers:
        if name.lower() == REQUEST_ID_HEADER and _CLIENT_ID.fullmatch(value):
            return value.decode("ascii")
    return uuid.uuid4().hex[:16]


class MetricsMiddleware:
    """Counts every HTTP request by endpoint (`endpoint_of(path)`, so the label set stays small)
    and status, and times it until the last byte of the response is sent. Each response carries
    an X-Request-ID (the caller's, or a new one) and each request is logged with it. A request whose
    client left before the last byte (the server saw `http.disconnect` first) counts as 499, as nginx
    logs it, whatever status its unread answer had: a stream cut short was logged as a 200."""

    def __init__(self, app: ASGIApp, metrics: Metrics, endpoint_of: Callable[[str], str]):
        self.app, self.metrics, self.endpoint_of = app, metrics, endpoint_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        completed = left = False
        request_id = request_id_of(scope.get("headers", []))
        # for the handler of unexpected errors, whose 500 is sent from outside this middleware (`errors`)
        scope.setdefault("state", {})["request_id"] = request_id

        async def receive_wrapper() -> Message:
            nonlocal left
            message = await receive()
            left = left or (message["type"] == "http.disconnect" and not completed)
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal status, completed
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())],
                }
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                completed = True  # before it is sent: from then on a server reports "disconnect" for any request
            await send(message)

        try:
            await self.app(scope, receive_wrapper, send_wrapper)
        finally:
            if left:
                status = CLIENT_CLOSED
            seconds = time.perf_counter() - started
            self.metrics.observe_request(self.endpoint_of(scope["path"]), status, seconds)
            client = scope.get("client")
            request_log.info(
                '%s "%s %s" %d %.3f s request %s',
                f"{client[0]}:{client[1]}" if client else "-",
                scope.get("method", "-"),
                scope["path"],
                status,
                seconds,
                request_id,
            )
