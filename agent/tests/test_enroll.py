"""Enrollment against the stub controller (agent/tests/stub_controller.py stands in for the Django one)."""

import pytest

from agent import signing
from agent.__main__ import main
from agent.settings import AgentSettings


def test_enroll_creates_a_private_key_readable_only_by_root_and_registers_its_public_half(
    controller, tmp_path
):
    controller.enroll_tokens["one-time-token"] = "compute-7"
    data_dir = tmp_path / "agent"

    code = main(
        ["enroll", "--controller", controller.url, "--token", "one-time-token", "--data-dir", str(data_dir)]
    )

    assert code == 0
    key_file = data_dir / "host_key.pem"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    key = signing.load_private_key_pem(key_file.read_bytes())
    assert controller.host_keys["compute-7"] == signing.public_key_b64(key)
    settings = AgentSettings.load(environ={}, overrides={"data_dir": data_dir})
    assert (settings.host, settings.controller_url) == ("compute-7", controller.url)
    assert settings.controller_public_keys == [controller.public_key]


def test_a_used_token_is_refused_and_the_existing_key_is_kept(controller, tmp_path, capsys):
    controller.enroll_tokens["once"] = "compute-8"
    data_dir = tmp_path / "agent"
    main(["enroll", "--controller", controller.url, "--token", "once", "--data-dir", str(data_dir)])
    key_before = (data_dir / "host_key.pem").read_bytes()

    code = main(["enroll", "--controller", controller.url, "--token", "once", "--data-dir", str(data_dir)])

    assert code == 1
    assert "HTTP 403" in capsys.readouterr().err
    assert (data_dir / "host_key.pem").read_bytes() == key_before


def test_a_host_key_readable_by_others_is_refused(controller, tmp_path, capsys):
    controller.enroll_tokens["t"] = "compute-9"
    data_dir = tmp_path / "agent"
    main(["enroll", "--controller", controller.url, "--token", "t", "--data-dir", str(data_dir)])
    (data_dir / "host_key.pem").chmod(0o644)

    code = main(["run", "--data-dir", str(data_dir), "--driver", "fake"])

    assert code == 1
    assert "readable by others" in capsys.readouterr().err


def test_command_line_options_win_over_the_environment(tmp_path):
    environ = {"CLOUDMGR_AGENT_LIBVIRT_URI": "qemu:///system", "CLOUDMGR_AGENT_CONCURRENCY": "8"}

    settings = AgentSettings.load(environ, overrides={"libvirt_uri": "test:///default", "data_dir": tmp_path})

    assert (settings.libvirt_uri, settings.concurrency) == ("test:///default", 8)
    assert settings.queue == f"host.{settings.host}"


@pytest.mark.parametrize("missing", ["controller_url", "controller_public_keys"])
def test_the_agent_will_not_start_without_its_controller_settings(tmp_path, missing):
    from agent.worker import Agent, SettingsError

    values = {"host": "h1", "controller_url": "http://127.0.0.1:1", "controller_public_keys": ["x"]}
    values[missing] = values[missing].__class__()
    settings = AgentSettings.load({}, overrides={"data_dir": tmp_path, **values})

    with pytest.raises(SettingsError, match=missing):
        Agent(settings)
