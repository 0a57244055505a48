"""Every message and enum of proto/sigmavault/v1 under one name, for clients, tests and perf/
(``from frontends import pb``; ``pb.DispatchTaskRequest``, ``pb.TASK_KIND_COMPRESS``)."""

from frontends._gen.sigmavault.v1.agents_pb2 import *  # noqa: F403
from frontends._gen.sigmavault.v1.blocks_pb2 import *  # noqa: F403
from frontends._gen.sigmavault.v1.common_pb2 import *  # noqa: F403
from frontends._gen.sigmavault.v1.compression_pb2 import *  # noqa: F403
from frontends._gen.sigmavault.v1.encryption_pb2 import *  # noqa: F403
from frontends._gen.sigmavault.v1.network_pb2 import *  # noqa: F403
from frontends._gen.sigmavault.v1.storage_pb2 import *  # noqa: F403
from frontends._gen.sigmavault.v1.system_pb2 import *  # noqa: F403
