"""Host maintenance: setting the switch drains the host (live where possible, cold otherwise), instance by
instance with its progress; clearing it returns the host to service. The API's PATCH and
`manage.py hostmaintenance` (the portal's switch: test_browser_moves.py) go through one service.
"""

import io

import pytest
from django.core.management import call_command

from apps.compute.models import Instance, Migration
from apps.compute.services.maintenance import progress
from apps.core.tests.controllers import wait_until

from .factories import OfferingFactory
from .moving import WAIT_SECONDS, host_of, launched_on, no_instance_on_two_hosts, request, wait_settled
from .test_end_to_end import qcow2_image  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]


@pytest.fixture
def offering(root):
    """Three instances on one host: at 1 GB of disk each, what the machine's disk has free cannot refuse them
    (the agents report the disk they really have)."""
    return OfferingFactory(name="m1.small", vcpus=1, ram_mb=1024, root_disk_gb=1)


def drained(agent):
    return not Instance.objects.filter(host__name=agent.name).exclude(vm_state="deleted").exists() and all(
        row.status == "done" for row in progress(host_of(agent))
    )


def test_maintenance_drains_the_host_through_the_api_and_clearing_it_returns_it_to_service(
    cloud,
    api,
    admin_api,
    offering,
    qcow2_image,  # noqa: F811
):
    source, destination = cloud(2, capacity_ram_mb=4096)
    running = [
        launched_on(api, offering, qcow2_image, [source, destination], source, name=f"r{i}") for i in range(2)
    ]
    stopped = launched_on(api, offering, qcow2_image, [source, destination], source, name="stopped")
    request(api, stopped, "stop")
    wait_settled(stopped.pk, "the stop")

    response = admin_api.patch(f"/api/v1/hosts/{host_of(source).pk}/", {"maintenance": True}, format="json")

    assert response.status_code == 200, response.content
    assert not host_of(source).schedulable
    wait_until(lambda: drained(source), WAIT_SECONDS, "the drain")
    rows = progress(host_of(source))
    assert sorted((row.instance.name, row.kind, row.status, row.destination) for row in rows) == [
        ("r0", "cold", "done", destination.name),
        ("r1", "cold", "done", destination.name),
        ("stopped", "cold", "done", destination.name),
    ]
    for instance in Instance.objects.filter(pk__in=[i.pk for i in [*running, stopped]]):
        expected = ("stopped", "shutoff") if instance.pk == stopped.pk else ("active", "running")
        assert (instance.vm_state, instance.power_state) == expected
    assert host_of(source).ram_mb_used == 0
    where = no_instance_on_two_hosts([source, destination])
    assert set(where.values()) == {destination.name}

    response = admin_api.patch(f"/api/v1/hosts/{host_of(source).pk}/", {"maintenance": False}, format="json")
    assert response.status_code == 200
    assert host_of(source).schedulable


def test_the_command_drains_live_where_it_can_and_cold_otherwise_and_prints_each_instance(
    cloud,
    api,
    offering,
    qcow2_image,  # noqa: F811
    tmp_path,
):
    source, destination = cloud(2, driver="fake", fake_fabric_dir=tmp_path / "fabric", capacity_ram_mb=4096)
    active = launched_on(api, offering, qcow2_image, [source, destination], source, name="active")
    stopped = launched_on(api, offering, qcow2_image, [source, destination], source, name="stopped")
    request(api, stopped, "stop")
    wait_settled(stopped.pk, "the stop")
    out = io.StringIO()

    call_command("hostmaintenance", source.name, "--on", "--wait", str(WAIT_SECONDS), stdout=out)

    printed = out.getvalue()
    assert f"active {active.pk}: live done 100% -> {destination.name}" in printed, printed
    assert f"stopped {stopped.pk}: cold done 100% -> {destination.name}" in printed, printed
    assert "2 of 2 instances moved" in printed
    assert {m.kind for m in Migration.objects.all()} == {"live", "cold"}
    assert set(no_instance_on_two_hosts([source, destination]).values()) == {destination.name}
