"""The HTTP API (Starlette on uvicorn): one module per domain, each a list of Endpoints that decode a
request, call the engine's services and encode the answer; app.py assembles them."""
