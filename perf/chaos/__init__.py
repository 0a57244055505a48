"""``python -m perf chaos``: faults under load against a real ``engined serve`` (docs/RELIABILITY.md).

cli (the command, the phases in order), load (the perf/load mixed scenario and what its outcome codes
mean), probe (the engine's tables, /metrics, status API, ports), killer (worker SIGKILLs, timed back to
READY), filecheck (file jobs verified byte for byte with the zstd tool), workers / frontend /
supervisor / disk (one phase each), report (checks and figures).
"""
