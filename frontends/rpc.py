"""Every gRPC stub and servicer base of proto/sigmavault/v1 under one name
(``from frontends import rpc``; ``rpc.AgentServiceStub(channel)``)."""

from frontends._gen.sigmavault.v1.agents_pb2_grpc import *  # noqa: F403
from frontends._gen.sigmavault.v1.blocks_pb2_grpc import *  # noqa: F403
from frontends._gen.sigmavault.v1.compression_pb2_grpc import *  # noqa: F403
from frontends._gen.sigmavault.v1.encryption_pb2_grpc import *  # noqa: F403
from frontends._gen.sigmavault.v1.network_pb2_grpc import *  # noqa: F403
from frontends._gen.sigmavault.v1.storage_pb2_grpc import *  # noqa: F403
from frontends._gen.sigmavault.v1.system_pb2_grpc import *  # noqa: F403
