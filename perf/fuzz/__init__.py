"""Generated bad (and good) input against every public surface of a running engine (issue 11).

``python -m perf fuzz`` runs the long versions against an ``engined serve`` it starts on loopback;
tests/perf/test_fuzz.py runs short ones. Each surface reports how many cases it sent and what came
back (perf/fuzz/report.py); a case that crashed, hung, or broke the contract is a failure.

- HTTP (openapi_cases.py): schemathesis generates requests from /openapi.json, valid and invalid.
- gRPC (grpc_cases.py): hypothesis strategies built from the proto descriptors, plus garbage bytes.
- WebSocket (ws_cases.py): garbage text, binary and oversized frames, floods, connection churn.
"""
