"""What the transports share for the audit log (frontends/audit.py), on its own: which calls are
recorded, their names, their targets, the error code of an answer, and the admin check."""

from __future__ import annotations

import logging

import pytest

from engine.common.logsafe import TEXT_MAX_CHARS, safe_text
from frontends import pb
from frontends.audit import TARGET_MAX_CHARS, http_result, message_target
from frontends.auth import AccessPolicy, grpc_call_name
from frontends.caller import Caller
from frontends.grpc_api.audit import recorded
from perf.fuzz.grpc_cases import rpc_methods


def test_every_rpc_that_changes_state_is_recorded_and_no_read_or_computation_is() -> None:
    methods = {grpc_call_name(m.path) for m in rpc_methods() if recorded(m.path)}
    assert {
        "storage.DestroyPool",
        "storage.RollbackVolume",
        "storage.CreateSchedule",
        "storage.CancelJob",
        "agent.DrainAgent",
        "agent.ResumeAgent",
        "compression.StartJob",
        "compression.CancelJob",
        "encryption.RotateKey",
    } <= methods
    assert not {m for m in methods if m.split(".")[1].startswith(("Get", "List", "Watch"))}
    assert not methods & {"agent.DispatchTask", "block.Process", "block.ProcessStream", "compression.ReadRange"}
    for path in (
        "/grpc.health.v1.Health/Check",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        "/sigmavault.v1.SystemService/ListAuditEntries",
    ):
        assert not recorded(path)


def test_call_names_and_targets() -> None:
    assert grpc_call_name("/sigmavault.v1.StorageService/DestroyPool") == "storage.DestroyPool"
    assert grpc_call_name("/sigmavault.v1.AgentService/DrainAgent") == "agent.DrainAgent"
    assert message_target(pb.DestroyPoolRequest(pool="tank", confirm="tank")) == "pool=tank"  # confirm is not a target
    assert message_target(pb.DrainAgentRequest(agent_id=0)) == "agent_id=0"  # agent 0 exists
    assert message_target(pb.CreateSnapshotRequest(pool="tank", volume="my home", snapshot="s1")) == (
        'pool=tank volume="my home" snapshot=s1'
    )
    job = pb.StartFileJobRequest(operation=pb.FILE_OPERATION_ENCRYPT, source="/srv/a", destination="/srv/a.sv")
    assert message_target(job) == "operation=encrypt source=/srv/a destination=/srv/a.sv"
    hostile = message_target(pb.StartFileJobRequest(source="/x\n/y\x1b[31m" + "z" * 1000))
    assert "\n" not in hostile and "\x1b" not in hostile and len(hostile) <= TARGET_MAX_CHARS
    assert message_target(pb.RotateKeyRequest()) == ""


def test_the_result_of_an_http_answer() -> None:
    assert http_result(200, b"") == "ok"
    assert (
        http_result(409, b'{"error": {"code": "confirmation_required", "message": "..."}}') == "confirmation_required"
    )
    assert http_result(500, b"Internal Server Error") == "http_500"
    assert http_result(404, b'{"error": {"code": "\\u001b[2J"}}') == "\\x1b[2J"


def test_the_audit_log_is_for_admin_callers_by_the_policy_table() -> None:
    policy = AccessPolicy("t0ken")
    refusal = policy.authorize(Caller("viewer", "read", "http", "10.0.0.7"), "system.ListAuditEntries", True)
    assert refusal is not None and refusal.code == "permission_denied" and refusal.http_status == 403
    assert refusal.metadata == {"call": "system.ListAuditEntries", "required_role": "admin", "role": "read"}
    assert policy.authorize(Caller("ops", "admin", "grpc", "10.0.0.7"), "system.ListAuditEntries", True) is None
    assert policy.authorize(Caller("viewer", "read", "http", "10.0.0.7"), "storage.ListPools", True) is None


def test_log_text_is_one_ascii_line_of_bounded_length() -> None:
    assert safe_text("storage.DestroyPool") == "storage.DestroyPool"
    assert safe_text("a\nb\r\x1b[31m\x7f") == "a\\x0ab\\x0d\\x1b[31m\\x7f"
    assert safe_text("caf\u00e9 \u202e") == "caf\\xc3\\xa9 \\xe2\\x80\\xae"  # non-ASCII (a bidi override too)
    assert safe_text("\ud800").isascii()  # a lone surrogate (a gRPC method name can carry one)
    assert len(safe_text("x" * 10_000)) == TEXT_MAX_CHARS and safe_text("\n" * 100, 12) == "\\x0a\\x0a..."


def test_the_access_lines_escape_what_the_client_sent(caplog: pytest.LogCaptureFixture) -> None:
    policy = AccessPolicy("t0ken", log_admitted=True)
    caplog.set_level(logging.INFO, logger="sigmavault.access")
    policy.refused("10.0.0.7", "http.GET /x\n2026-12-07 INFO forged\x1b[2J", policy.missing)
    policy.admitted(Caller("op\nerator", "admin", "http", "10.0.0.7"), "storage.DestroyPool")
    lines = [r.getMessage() for r in caplog.records if r.name == "sigmavault.access"]
    assert lines[0] == "refuse 10.0.0.7 http.GET /x\\x0a2026-12-07 INFO forged\\x1b[2J: unauthenticated"
    assert "\n" not in lines[1] and "op\\x0aerator" in lines[1]
