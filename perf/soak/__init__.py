"""``python -m perf soak``: a long mixed load, sampling the engine's processes (docs/RELIABILITY.md).

cli (the command), sampler (RSS, descriptors, /dev/shm every few seconds), judge (the verdict).
"""
