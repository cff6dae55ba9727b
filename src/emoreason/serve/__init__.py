"""Serving: an OpenAI-compatible chat endpoint, the audit-record endpoint and a page, over HTTP.

    emoreason serve --model default            # http://127.0.0.1:8000

- `app.py`: `create_app(engine, model, settings)`, which wires the parts below together;
- `routes/`: the endpoints, one file per group (page, health and metrics, OpenAI-compatible, analyze);
- `state.py`: `ServeSettings`, `ModelInfo` and `ServeState`, the shared parts every route receives;
- `guards.py`: the API key, body size, token and context limits; `errors.py`: OpenAI-shaped errors;
- `batcher.py`: dynamic batching of concurrent requests into one `engine.generate` call;
- `openai_api.py`: the chat-completions request/response subset and its SSE chunks;
- `uploads.py`: media uploads (size, extension, content sniffing, private temp files);
- `metrics.py`: Prometheus text metrics; `server.py`: loading the model and running uvicorn.
"""

from emoreason.serve.app import create_app
from emoreason.serve.server import ServerThread, build_app, serve
from emoreason.serve.state import ModelInfo, ServeSettings

__all__ = ["ModelInfo", "ServeSettings", "ServerThread", "build_app", "create_app", "serve"]
