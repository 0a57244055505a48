"""What the machine really has: host figures (psutil), storage and network state (the system's
own tools, run as asyncio subprocesses so a slow tool never blocks a loop or a worker).

Each parser takes the tool's real output format; each reader says honestly when a tool or a
facility is missing (``Source(available=False, detail=...)``) instead of inventing data.
"""
