"""``engined token`` (engine/cli/tokens.py) as an operator types it: reserved names refused with their
reason, and a removal that says what it removed."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from engine.access.credentials import CredentialError, check_token_name

if TYPE_CHECKING:
    from pathlib import Path


def engined(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGMAVAULT_")}
    return subprocess.run(
        [sys.executable, "-m", "engine", "token", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("name", ["admin", "unix"])
def test_a_reserved_name_is_refused_as_reserved_not_as_malformed(tmp_path: Path, name: str) -> None:
    env = {"SIGMAVAULT_DATA_DIR": str(tmp_path / "data")}
    for role in ("admin", "read"):
        refused = engined(env, "add", name, "--role", role)
        assert refused.returncode == 2 and refused.stdout == ""
        assert len(refused.stderr.splitlines()) == 1 and f"the name {name!r} is reserved" in refused.stderr
        assert "1-64 letters" not in refused.stderr
    assert not (tmp_path / "data" / "api-tokens").exists()
    with pytest.raises(CredentialError) as info:
        check_token_name("bad name")
    assert "1-64 letters" in info.value.rule  # a malformed name still gets the rule it broke


def test_remove_says_what_it_removed(tmp_path: Path) -> None:
    env = {"SIGMAVAULT_DATA_DIR": str(tmp_path / "data")}
    assert engined(env, "add", "grafana", "--role", "read").returncode == 0
    assert engined(env, "add", "ops", "--role", "admin").returncode == 0
    removed = engined(env, "remove", "grafana")
    assert removed.returncode == 0 and removed.stdout == ""
    tokens = tmp_path / "data" / "api-tokens"
    assert removed.stderr.splitlines() == [
        f"engined: removed 'grafana' (read) from {tokens}; a running engine refuses it within a second"
    ]
    assert engined(env, "list").stdout == "ops\tadmin\n"
    missing = engined(env, "remove", "grafana")
    assert missing.returncode == 1 and missing.stderr.strip() == f"engined: no token named 'grafana' in {tokens}"
