"""WebSocket event relay: the hub that fans events out, and the watchers that produce them.

Messages are JSON ``{"type", "ts", "data"}``. Each client has its own bounded queue and its own
sender task, so a slow client only ever loses its own oldest ``system.metrics`` messages (then its
oldest of any type) and never slows the others. Serialisation happens once per event, not per client.
A client that brought no credential to the upgrade (no cookie, no Authorization header) sends
``{"type": "auth", "token": "<token>"}`` first and gets ``auth.ok`` (frontends/http_api/access.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import TYPE_CHECKING, Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from engine.background import BackgroundTasks
from frontends.errors import ErrorAnswer

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

SERVER_EVENTS = ("system.metrics", "agent.status", "compression.progress", "storage.event")
CLIENT_EVENTS = ("client.subscribe", "client.unsubscribe")
QUEUE_LIMIT = 256
MAX_CLIENT_MESSAGE_BYTES = 64 * 1024
AUTH_TIMEOUT_S = 10.0  # a client without a credential at the upgrade has this long to send its token


def encode(kind: str, data: Any) -> bytes:
    return orjson.dumps({"type": kind, "ts": time.time(), "data": data})


class Subscriber:
    def __init__(self, limit: int) -> None:
        self.types: set[str] = set()
        self.queue: deque[tuple[str, bytes]] = deque()
        self.limit = limit
        self.dropped = 0
        self.wakeup = asyncio.Event()

    def offer(self, kind: str, message: bytes) -> None:
        if len(self.queue) >= self.limit:
            self._drop_one()
        self.queue.append((kind, message))
        self.wakeup.set()

    def _drop_one(self) -> None:
        self.dropped += 1
        for i, (kind, _) in enumerate(self.queue):
            if kind == "system.metrics":
                del self.queue[i]
                return
        self.queue.popleft()


class EventHub:
    def __init__(self, queue_limit: int = QUEUE_LIMIT) -> None:
        self.subscribers: set[Subscriber] = set()
        self.queue_limit = queue_limit
        self.published = 0
        self._connections: set[WebSocket] = set()

    def publish(self, kind: str, data: Any) -> None:
        targets = [s for s in self.subscribers if kind in s.types]
        self.published += 1
        if not targets:
            return
        message = encode(kind, data)
        for subscriber in targets:
            subscriber.offer(kind, message)

    async def serve(self, websocket: WebSocket) -> None:
        """One WebSocket client, from accept to disconnect."""
        await websocket.accept()
        check = websocket.scope.get("sigmavault.authenticate")
        if check is not None and not await self._first_message_auth(websocket, check):
            return
        subscriber = Subscriber(self.queue_limit)
        self.subscribers.add(subscriber)
        self._connections.add(websocket)
        sender = asyncio.create_task(self._send_loop(websocket, subscriber))
        try:
            await websocket.send_text(encode("server.hello", {"events": SERVER_EVENTS, "subscribed": []}).decode())
            await self._receive_loop(websocket, subscriber)
        except WebSocketDisconnect:
            pass
        finally:
            self.subscribers.discard(subscriber)
            self._connections.discard(websocket)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender

    @staticmethod
    async def _first_message_auth(websocket: WebSocket, check: Callable[[object], Any]) -> bool:
        """A client that came without a credential must send ``{"type": "auth", "token": "..."}``
        first (within AUTH_TIMEOUT_S): answered ``auth.ok``, or an error and a close with 1008."""
        token: object = None
        with contextlib.suppress(TimeoutError, WebSocketDisconnect, orjson.JSONDecodeError):
            async with asyncio.timeout(AUTH_TIMEOUT_S):
                raw = await websocket.receive()
            text = raw.get("text") if raw.get("text") is not None else raw.get("bytes")
            if text is not None and len(text) <= MAX_CLIENT_MESSAGE_BYTES:
                message = orjson.loads(text)
                if isinstance(message, dict) and message.get("type") == "auth":
                    token = message.get("token")
        caller = check(token)
        if isinstance(caller, ErrorAnswer):
            with contextlib.suppress(Exception):
                await websocket.send_text(encode("error", {"code": caller.code, "message": caller.message}).decode())
                await websocket.close(code=1008)
            return False
        await websocket.send_text(encode("auth.ok", {"name": caller.name, "role": caller.role}).decode())
        return True

    async def _send_loop(self, websocket: WebSocket, subscriber: Subscriber) -> None:
        while True:
            await subscriber.wakeup.wait()
            subscriber.wakeup.clear()
            while subscriber.queue:
                _, message = subscriber.queue.popleft()
                await websocket.send_text(message.decode())

    async def _receive_loop(self, websocket: WebSocket, subscriber: Subscriber) -> None:
        while True:
            raw = await websocket.receive()
            if raw["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(raw.get("code", 1000))
            text = raw.get("text") if raw.get("text") is not None else raw.get("bytes")
            reply = self.handle_client_message(subscriber, text)
            subscriber.offer(reply[0], reply[1])

    def handle_client_message(self, subscriber: Subscriber, text: str | bytes | None) -> tuple[str, bytes]:
        """Apply one client message; returns the reply (an ack or an error) for that client alone."""
        if text is None or len(text) > MAX_CLIENT_MESSAGE_BYTES:
            return "error", encode("error", {"code": "invalid_message", "message": "message empty or over 64 KiB"})
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            return "error", encode("error", {"code": "malformed_json", "message": "message is not valid JSON"})
        if not isinstance(message, dict) or message.get("type") not in CLIENT_EVENTS:
            kinds = ", ".join(CLIENT_EVENTS)
            return "error", encode("error", {"code": "unknown_event_type", "message": f"type must be one of {kinds}"})
        data = message.get("data")
        types = data.get("types") if isinstance(data, dict) else None
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            return "error", encode(
                "error", {"code": "invalid_message", "message": "data.types must be a list of strings"}
            )
        unknown = sorted(set(types) - set(SERVER_EVENTS))
        if unknown:
            return "error", encode(
                "error", {"code": "unknown_event_type", "message": f"unknown event type(s): {', '.join(unknown)}"}
            )
        if message["type"] == "client.subscribe":
            subscriber.types.update(types)
        else:
            subscriber.types.difference_update(types)
        return "client.subscribed", encode("client.subscribed", {"subscribed": sorted(subscriber.types)})

    async def close(self) -> None:
        """Say goodbye to every client (1001: going away) on shutdown."""
        for websocket in list(self._connections):
            with contextlib.suppress(Exception):
                await websocket.close(code=1001)


class Watchers:
    """Periodic producers: system metrics, agent status changes, storage changes; each a background task
    (engine/background.py) restarted with backoff if it fails, and counted ("events.<task>" in /metrics)."""

    def __init__(
        self,
        hub: EventHub,
        *,
        metrics: Callable[[], Any],
        agent_states: Callable[[], list[str]],
        agent_info: Callable[[int], dict[str, Any]],
        storage: Callable[[], Awaitable[dict[str, Any]]],
        metrics_interval: float,
        on_tick: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.hub = hub
        self._metrics, self._agent_states, self._agent_info = metrics, agent_states, agent_info
        self._storage, self._interval, self._on_tick = storage, metrics_interval, on_tick
        self.background = BackgroundTasks("events")
        self._last_storage: dict[str, Any] | None = None

    def start(self) -> None:
        self.background.run_forever("metrics", lambda: self._every(self._interval, self._emit_metrics))
        self.background.run_forever("agents", self._agent_loop)
        self.background.run_forever("storage", lambda: self._every(5.0, self._check_storage))

    async def stop(self) -> None:
        await self.background.close()

    def background_restarts(self) -> dict[str, int]:
        return {f"events.{task}": n for task, n in self.background.restarts().items()}

    @staticmethod
    async def _every(interval: float, job: Callable[[], Awaitable[None]]) -> None:
        while True:
            await job()  # a failure: logged, counted, and the loop restarted (backoff) by the background tasks
            await asyncio.sleep(interval)

    async def _emit_metrics(self) -> None:
        if any("system.metrics" in s.types for s in self.hub.subscribers):
            self.hub.publish("system.metrics", self._metrics())

    async def _agent_loop(self) -> None:
        previous = self._agent_states()
        while True:
            await asyncio.sleep(0.1)
            current = self._agent_states()
            for agent, (old, new) in enumerate(zip(previous, current, strict=True)):
                if old != new:
                    self.hub.publish("agent.status", {**self._agent_info(agent), "previous": old, "status": new})
            previous = current
            if self._on_tick is not None:
                await self._on_tick()  # e.g. gRPC health follows worker readiness

    async def _check_storage(self) -> None:
        snapshot = await self._storage()
        disks = {d["name"]: d for d in snapshot.get("disks", [])}
        pools = {p["name"]: p for p in snapshot.get("pools", [])}
        if self._last_storage is not None:
            old_disks, old_pools = self._last_storage["disks"], self._last_storage["pools"]
            for name in sorted(disks.keys() - old_disks.keys()):
                self.hub.publish("storage.event", {"action": "disk_added", "disk": disks[name]})
            for name in sorted(old_disks.keys() - disks.keys()):
                self.hub.publish("storage.event", {"action": "disk_removed", "disk": old_disks[name]})
            for name in sorted(pools.keys() & old_pools.keys()):
                if pools[name]["health"] != old_pools[name]["health"]:
                    self.hub.publish(
                        "storage.event",
                        {
                            "action": "pool_health_changed",
                            "pool": pools[name],
                            "previous_health": old_pools[name]["health"],
                        },
                    )
        self._last_storage = {"disks": disks, "pools": pools}
