"""One escape for every request-controlled value that reaches a log line or an audit entry.

A URL path, a gRPC method name, a peer string, a token's name or a job's file path is the client's
text: written raw, a newline forges a second log line and an ESC sequence drives the reader's
terminal. Here in engine/ so that the engine's own lines (a job's target) use it too. ``safe_text``
keeps printable ASCII as it is and writes every other byte of the UTF-8 text as ``\\xNN`` (so the
line stays one line of ASCII whatever a client sent), and bounds the length.
"""

from __future__ import annotations

TEXT_MAX_CHARS = 256
_PLAIN = frozenset(range(0x20, 0x7F))


def safe_text(text: str, limit: int = TEXT_MAX_CHARS) -> str:
    """``text`` as one log-safe ASCII line: other bytes as ``\\xNN``, at most ``limit`` characters
    (a longer one ends in ``...``, never inside an escape)."""
    if text.isascii() and text.isprintable():
        return text if len(text) <= limit else text[: limit - 3] + "..."
    pieces = [chr(b) if b in _PLAIN else f"\\x{b:02x}" for b in text.encode("utf-8", "backslashreplace")]
    if sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    kept, size = [], 0
    for piece in pieces:
        if size + len(piece) > limit - 3:
            break
        kept.append(piece)
        size += len(piece)
    return "".join(kept) + "..."
