"""ZFS pools through zpool/zfs: parsers (parse), the backend (backend), long operations (jobs)."""

from engine.storage.zfs.parse import ZPOOL_ARGV, ZPOOL_FIELDS, parse_zpool_list

__all__ = ["ZPOOL_ARGV", "ZPOOL_FIELDS", "parse_zpool_list"]
