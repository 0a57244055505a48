from __future__ import annotations

import logging
from pathlib import Path

import pytest

from engine.config import ConfigError, EngineConfig


def test_defaults_match_the_integration_spec() -> None:
    cfg = EngineConfig.from_env(environ={}, env_file=None)
    assert (cfg.host, cfg.engine_port, cfg.grpc_port, cfg.agents) == ("127.0.0.1", 8001, 9003, 40)
    assert cfg.workers >= 1
    assert cfg.max_workers == cfg.slots
    assert cfg.max_message_bytes > cfg.slot_bytes


def test_environment_overrides_dotenv(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# comment\nexport SIGMAVAULT_ENGINE_PORT=8100\nSIGMAVAULT_GRPC_PORT='9100'\nSIGMAVAULT_AGENTS=12\n"
    )
    cfg = EngineConfig.from_env(environ={"SIGMAVAULT_AGENTS": "20", "SIGMAVAULT_WORKERS": "2"}, env_file=env_file)
    assert (cfg.engine_port, cfg.grpc_port, cfg.agents, cfg.workers) == (8100, 9100, 20, 2)


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("SIGMAVAULT_ENGINE_PORT", "80", "1024-65535"),
        ("SIGMAVAULT_GRPC_PORT", "70000", "1024-65535"),
        ("SIGMAVAULT_GRPC_PORT", "abc", "1024-65535"),
        ("SIGMAVAULT_WORKERS", "-1", "0-256"),
        ("SIGMAVAULT_DEBUG", "maybe", "true/false"),
        ("SIGMAVAULT_RING_CAPACITY", "1000", "power of two"),
        ("SIGMAVAULT_ENV", "staging", "development"),
        ("SIGMAVAULT_RATE_LIMIT", "-1", "number"),
    ],
)
def test_bad_values_name_the_variable_and_rule(variable: str, value: str, rule: str) -> None:
    with pytest.raises(ConfigError) as info:
        EngineConfig.from_env(environ={variable: value}, env_file=None)
    assert variable in str(info.value)
    assert rule in str(info.value)
    assert "\n" not in str(info.value)


def test_relations_between_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="SIGMAVAULT_AGENTS"):
        EngineConfig.from_env(environ={"SIGMAVAULT_WORKERS": "4", "SIGMAVAULT_AGENTS": "2"}, env_file=None)
    with pytest.raises(ConfigError, match="SIGMAVAULT_GRPC_PORT"):
        EngineConfig.from_env(environ={"SIGMAVAULT_ENGINE_PORT": "9003"}, env_file=None)
    with pytest.raises(ConfigError, match="SIGMAVAULT_MAX_WORKERS"):
        EngineConfig.from_env(environ={"SIGMAVAULT_SLOTS": "8", "SIGMAVAULT_MAX_WORKERS": "9"}, env_file=None)


def test_malformed_dotenv_line_is_reported(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SIGMAVAULT_HOST\n")
    with pytest.raises(ConfigError, match=r"\.env:1"):
        EngineConfig.from_env(environ={}, env_file=env_file)


def test_unknown_setting_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        EngineConfig.from_env(environ={"SIGMAVAULT_WROKERS": "2"}, env_file=None)
    assert "SIGMAVAULT_WROKERS" in caplog.text


def test_as_env_round_trips() -> None:
    cfg = EngineConfig.from_env(environ={"SIGMAVAULT_WORKERS": "3", "SIGMAVAULT_PIN_CPUS": "yes"}, env_file=None)
    assert EngineConfig.from_env(environ=cfg.as_env(), env_file=None) == cfg


def test_production_example_lists_every_setting_and_parses() -> None:
    from dataclasses import fields

    from engine.config import read_env_file

    example = Path(__file__).resolve().parent.parent.parent / "configs" / "production.env.example"
    values = read_env_file(example)
    assert set(values) == {f"SIGMAVAULT_{f.name.upper()}" for f in fields(EngineConfig)}
    defaults = EngineConfig.from_env(environ={}, env_file=None)
    assert EngineConfig.from_env(environ={}, env_file=example) == defaults
