"""Helpers every package uses: running a system tool, writing a file atomically, escaping client text for logs."""
