"""The event hub's own rules, without a network: bounded queues, drop policy, client messages,
and the storage diff that produces storage.event."""

from __future__ import annotations

from typing import Any

import orjson

from frontends.events import EventHub, Subscriber, Watchers
from tests.utils import run


def test_slow_subscriber_drops_oldest_metrics_first() -> None:
    sub = Subscriber(limit=3)
    sub.offer("agent.status", b"a1")
    sub.offer("system.metrics", b"m1")
    sub.offer("system.metrics", b"m2")
    sub.offer("agent.status", b"a2")  # full: m1 goes
    assert [m for _, m in sub.queue] == [b"a1", b"m2", b"a2"]
    sub.offer("agent.status", b"a3")  # m2 goes
    sub.offer("agent.status", b"a4")  # no metrics left: the oldest goes
    assert [m for _, m in sub.queue] == [b"a2", b"a3", b"a4"]
    assert sub.dropped == 3


def test_publish_serialises_once_for_subscribed_clients_only() -> None:
    async def scenario() -> None:
        hub = EventHub(queue_limit=10)
        a, b = Subscriber(10), Subscriber(10)
        a.types.add("storage.event")
        hub.subscribers |= {a, b}
        hub.publish("storage.event", {"x": 1})
        assert len(a.queue) == 1
        assert len(b.queue) == 0
        message = orjson.loads(a.queue[0][1])
        assert message["type"] == "storage.event"
        assert message["data"] == {"x": 1}

    run(scenario())


def test_client_messages() -> None:
    async def scenario() -> None:
        hub, sub = EventHub(), Subscriber(10)
        kind, reply = hub.handle_client_message(sub, b"\xff\xfe")
        assert kind == "error"
        kind, reply = hub.handle_client_message(sub, "x" * 70_000)
        assert orjson.loads(reply)["data"]["code"] == "invalid_message"
        ok = {"type": "client.subscribe", "data": {"types": ["storage.event", "agent.status"]}}
        kind, reply = hub.handle_client_message(sub, orjson.dumps(ok).decode())
        assert kind == "client.subscribed"
        assert sub.types == {"storage.event", "agent.status"}

    run(scenario())


def test_storage_watcher_reports_changes() -> None:
    snapshots: list[dict[str, Any]] = [
        {"disks": [{"name": "sda"}, {"name": "sdb"}], "pools": [{"name": "tank", "health": "ONLINE"}]},
        {"disks": [{"name": "sda"}, {"name": "sdc"}], "pools": [{"name": "tank", "health": "DEGRADED"}]},
    ]

    async def scenario() -> list[dict[str, Any]]:
        hub = EventHub()
        sub = Subscriber(10)
        sub.types.add("storage.event")
        hub.subscribers.add(sub)

        async def storage() -> dict[str, Any]:
            return snapshots.pop(0)

        watchers = Watchers(
            hub, metrics=dict, agent_states=list, agent_info=lambda i: {}, storage=storage, metrics_interval=1.0
        )
        await watchers._check_storage()  # baseline: no events
        await watchers._check_storage()
        return [orjson.loads(m)["data"] for _, m in sub.queue]

    events = run(scenario())
    assert [e["action"] for e in events] == ["disk_added", "disk_removed", "pool_health_changed"]
    assert events[0]["disk"]["name"] == "sdc"
    assert events[1]["disk"]["name"] == "sdb"
    assert events[2]["previous_health"] == "ONLINE"
