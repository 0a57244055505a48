"""create_server(): grpc.aio on SIGMAVAULT_GRPC_PORT with every service of proto/sigmavault/v1,
grpc.health.v1 and server reflection. Returned unstarted with its bound port, so tests bind port 0."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from engine.access import unixsock
from frontends.auth import AccessPolicy
from frontends.grpc_api.agents import AgentServicer
from frontends.grpc_api.audit import AuditInterceptor, CallerTap
from frontends.grpc_api.blocks import BlockServicer
from frontends.grpc_api.compression import CompressionServicer
from frontends.grpc_api.encryption import EncryptionServicer
from frontends.grpc_api.guard import CallGuard
from frontends.grpc_api.health import HealthServicer
from frontends.grpc_api.network import NetworkServicer
from frontends.grpc_api.storage import StorageServicer
from frontends.grpc_api.system import SystemServicer
from frontends.limits import ClientLimiter
from frontends.tls import grpc_credentials

if TYPE_CHECKING:
    from engine.runtime import Runtime
    from frontends.prom import RequestMetrics

SERVICERS = (
    SystemServicer,
    StorageServicer,
    AgentServicer,
    CompressionServicer,
    EncryptionServicer,
    NetworkServicer,
    BlockServicer,
)


def service_name(servicer: type) -> str:
    """The full proto name (``sigmavault.v1.StorageService``) of the service a servicer implements: read
    from the generated base class it derives from (``StorageServiceServicer`` in ``storage_pb2_grpc``)."""
    for base in servicer.__mro__:
        if base.__module__.endswith("_pb2_grpc") and base.__name__.endswith("Servicer"):
            messages = importlib.import_module(base.__module__.removesuffix("_grpc"))
            return str(messages.DESCRIPTOR.services_by_name[base.__name__.removesuffix("Servicer")].full_name)
    raise TypeError(f"{servicer.__name__} derives from no generated servicer")


# reflection and health name every service served: one list, SERVICERS, to add a domain's servicer to
SERVICE_NAMES = tuple(service_name(servicer) for servicer in SERVICERS)


def create_server(
    rt: Runtime,
    metrics: RequestMetrics,
    *,
    host: str | None = None,
    port: int | None = None,
    limiter: ClientLimiter | None = None,
    policy: AccessPolicy | None = None,
    unix_socket: bool = False,
) -> tuple[grpc.aio.Server, int, health.aio.HealthServicer]:
    """Build the server (not started); returns it, the bound port and its health servicer. Every call
    passes the CallGuard (safe decoding, the access policy, ``limiter``: the per-client cap), inside the
    audit log's interceptors (frontends/grpc_api/audit.py: outside it to see refusals, inside it to
    see the caller it admitted). ``unix_socket``: also serve config.grpc_socket (plain: the kernel
    checks who connects)."""
    config = rt.config
    limit = config.max_message_bytes
    limiter = limiter or ClientLimiter(config.client_max_inflight)
    guard = CallGuard(policy or AccessPolicy.from_config(config), limiter, metrics)
    server = grpc.aio.server(
        interceptors=[AuditInterceptor(rt.audit), guard, CallerTap()],
        options=[
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", limit),
            ("grpc.so_reuseport", 0),
        ],
    )
    for servicer in SERVICERS:
        servicer.register(servicer(rt, metrics), server)
    health_servicer = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    address = f"{host or config.host}:{config.grpc_port if port is None else port}"
    credentials = grpc_credentials(config)
    bound = server.add_insecure_port(address) if credentials is None else server.add_secure_port(address, credentials)
    if bound == 0:
        raise OSError(f"cannot bind gRPC to {address}")
    if unix_socket:
        unixsock.prepare_run_dir(config.run_dir, config.socket_gid)
        unixsock.remove_stale(config.grpc_socket)
        if server.add_insecure_port(f"unix://{config.grpc_socket}") == 0:
            raise unixsock.SocketError(f"cannot bind gRPC to {config.grpc_socket}")
        unixsock.restrict(config.grpc_socket, config.socket_gid)  # bound now; nobody is accepted before start()
    return server, bound, health_servicer


async def set_serving(health_servicer: health.aio.HealthServicer, serving: bool) -> None:
    status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, status)
