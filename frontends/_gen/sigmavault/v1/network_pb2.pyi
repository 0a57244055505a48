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
    __slots__ = ("public_key", "endpoint", "allowed_ips", "latest_handshake_unix", "rx_bytes", "tx_bytes", "interface")
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_IPS_FIELD_NUMBER: _ClassVar[int]
    LATEST_HANDSHAKE_UNIX_FIELD_NUMBER: _ClassVar[int]
    RX_BYTES_FIELD_NUMBER: _ClassVar[int]
    TX_BYTES_FIELD_NUMBER: _ClassVar[int]
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    public_key: str
    endpoint: str
    allowed_ips: _containers.RepeatedScalarFieldContainer[str]
    latest_handshake_unix: int
    rx_bytes: int
    tx_bytes: int
    interface: str
    def __init__(self, public_key: _Optional[str] = ..., endpoint: _Optional[str] = ..., allowed_ips: _Optional[_Iterable[str]] = ..., latest_handshake_unix: _Optional[int] = ..., rx_bytes: _Optional[int] = ..., tx_bytes: _Optional[int] = ..., interface: _Optional[str] = ...) -> None: ...

class MeshStatus(_message.Message):
    __slots__ = ("enabled", "peers", "interfaces", "sources")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    PEERS_FIELD_NUMBER: _ClassVar[int]
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    peers: _containers.RepeatedCompositeFieldContainer[MeshPeer]
    interfaces: _containers.RepeatedCompositeFieldContainer[NetInterface]
    sources: _containers.RepeatedCompositeFieldContainer[_common_pb2.Source]
    def __init__(self, enabled: _Optional[bool] = ..., peers: _Optional[_Iterable[_Union[MeshPeer, _Mapping]]] = ..., interfaces: _Optional[_Iterable[_Union[NetInterface, _Mapping]]] = ..., sources: _Optional[_Iterable[_Union[_common_pb2.Source, _Mapping]]] = ...) -> None: ...
