from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

from frontends._gen.sigmavault import v1 as generated

ROOT = Path(__file__).resolve().parent.parent.parent
# every generated message module: a new domain's proto is checked like the seed's
FILES = tuple(
    importlib.import_module(f"{generated.__name__}.{m.name}")
    for m in pkgutil.iter_modules(generated.__path__)
    if m.name.endswith("_pb2")
)


def test_generated_code_matches_proto() -> None:
    """frontends/_gen must be exactly what tools/gen_proto.py makes from proto/ (run `make proto`)."""
    result = subprocess.run(
        [sys.executable, "-m", "tools.gen_proto", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"frontends/_gen is stale; run `make proto`:\n{result.stdout}{result.stderr}"


def test_contract_is_usable_from_go() -> None:
    """One Go package for every file (the Go API imports one package, generated into its own module
    `sigmavault/api`: README "Calling from Go", built by test_go_client.py), the seed's seven services among them."""
    services = set()
    for module in FILES:
        assert module.DESCRIPTOR.package == "sigmavault.v1"
        assert module.DESCRIPTOR.GetOptions().go_package == "sigmavault/api/gen/sigmavault/v1;sigmavaultv1"
        services |= set(module.DESCRIPTOR.services_by_name)
    assert services >= {
        "SystemService",
        "StorageService",
        "AgentService",
        "CompressionService",
        "EncryptionService",
        "NetworkService",
        "BlockService",
    }
