"""mixed: a weighted blend of the request scenarios, with WebSocket subscribers listening alongside.

Weights name scenarios (default grpc-unary=4, http=4, grpc-stream=1, ws=2, file-jobs=0). A request
picks its scenario by weight, then the operation inside it by that scenario's own default blend;
the ws weight is the number of subscribers per generator process, whose event delays are reported
apart (they are not requests). Operations are named ``scenario/op``.
"""

from __future__ import annotations

from perf.load.scenarios import file_jobs, grpc_stream, grpc_unary, http, ws
from perf.load.scenarios.base import Op, Scenario
from perf.load.spec import DEFAULT_WEIGHTS, LoadSpec


def _prefixed(name: str, part: Scenario, weight: float) -> Scenario:
    total = sum(op.weight for op in part.ops) or 1.0
    part.ops = [Op(f"{name}/{op.name}", weight * op.weight / total, op.call) for op in part.ops]
    return part


def build(spec: LoadSpec, index: int, weights: dict[str, float]) -> Scenario:
    blend = Scenario()
    if weights.get("grpc-unary"):
        part = grpc_unary.GrpcUnary(spec, index, DEFAULT_WEIGHTS["grpc-unary"]).scenario()
        blend.extend(_prefixed("grpc-unary", part, weights["grpc-unary"]))
    if weights.get("http"):
        blend.extend(_prefixed("http", http.Http(spec).scenario(DEFAULT_WEIGHTS["http"]), weights["http"]))
    if weights.get("grpc-stream"):
        blend.extend(_prefixed("grpc-stream", grpc_stream.GrpcStream(spec, index).scenario(), weights["grpc-stream"]))
    if weights.get("file-jobs"):
        blend.extend(_prefixed("file-jobs", file_jobs.FileJobs(spec, index).scenario(), weights["file-jobs"]))
    if weights.get("ws"):
        blend.extend(ws.Subscribers(spec, round(weights["ws"]), op_name="ws/event").scenario())
    return blend
