"""Btrfs pools: parsers of btrfs-progs' output (parse), pools (pool), volumes and snapshots
(volumes), long operations (jobs). Policy (names, devices, confirmation, locks) is in
engine/storage/manager.py."""
