from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.config import ConfigError, EngineConfig, default_data_dir


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
        ("SIGMAVAULT_JOB_BLOCK_BYTES", "100", "4096-67108864"),
        ("SIGMAVAULT_JOB_ROOTS", "/srv:relative/dir", "absolute"),
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


def test_file_job_settings() -> None:
    cfg = EngineConfig.from_env(
        environ={"SIGMAVAULT_JOB_ROOTS": "/srv/a/:/srv/b", "SIGMAVAULT_DATA_DIR": "/d"}, env_file=None
    )
    assert cfg.job_block_bytes == 1 << 20 and cfg.slot_bytes == (1 << 20) + 16 * 1024  # a block and its output fit
    assert cfg.job_root_list == ("/srv/a", "/srv/b")  # the data directory is never a root
    small = EngineConfig.from_env(environ={"SIGMAVAULT_SLOT_BYTES": "65536"}, env_file=None)
    assert 60_000 < small.job_block_bytes < 65536  # the default shrinks to what fits the slot
    with pytest.raises(ConfigError, match="must fit SIGMAVAULT_SLOT_BYTES"):
        EngineConfig.from_env(
            environ={"SIGMAVAULT_SLOT_BYTES": "65536", "SIGMAVAULT_JOB_BLOCK_BYTES": "65536"}, env_file=None
        )


