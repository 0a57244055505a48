"""The scenarios, one module each; ``build`` makes one for a generator process."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from perf.load.scenarios.base import Scenario
    from perf.load.spec import LoadSpec

MODULES = {
    "grpc-unary": "grpc_unary",
    "grpc-stream": "grpc_stream",
    "http": "http",
    "ws": "ws",
    "file-jobs": "file_jobs",
    "mixed": "mixed",
}


def build(spec: LoadSpec, index: int) -> Scenario:
    """The scenario of ``spec`` for generator process ``index`` (its modules are imported only here,
    in the generator, so the parent never loads grpc)."""
    module = importlib.import_module(f"perf.load.scenarios.{MODULES[spec.scenario]}")
    scenario: Scenario = module.build(spec, index, spec.weights)
    return scenario
