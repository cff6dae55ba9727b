"""`emoreason serve`: a model behind an HTTP API (`emoreason.serve` does the serving)."""

from __future__ import annotations

from emoreason.cli import options as opt
from emoreason.cli.ui import err_console, fail, warn


def serve(
    model: opt.Model = "default",
    adapter: opt.Adapter = None,
    host: opt.Host = "127.0.0.1",
    port: opt.Port = 8000,
    api_key: opt.ServeApiKey = None,
    max_batch_size: opt.MaxBatchSize = 32,
    no_batching: opt.NoBatching = False,
    batch_wait_ms: opt.BatchWait = 10.0,
    max_queue: opt.MaxQueue = 64,
    request_timeout: opt.RequestTimeout = 120.0,
    max_tokens_limit: opt.MaxTokensLimit = 1024,
    max_n: opt.MaxN = 8,
    max_upload_mb: opt.MaxUploadMb = 20.0,
    max_body_mb: opt.MaxBodyMb = 64.0,
    family: opt.Family = "auto",
    dtype: opt.Dtype = "auto",
    device: opt.Device = "auto",
    log_level: opt.LogLevel = "info",
    ground_quotes: opt.GroundQuotes = True,
    name_negations: opt.NameNegations = True,
    score_readout: opt.ScoreReadout = "fitted",
    cues: opt.ServeCues = "auto",
) -> None:
    """Serve a model over HTTP: OpenAI-style /v1/chat/completions, /v1/analyze (audit records), a page at /."""
    from emoreason.cli.analysis import check_adapters
    from emoreason.models import MediaError
    from emoreason.serve import ServeSettings, build_app
    from emoreason.serve.server import is_loopback
    from emoreason.serve.server import serve as run_server

    check_adapters(model, adapter)  # before the base model loads
    try:
        settings = ServeSettings(
            max_batch_size=1 if no_batching else max_batch_size,
            batch_wait_ms=batch_wait_ms,
            max_queue=max_queue,
            request_timeout_s=request_timeout,
            max_tokens_limit=max_tokens_limit,
            default_max_tokens=min(256, max_tokens_limit),
            max_n=max_n,
            max_upload_bytes=int(max_upload_mb * 2**20),
            max_body_bytes=int(max_body_mb * 2**20),
            api_key=api_key or None,
            ground_quotes=ground_quotes,
            name_negations=name_negations,
            score_readout=score_readout,
            cues=cues,
        )
        server_app = build_app(model, adapter, settings, family=family, dtype=dtype, device=device)
    except (FileNotFoundError, ValueError, MediaError) as err:
        fail(str(err))
    if not is_loopback(host) and settings.api_key is None:
        warn(f"listening on {host} without an API key: anyone who can reach it can use it")
    err_console.print(f"serving {server_app.state.model.id} on http://{host}:{port}  (page at /, API at /v1)")
    run_server(server_app, host=host, port=port, log_level=log_level)


__all__ = ["serve"]
