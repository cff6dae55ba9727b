"""The endpoints, one `APIRouter` per group; `emoreason.serve.app.create_app` includes them all.

- `page.py`: `GET /`, the web page (its files are mounted at `/static` by `create_app`);
- `status.py`: `GET /health` (no key needed) and `GET /metrics`;
- `openai_compat.py`: `GET /v1/models`, `GET /v1/models/{id}`, `POST /v1/chat/completions`;
- `analyze.py`: `GET /v1/analyze/options` and `POST /v1/analyze`, the audit-record endpoint.

Every route but `/` and `/health` needs the API key, when the server has one.
"""
