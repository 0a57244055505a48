"""TLS and mutual TLS on both ports of a real ``engined serve``, with a throwaway CA made here
(tests/certs.py): what the Go API on another box would hold (the CA and a client certificate it
signed) gets in on HTTPS, WSS and gRPC; no client certificate, one of another CA, or plain text
does not."""

from __future__ import annotations

import json
import socket
import ssl
from typing import TYPE_CHECKING

import grpc
import httpx
import pytest
from websockets.sync.client import connect

from frontends import pb, rpc
from tests.certs import Pki, make_pki
from tests.served import Served, start_served, stop_served

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.multiprocess


def client_context(pki: Pki, *, cert: str | None = "client") -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca))
    if cert is not None:
        context.load_cert_chain(str(getattr(pki, f"{cert}_cert")), str(getattr(pki, f"{cert}_key")))
    return context


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def mtls(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = start_served(
        tmp_path_factory.mktemp("mtls"),
        30,
        ssl_context=client_context(pki),
        SIGMAVAULT_TLS_CERT=str(pki.server_cert),
        SIGMAVAULT_TLS_KEY=str(pki.server_key),
        SIGMAVAULT_TLS_CLIENT_CA=str(pki.ca),
    )
    try:
        yield served
    finally:
        assert stop_served(served) == 0, served.output()
        assert "Traceback" not in served.output(), served.output()


def test_https_and_wss_need_a_client_certificate_of_the_ca(mtls: Served, pki: Pki) -> None:
    assert mtls.http.startswith("https://")
    status = httpx.get(
        f"{mtls.http}/api/v1/system/status", headers=mtls.headers, verify=client_context(pki), timeout=10
    )
    assert status.status_code == 200 and status.json()["state"] == "ok"
    login = httpx.post(
        f"{mtls.http}/api/v1/session", json={"token": mtls.token}, verify=client_context(pki), timeout=10
    )
    assert login.status_code == 200 and "; Secure" in login.headers["set-cookie"]  # the cookie never goes out plain
    for context in (client_context(pki, cert=None), client_context(pki, cert="rogue")):
        with pytest.raises(httpx.HTTPError):  # the handshake fails: no certificate, or not of our CA
            httpx.get(f"{mtls.http}/healthz", verify=context, timeout=10).raise_for_status()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{mtls.http_port}/healthz", timeout=5).raise_for_status()  # plain text
    with connect(
        f"wss://127.0.0.1:{mtls.http_port}/ws",
        ssl=client_context(pki),
        open_timeout=10,
        additional_headers=mtls.headers,
    ) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "server.hello"


def _grpc_status(served: Served, credentials: grpc.ChannelCredentials | None) -> grpc.StatusCode:
    target = served.grpc
    with grpc.secure_channel(target, credentials) if credentials else grpc.insecure_channel(target) as channel:
        try:
            rpc.SystemServiceStub(channel).GetStatus(pb.GetStatusRequest(), timeout=5, metadata=served.metadata)
        except grpc.RpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


def test_grpc_needs_a_client_certificate_of_the_ca(mtls: Served, pki: Pki) -> None:
    ca = pki.read("ca")
    good = grpc.ssl_channel_credentials(ca, pki.read("client_key"), pki.read("client_cert"))
    assert _grpc_status(mtls, good) == grpc.StatusCode.OK
    rogue = grpc.ssl_channel_credentials(ca, pki.read("rogue_key"), pki.read("rogue_cert"))
    assert _grpc_status(mtls, rogue) == grpc.StatusCode.UNAVAILABLE
    assert _grpc_status(mtls, grpc.ssl_channel_credentials(ca)) == grpc.StatusCode.UNAVAILABLE
    assert _grpc_status(mtls, None) == grpc.StatusCode.UNAVAILABLE


def test_tls_without_client_ca_serves_any_client_that_trusts_the_server(pki: Pki, tmp_path: Path) -> None:
    served = start_served(
        tmp_path,
        30,
        ssl_context=client_context(pki, cert=None),
        SIGMAVAULT_TLS_CERT=str(pki.server_cert),
        SIGMAVAULT_TLS_KEY=str(pki.server_key),
    )
    try:
        assert httpx.get(f"{served.http}/healthz", verify=client_context(pki, cert=None), timeout=10).status_code == 200
        assert _grpc_status(served, grpc.ssl_channel_credentials(pki.read("ca"))) == grpc.StatusCode.OK
        with socket.create_connection(("127.0.0.1", served.http_port), timeout=5) as raw:
            raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")  # plain HTTP to a TLS port
            assert b"200 OK" not in raw.recv(4096)
    finally:
        assert stop_served(served) == 0, served.output()
