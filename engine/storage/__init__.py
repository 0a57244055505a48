"""The storage domain: pools (Btrfs, ZFS, md RAID), volumes, snapshots, scrub, disks and SMART.

``manager.StorageManager`` is the entry point for operations (policy: names, devices,
confirmation, one operation per pool, the registry); ``pools.list_pools`` lists every pool in one
shape; ``btrfs/`` and ``zfs/`` do the tool work; ``operations`` defines the long-operation contract
a job wrapper drives; ``schedules`` runs periodic snapshots. What the domain answers are the records
of ``models`` (named as the proto's messages and fields); it says honestly when this machine lacks a tool.
"""
