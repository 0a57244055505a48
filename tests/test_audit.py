"""tools/audit.py's verdicts on pip-audit's JSON (its 2.10 format, as `pip-audit --format json` prints
it), through a stand-in executable that prints a recorded answer; the real run is `make audit`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import tools.audit

ROOT = Path(__file__).resolve().parent.parent


def audit(tmp_path: Path, vulns: list[dict[str, Any]], accepted: str = "") -> subprocess.CompletedProcess[str]:
    answer = {
        "dependencies": [
            {"name": "grpcio", "version": "1.85.3", "vulns": vulns},
            {"name": "orjson", "version": "3.13.0", "vulns": []},
        ],
        "fixes": [],
    }
    fake = tmp_path / "pip-audit"
    fake.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(answer)}\nEOF\n")
    fake.chmod(0o755)
    (tmp_path / "req.txt").write_text("grpcio==1.85.3\norjson==3.13.0\n")
    code = (
        f"import sys, tools.audit as a; from pathlib import Path; a.ACCEPTED = Path({str(tmp_path / 'ok')!r});"
        f"sys.exit(a.main(sys.argv[1:]))"
    )
    (tmp_path / "ok").write_text(accepted)
    argv = [sys.executable, "-c", code, "--pip-audit", str(fake), "--requirements", str(tmp_path / "req.txt")]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_a_fixable_advisory_fails_and_an_accepted_or_unfixed_one_warns(tmp_path: Path) -> None:
    clean = audit(tmp_path, [])
    assert clean.returncode == 0 and "2 audited by pip-audit" in clean.stdout and "0 to fix" in clean.stdout
    fixable = [{"id": "GHSA-xxxx-yyyy-zzzz", "fix_versions": ["1.86.0"], "aliases": ["CVE-2099-1"], "description": ""}]
    failed = audit(tmp_path, fixable)
    assert failed.returncode == 1
    assert "audit: FAIL grpcio 1.85.3: GHSA-xxxx-yyyy-zzzz (fixed in 1.86.0; pip-audit)" in failed.stdout
    ok = audit(tmp_path, fixable, accepted="# why\nGHSA-xxxx-yyyy-zzzz  grpcio-tools is pinned to 1.85 by _gen\n")
    assert ok.returncode == 0 and "WARN" in ok.stdout and "accepted: grpcio-tools is pinned" in ok.stdout
    unfixed = audit(tmp_path, [{"id": "PYSEC-2099-1", "fix_versions": [], "aliases": [], "description": ""}])
    assert unfixed.returncode == 0 and "nothing to upgrade to yet" in unfixed.stdout


def test_an_audit_that_cannot_run_says_so_without_failing(tmp_path: Path) -> None:
    (tmp_path / "req.txt").write_text("orjson==3.13.0\n")
    code = tools.audit.main(["--pip-audit", str(tmp_path / "missing"), "--requirements", str(tmp_path / "req.txt")])
    assert code == 0


@pytest.mark.parametrize(("name", "want"), [("ast_serialize", "ast-serialize"), ("Jsonschema.RS", "jsonschema-rs")])
def test_names_are_compared_canonically(name: str, want: str) -> None:
    assert tools.audit.canonical(name) == want
