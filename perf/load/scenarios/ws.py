"""ws: N WebSocket subscribers to ``system.metrics``; each event's delay is receive time minus its ``ts``.

The server sets the event rate (SIGMAVAULT_METRICS_INTERVAL), so this scenario has no arrival rate:
its concurrency is the number of subscribers. Every subscriber connects and is acknowledged before
the measurement starts; ``ts`` is the server's wall clock, so delays are only meaningful on one host
(or hosts whose clocks agree far better than the delays measured).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from typing import TYPE_CHECKING

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from perf.load.scenarios.base import OK, EventSink, Listener, Scenario, TargetError

if TYPE_CHECKING:
    from perf.load.spec import LoadSpec

SUBSCRIBE = orjson.dumps({"type": "client.subscribe", "data": {"types": ["system.metrics"]}}).decode()
EVENT = "system.metrics"


class Subscribers:
    def __init__(self, spec: LoadSpec, count: int, op_name: str = "event") -> None:
        self.url = f"ws://{spec.host}:{spec.http_port}/ws"
        self.headers = {"Authorization": f"Bearer {spec.token}"} if spec.token else {}
        self.count, self.op_name = count, op_name
        self.connections: list[ClientConnection] = []

    async def open(self) -> None:
        for _ in range(self.count):
            try:
                connection = await connect(self.url, open_timeout=5, max_size=None, additional_headers=self.headers)
            except (OSError, TimeoutError, WebSocketException) as exc:
                raise TargetError(f"cannot open a WebSocket to {self.url} ({exc})") from None
            self.connections.append(connection)
            await connection.send(SUBSCRIBE)
            await self._await_ack(connection)

    async def _await_ack(self, connection: ClientConnection) -> None:
        try:
            async with asyncio.timeout(5):
                while True:
                    message = orjson.loads(await connection.recv())
                    if message.get("type") == "client.subscribed":
                        return
                    if message.get("type") == "error":
                        raise TargetError(f"{self.url} refused the subscription: {message.get('data')}")
        except (TimeoutError, WebSocketException):
            raise TargetError(f"{self.url} did not acknowledge the subscription in 5 s") from None

    async def listen(self, index: int, sink: EventSink, stop: asyncio.Event) -> None:
        connection = self.connections[index]
        await self._drop_buffered(connection)
        stopper = asyncio.ensure_future(stop.wait())
        try:
            while True:
                receive = asyncio.ensure_future(connection.recv())
                done, _ = await asyncio.wait({receive, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if receive not in done:
                    receive.cancel()
                    return
                try:
                    raw = receive.result()
                except WebSocketException:
                    sink(self.op_name, 0.0, 0, "closed_by_server")  # one error, and this subscriber is done
                    return
                now = time.time()
                message = orjson.loads(raw)
                if message.get("type") == EVENT:
                    sink(self.op_name, now - float(message["ts"]), len(raw), OK)
        finally:
            stopper.cancel()

    @staticmethod
    async def _drop_buffered(connection: ClientConnection) -> None:
        """Events that arrived while the generators waited for the common start sat in the client's buffer:
        their delay would measure that wait, not the server."""
        with contextlib.suppress(TimeoutError, WebSocketException):
            while True:
                await asyncio.wait_for(connection.recv(), 0.001)

    async def close(self) -> None:
        for connection in self.connections:
            with contextlib.suppress(OSError, WebSocketException):
                await asyncio.wait_for(connection.close(), 5)
        self.connections = []

    def scenario(self) -> Scenario:
        listeners: list[Listener] = [functools.partial(self.listen, i) for i in range(self.count)]
        return Scenario(subscribers=listeners, opens=[self.open], closes=[self.close])


def build(spec: LoadSpec, index: int, weights: dict[str, float]) -> Scenario:
    return Subscribers(spec, spec.concurrency or 1).scenario()
