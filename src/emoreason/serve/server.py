"""Running the app: `serve` loads a model and runs uvicorn (what `emoreason serve` calls);
`ServerThread` runs an app on a free loopback port in a background thread (tests, benchmarks)."""

from __future__ import annotations

import copy
import ipaddress
import logging
import socket
import threading
import time
from typing import Any

import uvicorn

from emoreason.serve.app import create_app
from emoreason.serve.metrics import request_log
from emoreason.serve.state import ModelInfo, ServeSettings

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_app(
    model: str = "default",
    adapters: list[str] | None = None,
    settings: ServeSettings | None = None,
    family: str = "auto",
    dtype: str = "auto",
    device: str = "auto",
) -> Any:
    """Load the model (through `load_model`) and wrap it in the app."""
    from emoreason.generation import TransformersEngine
    from emoreason.models import load_model

    settings = settings or ServeSettings()
    loaded = load_model(model, adapters, family=family, dtype=dtype, device=device)
    engine = TransformersEngine(loaded, batch_size=settings.max_batch_size)
    return create_app(engine, ModelInfo.from_loaded(loaded, model), settings)


def serve(app: Any, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info") -> None:
    """Run `app` with uvicorn until interrupted. Each request is logged as one line on stdout, where
    uvicorn's access line went, with what that line lacks: its time to the last byte and its id."""
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        log_config=logging_config(log_level),
        access_log=False,
        timeout_graceful_shutdown=10,
        server_header=False,
    )


def logging_config(log_level: str) -> dict[str, Any]:
    """uvicorn's logging set-up plus the request log (`serve.metrics.request_log`) on stdout."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["handlers"]["requests"] = {
        "formatter": "default",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stdout",
    }
    config["loggers"][request_log.name] = {"handlers": ["requests"], "level": log_level.upper(), "propagate": False}
    return config


class ServerThread:
    """`with ServerThread(app) as server: httpx.get(server.url + "/health")`: uvicorn in a
    daemon thread on 127.0.0.1 and a free port, stopped (lifespan shutdown included) on exit."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"):
        self.host = host
        self.port = port or free_port(host)
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host=host, port=self.port, log_level=log_level, timeout_graceful_shutdown=5, lifespan="on"
            )
        )
        self.thread = threading.Thread(target=self.server.run, name="emoreason-uvicorn", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start on {self.url}")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
