from frontends._gen.sigmavault.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListPoolsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Pool(_message.Message):
    __slots__ = ("name", "type", "health", "size_bytes", "allocated_bytes", "free_bytes", "capacity_percent", "level", "devices", "fragmentation_percent", "dedup_ratio")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    ALLOCATED_BYTES_FIELD_NUMBER: _ClassVar[int]
    FREE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_PERCENT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    FRAGMENTATION_PERCENT_FIELD_NUMBER: _ClassVar[int]
    DEDUP_RATIO_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    health: str
    size_bytes: int
    allocated_bytes: int
    free_bytes: int
    capacity_percent: float
    level: str
    devices: _containers.RepeatedScalarFieldContainer[str]
    fragmentation_percent: float
    dedup_ratio: float
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., health: _Optional[str] = ..., size_bytes: _Optional[int] = ..., allocated_bytes: _Optional[int] = ..., free_bytes: _Optional[int] = ..., capacity_percent: _Optional[float] = ..., level: _Optional[str] = ..., devices: _Optional[_Iterable[str]] = ..., fragmentation_percent: _Optional[float] = ..., dedup_ratio: _Optional[float] = ...) -> None: ...

class ListPoolsResponse(_message.Message):
    __slots__ = ("pools", "sources")
    POOLS_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    pools: _containers.RepeatedCompositeFieldContainer[Pool]
    sources: _containers.RepeatedCompositeFieldContainer[_common_pb2.Source]
    def __init__(self, pools: _Optional[_Iterable[_Union[Pool, _Mapping]]] = ..., sources: _Optional[_Iterable[_Union[_common_pb2.Source, _Mapping]]] = ...) -> None: ...

class ListDisksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SmartInfo(_message.Message):
    __slots__ = ("available", "passed", "temperature_c", "power_on_hours", "reallocated_sectors", "detail", "exit_status", "exit_flags")
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_C_FIELD_NUMBER: _ClassVar[int]
    POWER_ON_HOURS_FIELD_NUMBER: _ClassVar[int]
    REALLOCATED_SECTORS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    EXIT_STATUS_FIELD_NUMBER: _ClassVar[int]
    EXIT_FLAGS_FIELD_NUMBER: _ClassVar[int]
    available: bool
    passed: bool
    temperature_c: int
    power_on_hours: int
    reallocated_sectors: int
    detail: str
    exit_status: int
    exit_flags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, available: _Optional[bool] = ..., passed: _Optional[bool] = ..., temperature_c: _Optional[int] = ..., power_on_hours: _Optional[int] = ..., reallocated_sectors: _Optional[int] = ..., detail: _Optional[str] = ..., exit_status: _Optional[int] = ..., exit_flags: _Optional[_Iterable[str]] = ...) -> None: ...

class Disk(_message.Message):
    __slots__ = ("name", "path", "type", "size_bytes", "model", "serial", "rotational", "transport", "mountpoints", "fstype", "io", "smart")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    ROTATIONAL_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_FIELD_NUMBER: _ClassVar[int]
    MOUNTPOINTS_FIELD_NUMBER: _ClassVar[int]
    FSTYPE_FIELD_NUMBER: _ClassVar[int]
    IO_FIELD_NUMBER: _ClassVar[int]
    SMART_FIELD_NUMBER: _ClassVar[int]
    name: str
    path: str
    type: str
    size_bytes: int
    model: str
    serial: str
    rotational: bool
    transport: str
    mountpoints: _containers.RepeatedScalarFieldContainer[str]
    fstype: str
    io: _common_pb2.IoCounters
    smart: SmartInfo
    def __init__(self, name: _Optional[str] = ..., path: _Optional[str] = ..., type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., model: _Optional[str] = ..., serial: _Optional[str] = ..., rotational: _Optional[bool] = ..., transport: _Optional[str] = ..., mountpoints: _Optional[_Iterable[str]] = ..., fstype: _Optional[str] = ..., io: _Optional[_Union[_common_pb2.IoCounters, _Mapping]] = ..., smart: _Optional[_Union[SmartInfo, _Mapping]] = ...) -> None: ...

class ListDisksResponse(_message.Message):
    __slots__ = ("disks", "sources")
    DISKS_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    disks: _containers.RepeatedCompositeFieldContainer[Disk]
    sources: _containers.RepeatedCompositeFieldContainer[_common_pb2.Source]
    def __init__(self, disks: _Optional[_Iterable[_Union[Disk, _Mapping]]] = ..., sources: _Optional[_Iterable[_Union[_common_pb2.Source, _Mapping]]] = ...) -> None: ...
