"""The storage domain: pools (ZFS, md RAID), disks and their SMART health.

One module per tool or concept; every function returns plain data keyed by the proto's field names
and says honestly when this machine lacks a tool (``Source(available=False, detail=...)``).
"""
