"""Shared-memory transport: segments, SPSC descriptor rings, the slot arena and eventfd doorbells."""
