"""The HTTP API, live stream and dashboard of the running service (FastAPI, served by uvicorn in the same process).

- ``app.py``: ``create_app``, every endpoint (OpenAPI at ``/docs`` and ``/openapi.json``);
- ``auth.py``: the bearer token check;
- ``schemas.py``: the request and response models;
- ``stream.py``: the server-sent events of Greeks, decisions and fills;
- ``static/``: the dashboard page, its script and style, served from the package
  (nothing is loaded from the internet).
"""
