from frontends._gen.sigmavault.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetMeshStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NetInterface(_message.Message):
    __slots__ = ("name", "up", "speed_mbps", "mtu", "addresses", "io")
    NAME_FIELD_NUMBER: _ClassVar[int]
    UP_FIELD_NUMBER: _ClassVar[int]
    SPEED_MBPS_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    IO_FIELD_NUMBER: _ClassVar[int]
    name: str
    up: bool
    speed_mbps: int
    mtu: int
    addresses: _containers.RepeatedScalarFieldContainer[str]
    io: _common_pb2.NetCounters
    def __init__(self, name: _Optional[str] = ..., up: _Optional[bool] = ..., speed_mbps: _Optional[int] = ..., mtu: _Optional[int] = ..., addresses: _Optional[_Iterable[str]] = ..., io: _Optional[_Union[_common_pb2.NetCounters, _Mapping]] = ...) -> None: ...

class MeshPeer(_message.Message):
    __slots__ = ("public_key", "endpoint", "allowed_ips", "latest_handshake_unix", "rx_bytes", "tx_bytes", "interface", "state", "handshake_age_s", "preshared_key", "persistent_keepalive_s")
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_IPS_FIELD_NUMBER: _ClassVar[int]
    LATEST_HANDSHAKE_UNIX_FIELD_NUMBER: _ClassVar[int]
    RX_BYTES_FIELD_NUMBER: _ClassVar[int]
    TX_BYTES_FIELD_NUMBER: _ClassVar[int]
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    HANDSHAKE_AGE_S_FIELD_NUMBER: _ClassVar[int]
    PRESHARED_KEY_FIELD_NUMBER: _ClassVar[int]
    PERSISTENT_KEEPALIVE_S_FIELD_NUMBER: _ClassVar[int]
    public_key: str
    endpoint: str
    allowed_ips: _containers.RepeatedScalarFieldContainer[str]
    latest_handshake_unix: int
    rx_bytes: int
    tx_bytes: int
    interface: str
    state: str
    handshake_age_s: int
    preshared_key: bool
    persistent_keepalive_s: int
    def __init__(self, public_key: _Optional[str] = ..., endpoint: _Optional[str] = ..., allowed_ips: _Optional[_Iterable[str]] = ..., latest_handshake_unix: _Optional[int] = ..., rx_bytes: _Optional[int] = ..., tx_bytes: _Optional[int] = ..., interface: _Optional[str] = ..., state: _Optional[str] = ..., handshake_age_s: _Optional[int] = ..., preshared_key: _Optional[bool] = ..., persistent_keepalive_s: _Optional[int] = ...) -> None: ...

class WireGuardInterface(_message.Message):
    __slots__ = ("name", "public_key", "listen_port", "fwmark")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    LISTEN_PORT_FIELD_NUMBER: _ClassVar[int]
    FWMARK_FIELD_NUMBER: _ClassVar[int]
    name: str
    public_key: str
    listen_port: int
    fwmark: int
    def __init__(self, name: _Optional[str] = ..., public_key: _Optional[str] = ..., listen_port: _Optional[int] = ..., fwmark: _Optional[int] = ...) -> None: ...

class MeshStatus(_message.Message):
    __slots__ = ("enabled", "peers", "interfaces", "sources", "wireguard_interfaces")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    PEERS_FIELD_NUMBER: _ClassVar[int]
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    WIREGUARD_INTERFACES_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    peers: _containers.RepeatedCompositeFieldContainer[MeshPeer]
    interfaces: _containers.RepeatedCompositeFieldContainer[NetInterface]
    sources: _containers.RepeatedCompositeFieldContainer[_common_pb2.Source]
    wireguard_interfaces: _containers.RepeatedCompositeFieldContainer[WireGuardInterface]
    def __init__(self, enabled: _Optional[bool] = ..., peers: _Optional[_Iterable[_Union[MeshPeer, _Mapping]]] = ..., interfaces: _Optional[_Iterable[_Union[NetInterface, _Mapping]]] = ..., sources: _Optional[_Iterable[_Union[_common_pb2.Source, _Mapping]]] = ..., wireguard_interfaces: _Optional[_Iterable[_Union[WireGuardInterface, _Mapping]]] = ...) -> None: ...