def test_malformed_dotenv_line_is_reported(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SIGMAVAULT_HOST\n")
    with pytest.raises(ConfigError, match=r"\.env:1"):
        EngineConfig.from_env(environ={}, env_file=env_file)


def test_unknown_setting_is_named_with_the_closest_known_one(tmp_path: Path) -> None:
    lines = EngineConfig.unknown_settings(
        {
            "SIGMAVAULT_WORKRES": "2",
            "SIGMAVAULT_ZZZ": "1",
            "SIGMAVAULT_WORKERS": "2",
            "SIGMAVAULT_API_PORT": "12080",
            "HOME": "/root",
        },
        env_file=None,
    )
    assert lines == [
        "unknown setting SIGMAVAULT_WORKRES is ignored (did you mean SIGMAVAULT_WORKERS?)",
        "unknown setting SIGMAVAULT_ZZZ is ignored",
    ]
    env_file = tmp_path / ".env"
    env_file.write_text("SIGMAVAULT_SLOT_BYTE=4096\n")
    assert EngineConfig.unknown_settings({}, env_file=env_file) == [
        "unknown setting SIGMAVAULT_SLOT_BYTE is ignored (did you mean SIGMAVAULT_SLOT_BYTES?)"
    ]
    # a name a user reaches for that is not close in spelling: the HTTP port is the seed's ENGINE_PORT
    assert EngineConfig.unknown_settings({"SIGMAVAULT_HTTP_PORT": "8001"}, env_file=None) == [
        "unknown setting SIGMAVAULT_HTTP_PORT is ignored (did you mean SIGMAVAULT_ENGINE_PORT?)"
    ]


def test_a_port_clash_blames_the_variable_that_was_set() -> None:
    with pytest.raises(ConfigError) as info:
        EngineConfig.from_env(environ={"SIGMAVAULT_ENGINE_PORT": "9003"}, env_file=None)
    assert str(info.value) == "SIGMAVAULT_ENGINE_PORT='9003' is invalid: must differ from SIGMAVAULT_GRPC_PORT (9003)"
    with pytest.raises(ConfigError, match=r"^SIGMAVAULT_GRPC_PORT='8001' is invalid"):
        EngineConfig.from_env(environ={"SIGMAVAULT_GRPC_PORT": "8001"}, env_file=None)
    both = {"SIGMAVAULT_GRPC_PORT": "8100", "SIGMAVAULT_ENGINE_PORT": "8100"}
    with pytest.raises(ConfigError, match=r"^SIGMAVAULT_GRPC_PORT='8100' is invalid: must differ from "):
        EngineConfig.from_env(environ=both, env_file=None)
    zeros = EngineConfig.from_env(environ={"SIGMAVAULT_GRPC_PORT": "0", "SIGMAVAULT_ENGINE_PORT": "0"}, env_file=None)
    assert (zeros.engine_port, zeros.grpc_port) == (0, 0)  # any free ports, settled at start


def test_data_dir_defaults_follow_systemd_and_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_data_dir({"STATE_DIRECTORY": "/var/lib/sigmavault:/var/lib/other"}) == "/var/lib/sigmavault"
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert default_data_dir({}) == "/var/lib/sigmavault"
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert default_data_dir({"XDG_DATA_HOME": str(tmp_path)}) == str(tmp_path / "sigmavault")


def test_an_unusable_data_dir_is_a_configuration_error(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    cfg = EngineConfig.from_env(environ={"SIGMAVAULT_DATA_DIR": str(a_file / "sub")}, env_file=None)
    with pytest.raises(ConfigError, match=r"^SIGMAVAULT_DATA_DIR='.*/file/sub' is invalid: cannot create it: "):
        cfg.check_data_dir()
    fresh = EngineConfig.from_env(environ={"SIGMAVAULT_DATA_DIR": str(tmp_path / "new" / "dir")}, env_file=None)
    fresh.check_data_dir()
    assert (tmp_path / "new" / "dir").is_dir()


@pytest.mark.parametrize("root", ["{data}", "{tmp}", "/", "{data}/keys", "{tmp}/link"])
def test_a_job_root_that_reaches_the_data_dir_stops_the_start(tmp_path: Path, root: str) -> None:
    """Above it, equal to it, inside it, or through a symlink to it: one line naming the setting."""
    data = tmp_path / "data"
    (tmp_path / "link").symlink_to(data)
    roots = f"{tmp_path / 'files'}:{root.format(data=data, tmp=tmp_path)}"
    cfg = EngineConfig.from_env(
        environ={"SIGMAVAULT_DATA_DIR": str(data), "SIGMAVAULT_JOB_ROOTS": roots}, env_file=None
    )
    with pytest.raises(ConfigError, match=r"^SIGMAVAULT_JOB_ROOTS='.*' is invalid: .*data directory") as info:
        cfg.check_data_dir()
    assert "\n" not in str(info.value)
    roots = f"{tmp_path / 'files'}:{tmp_path / 'data-other'}"  # beside it, even with a name that starts alike
    beside = EngineConfig.from_env(
        environ={"SIGMAVAULT_DATA_DIR": str(data), "SIGMAVAULT_JOB_ROOTS": roots}, env_file=None
    )
    beside.check_data_dir()


def test_checking_without_creating_makes_nothing(tmp_path: Path) -> None:
    """What ``engined config`` does: the same verdicts, and no directory left behind."""
    fresh = EngineConfig.from_env(environ={"SIGMAVAULT_DATA_DIR": str(tmp_path / "new" / "dir")}, env_file=None)
    fresh.check_data_dir(create=False)
    assert not (tmp_path / "new").exists()
    a_file = tmp_path / "file"
    a_file.write_text("")
    under_a_file = EngineConfig.from_env(environ={"SIGMAVAULT_DATA_DIR": str(a_file / "sub" / "data")}, env_file=None)
    with pytest.raises(ConfigError, match=r"is invalid: cannot create it: Not a directory$"):
        under_a_file.check_data_dir(create=False)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.geteuid() != 0:  # root may write anywhere
        in_locked = EngineConfig.from_env(environ={"SIGMAVAULT_DATA_DIR": str(locked / "data")}, env_file=None)
        with pytest.raises(ConfigError, match="is not writable by this user"):
            in_locked.check_data_dir(create=False)
    existing = EngineConfig.from_env(environ={"SIGMAVAULT_DATA_DIR": str(a_file)}, env_file=None)
    with pytest.raises(ConfigError, match="is not a directory"):
        existing.check_data_dir(create=False)


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


def _private(path: Path, text: str, mode: int = 0o600) -> str:
    path.write_text(text)
    path.chmod(mode)
    return str(path)


def test_any_address_and_the_token_settings(tmp_path: Path) -> None:
    """Binding beyond loopback needs no configured token any more: every call needs a credential
    wherever it comes from, and an engine given none generates its admin token (with_api_token)."""
    for host in ("0.0.0.0", "::", "192.0.2.1", "engine.example", "127.0.0.1", "127.8.9.1", "::1", "localhost"):
        assert EngineConfig.from_env(environ={"SIGMAVAULT_HOST": host}, env_file=None).host == host
    token = "t0ken-" + "x" * 20
    cfg = EngineConfig.from_env(environ={"SIGMAVAULT_HOST": "0.0.0.0", "SIGMAVAULT_API_TOKEN": token}, env_file=None)
    assert cfg.api_token == token and token not in repr(cfg)
    assert cfg.as_env()["SIGMAVAULT_API_TOKEN"] == "<redacted>"
    token_file = _private(tmp_path / "token", f"  {token}\n")
    from_file = EngineConfig.from_env(
        environ={"SIGMAVAULT_HOST": "::", "SIGMAVAULT_API_TOKEN_FILE": token_file}, env_file=None
    )
    assert from_file.api_token == token and from_file.as_env()["SIGMAVAULT_API_TOKEN"] == ""


@pytest.mark.parametrize(
    ("environ", "variable", "rule"),
    [
        ({"SIGMAVAULT_API_TOKEN": "short-secret"}, "SIGMAVAULT_API_TOKEN", "at least 16"),
        ({"SIGMAVAULT_API_TOKEN": "with spaces inside it!"}, "SIGMAVAULT_API_TOKEN", "without spaces"),
        ({"SIGMAVAULT_API_TOKEN_FILE": "{dir}/token-loose"}, "SIGMAVAULT_API_TOKEN_FILE", "chmod it 0600"),
        ({"SIGMAVAULT_API_TOKEN_FILE": "{dir}/missing"}, "SIGMAVAULT_API_TOKEN_FILE", "cannot read it"),
        ({"SIGMAVAULT_API_TOKEN_FILE": "{dir}"}, "SIGMAVAULT_API_TOKEN_FILE", "not a regular file"),
        (
            {"SIGMAVAULT_API_TOKEN_FILE": "{dir}/token", "SIGMAVAULT_API_TOKEN": "y" * 20},
            "SIGMAVAULT_API_TOKEN_FILE",
            "not both",
        ),
        ({"SIGMAVAULT_TLS_CERT": "{dir}/token"}, "SIGMAVAULT_TLS_CERT", "not a readable PEM certificate"),
        ({"SIGMAVAULT_TLS_CERT": "{dir}/ca.pem"}, "SIGMAVAULT_TLS_CERT", "needs SIGMAVAULT_TLS_KEY"),
        ({"SIGMAVAULT_TLS_KEY": "{dir}/server.key"}, "SIGMAVAULT_TLS_KEY", "needs SIGMAVAULT_TLS_CERT"),
        ({"SIGMAVAULT_TLS_CLIENT_CA": "{dir}/ca.pem"}, "SIGMAVAULT_TLS_CLIENT_CA", "mutual TLS is TLS first"),
        (
            {"SIGMAVAULT_TLS_CERT": "{dir}/server.pem", "SIGMAVAULT_TLS_KEY": "{dir}/client.key"},
            "SIGMAVAULT_TLS_KEY",
            "does not load with the certificate",
        ),
        (
            {"SIGMAVAULT_TLS_CERT": "{dir}/server.pem", "SIGMAVAULT_TLS_KEY": "{dir}/loose.key"},
            "SIGMAVAULT_TLS_KEY",
            "readable or writable by other users",
        ),
    ],
)
def test_security_settings_are_checked_in_one_line(
    tmp_path: Path, environ: dict[str, str], variable: str, rule: str
) -> None:
    from tests.certs import make_pki

    pki = make_pki(tmp_path)
    _private(tmp_path / "token", "z" * 32)
    _private(tmp_path / "token-loose", "z" * 32, mode=0o640)
    _private(tmp_path / "loose.key", pki.server_key.read_text(), mode=0o604)
    resolved = {k: v.format(dir=tmp_path) for k, v in environ.items()}
    with pytest.raises(ConfigError) as info:
        EngineConfig.from_env(environ=resolved, env_file=None)
    message = str(info.value)
    assert message.startswith(f"{variable}=") and rule in message and "\n" not in message
    for secret in ("short-secret", "with spaces", "z" * 32, "y" * 20):
        assert secret not in message


def test_tls_and_the_client_cap_parse(tmp_path: Path) -> None:
    from tests.certs import make_pki

    pki = make_pki(tmp_path)
    cfg = EngineConfig.from_env(
        environ={
            "SIGMAVAULT_TLS_CERT": str(pki.server_cert),
            "SIGMAVAULT_TLS_KEY": str(pki.server_key),
            "SIGMAVAULT_TLS_CLIENT_CA": str(pki.ca),
            "SIGMAVAULT_CLIENT_MAX_INFLIGHT": "8",
        },
        env_file=None,
    )
    assert cfg.tls and cfg.tls_client_ca == str(pki.ca) and cfg.client_max_inflight == 8
    assert not EngineConfig.from_env(environ={}, env_file=None).tls


def test_write_private_replaces_whole_files_mode_0600(tmp_path: Path) -> None:
    import stat

    from engine.common.fsutil import write_private

    target = tmp_path / "state.json"
    write_private(target, b"one")
    write_private(target, b"two" * 100_000)
    assert target.read_bytes() == b"two" * 100_000
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary left behind


def test_the_admin_token_is_generated_once_and_the_socket_settings_are_checked(tmp_path: Path) -> None:
    cfg = EngineConfig.from_env(environ={"SIGMAVAULT_DATA_DIR": str(tmp_path)}, env_file=None)
    assert cfg.api_tokens_file == str(tmp_path / "api-tokens") and cfg.socket_gid == 0
    made, created = cfg.with_api_token()
    assert created and made.api_token_file == str(tmp_path / "api-token") and len(made.api_token) == 64
    assert (tmp_path / "api-token").stat().st_mode & 0o777 == 0o600
    again, created = cfg.with_api_token()
    assert not created and again.api_token == made.api_token  # reused, never replaced
    assert made.as_env()["SIGMAVAULT_API_TOKEN"] == ""  # the file is the setting; the value never shows
    with pytest.raises(ConfigError, match=r"SIGMAVAULT_RUN_DIR='/r+' is invalid: is .* bytes too long"):
        EngineConfig.from_env(environ={"SIGMAVAULT_RUN_DIR": "/" + "r" * 100}, env_file=None)
    with pytest.raises(ConfigError, match="SIGMAVAULT_RUN_DIR='relative' is invalid: must be an absolute path"):
        EngineConfig.from_env(environ={"SIGMAVAULT_RUN_DIR": "relative"}, env_file=None)
    with pytest.raises(ConfigError, match="SIGMAVAULT_SOCKET_GROUP='no-such-sv-group' is invalid: must name a group"):
        EngineConfig.from_env(environ={"SIGMAVAULT_SOCKET_GROUP": "no-such-sv-group"}, env_file=None)
    assert EngineConfig.from_env(environ={"SIGMAVAULT_SOCKET_GROUP": "root"}, env_file=None).socket_gid == 0
