"""Request bodies held to their JSON schema before ParseDict: refusals name the field and the rule,
in our words, not Python's or protobuf's."""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import BadRequest
from frontends._gen.sigmavault.v1 import storage_pb2 as pb
from frontends.schema import parse_body

U64 = "an integer in 0-18446744073709551615"


@pytest.mark.parametrize(
    ("message", "body", "said"),
    [
        # the two of issue 16: ParseDict said "invalid literal for int() with base 10: '100M'" and
        # "repeated field devices must be in [] which is /dev/sdb at CreatePoolRequest"
        (pb.CreateVolumeRequest, {"quota_bytes": "100M"}, f'quota_bytes must be {U64}, got "100M"'),
        (pb.CreatePoolRequest, {"devices": "/dev/sdb"}, 'devices must be a list, each a string, got "/dev/sdb"'),
        (pb.CreatePoolRequest, {"devices": ["/dev/sdb", 1]}, "devices[1] must be a string, got 1"),
        (pb.CreatePoolRequest, {"force": "yes"}, 'force must be true or false, got "yes"'),
        (pb.CreateVolumeRequest, {"quota_bytes": None}, f"quota_bytes must be {U64}, got null"),  # not nullable
        (pb.CreateVolumeRequest, {"quota_bytes": "12"}, f'quota_bytes must be {U64}, got "12"'),  # as the schema
        (pb.CreateVolumeRequest, {"quota_bytes": 1.5}, f"quota_bytes must be {U64}, got 1.5"),
        (pb.CreateVolumeRequest, {"quota_bytes": 2**64}, f"quota_bytes must be {U64}, got 18446744073709551616"),
        (pb.CreateVolumeRequest, {"quota_bytes": True}, f"quota_bytes must be {U64}, got true"),
    ],
)
def test_refusals_name_the_field_and_rule(message: Any, body: dict[str, Any], said: str) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_body(body, message)
    assert refused.value.message == said
    assert refused.value.metadata["field"] == said.split(" ", 1)[0]


def test_good_bodies_still_parse() -> None:
    pool = parse_body({"name": "tank", "devices": ["/dev/sdb"], "force": True}, pb.CreatePoolRequest)
    assert (pool.name, list(pool.devices), pool.force) == ("tank", ["/dev/sdb"], True)
    assert parse_body({"quota_bytes": 2**64 - 1}, pb.CreateVolumeRequest).quota_bytes == 2**64 - 1
