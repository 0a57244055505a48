from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from frontends._gen.sigmavault.v1 import engine_pb2

ROOT = Path(__file__).resolve().parent.parent.parent


def test_generated_code_matches_proto() -> None:
    """frontends/_gen must be exactly what tools/gen_proto.py makes from proto/ (run `make proto`)."""
    result = subprocess.run([sys.executable, "-m", "tools.gen_proto", "--check"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, f"frontends/_gen is stale; run `make proto`:\n{result.stdout}{result.stderr}"


def test_contract_is_usable_from_go() -> None:
    options = engine_pb2.DESCRIPTOR.GetOptions()
    assert engine_pb2.DESCRIPTOR.package == "sigmavault.v1"
    assert options.go_package.endswith(";sigmavaultv1")
    services = set(engine_pb2.DESCRIPTOR.services_by_name)
    assert services == {"SystemService", "StorageService", "AgentService", "CompressionService", "EncryptionService",
                        "NetworkService", "BlockService"}  # fmt: skip
