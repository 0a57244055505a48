"""A small keep-alive HTTP/1.1 client over asyncio streams: one request per connection at a time.

A client library would spend more CPU per request than the server we measure; this one writes
a prebuilt head and reads Content-Length or chunked bodies, nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

# a connection idle this long is closed rather than reused: servers drop idle keep-alive connections
# (uvicorn after 5 s), and one dropped just as a request goes out fails it with no answer at all
IDLE_REUSE_S = 4.0

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class HttpPool:
    """Idle connections to one host:port, reused; a request with none idle opens a new one."""

    def __init__(self, host: str, port: int, auth_header: str = "") -> None:
        self.host, self.port = host, port
        self.auth_header = auth_header  # "Authorization: Bearer ...\r\n" or "": every engine call needs it
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []

    def _reusable(self) -> Connection | None:
        """The most recently used idle connection the server has not closed and will not close soon."""
        now = time.monotonic()
        while self._idle:
            reader, writer, since = self._idle.pop()
            if now - since < IDLE_REUSE_S and not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()
        return None

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """(status, body); raises OSError / asyncio.IncompleteReadError when the connection fails."""
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.auth_header}"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        raw = (head + "\r\n").encode() + (body or b"")
        reader, writer = self._reusable() or await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(raw)
            status, content, keep = await _read_response(reader)
        except BaseException:
            writer.close()
            raise
        if keep:
            self._idle.append((reader, writer, time.monotonic()))
        else:
            writer.close()
        return status, content

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for _, writer, _ in idle:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    status_line = await reader.readline()
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise asyncio.IncompleteReadError(status_line, None)
    length, chunked, keep = 0, False, not status_line.startswith(b"HTTP/1.0")
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            keep = b"close" not in value.lower()
    if not chunked:
        return int(parts[1]), await reader.readexactly(length), keep
    body = bytearray()
    while size := int((await reader.readline()).split(b";")[0], 16):
        body += await reader.readexactly(size)
        await reader.readexactly(2)
    while await reader.readline() not in (b"\r\n", b""):  # trailers
        pass
    return int(parts[1]), bytes(body), keep
