"""`manage.py addhost` and `listhosts`."""

import io

import pytest
from django.core.management import CommandError, call_command

from apps.infrastructure.models import Host
from apps.infrastructure.services.enrollment import enroll

from .factories import HostFactory, agent_public_key


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_addhost_prints_a_one_time_token_that_enrolls_the_host(root):
    output = run("addhost", "kvm-07", "--zone", "zone-b", "--create-zone", "--tag", "ssd")
    token = next(
        line.split(": ", 1)[1] for line in output.splitlines() if line.startswith("enrollment token")
    )
    host = enroll(token, agent_public_key())
    assert (host.name, host.zone.name, host.tags, host.state) == ("kvm-07", "zone-b", ["ssd"], Host.DOWN)


def test_addhost_into_a_missing_zone_fails_with_one_line(root):
    with pytest.raises(CommandError, match="not_found: No zone 'nowhere'"):
        run("addhost", "kvm-08", "--zone", "nowhere")
    assert not Host.objects.exists()


def test_listhosts_shows_allocation_against_limits(root):
    host = HostFactory(
        name="kvm-09", cpus=2, ram_mb=2048, disk_gb=10, reserved_host_memory_mb=0, vcpus_used=3
    )
    output = run("listhosts")
    line = next(line for line in output.splitlines() if line.startswith("kvm-09"))
    assert f"{host.zone.name}" in line
    assert "3/32" in line
    assert "0/3072" in line
