"""A host that stops answering, its fencing, evacuation, its agent coming back, and an agent's restart.

Two real agents on test:///default, the live server as controller; periodic work
(marking silent hosts down) is run by the test, as a controller's periodic runner
would (apps/compute/tests/test_moves_two_controllers.py runs it in controller
processes). A host "stops answering" by its agent being killed (SIGKILL: the
test driver's guests go with it, as a power cut's would) or frozen (SIGSTOP: its
guests stay, as a host cut off from the network would keep them running).
"""

import signal

import pytest

from apps.compute.models import Migration
from apps.core.tests.controllers import wait_until
from apps.infrastructure.models import Allocation, Host
from apps.infrastructure.services.heartbeats import mark_silent_hosts_down
from apps.metering.models import UsageEvent
from apps.quotas import services as quotas

from .factories import OfferingFactory
from .moving import (
    WAIT_SECONDS,
    domains,
    fresh_inventories,
    host_of,
    launched_on,
    no_instance_on_two_hosts,
    request,
    wait_settled,
)
from .test_end_to_end import qcow2_image  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]


@pytest.fixture
def ha(root):
    return OfferingFactory(name="m1.ha", vcpus=1, ram_mb=1024, root_disk_gb=10, ha=True)


@pytest.fixture
def lost(cloud, api, offering, ha, qcow2_image, settings):  # noqa: F811
    """(lost agent, other agent, its HA instance, its plain instance), the lost host marked down."""
    settings.CLOUDMGR_HOST_DOWN_AFTER_SECONDS = 2

    def lose(how):
        first, second = cloud(2, capacity_ram_mb=3072)
        protected = launched_on(api, ha, qcow2_image, [first, second], first, name="protected")
        plain = launched_on(api, offering, qcow2_image, [first, second], first, name="plain")
        first.process.send_signal(how)
        wait_until(lambda: mark_silent_hosts_down() or host_of(first).state == Host.DOWN, 30, "the host down")
        return first, second, protected, plain

    return lose


def claims_of(instance):
    return list(Allocation.objects.filter(consumer_id=instance.pk).values_list("host__name", flat=True))


def test_a_host_that_stops_answering_keeps_its_instances_and_their_claims(lost, project):
    first, _, protected, plain = lost(signal.SIGKILL)

    for instance in (protected, plain):
        instance.refresh_from_db()
        assert (instance.vm_state, instance.power_state, instance.host_id) == (
            "active",
            "unknown",
            host_of(first).pk,
        )
        assert claims_of(instance) == [first.name]
    assert quotas.usage_of(project)["instances"][1] == 2
    assert host_of(first).ram_mb_used == 2048


def billed(instance):
    return list(
        UsageEvent.objects.filter(resource_id=instance.pk)
        .order_by("occurred_at", "id")
        .values_list("event_type", flat=True)
    )


def test_fencing_rebuilds_ha_instances_elsewhere_and_puts_the_others_in_error_to_evacuate_by_hand(
    lost, admin_api, api
):
    first, second, protected, plain = lost(signal.SIGKILL)
    fenced_host = host_of(first)
    refused = admin_api.post(
        f"/api/v1/hosts/{host_of(second).pk}/fence/", {"confirm_powered_off": True}, format="json"
    )
    assert (refused.status_code, refused.data["error"]["code"]) == (409, "host_not_down")
    unconfirmed = admin_api.post(f"/api/v1/hosts/{fenced_host.pk}/fence/", {}, format="json")
    assert (unconfirmed.status_code, unconfirmed.data["error"]["code"]) == (400, "fence_not_confirmed")

    response = admin_api.post(
        f"/api/v1/hosts/{fenced_host.pk}/fence/", {"confirm_powered_off": True}, format="json"
    )

    assert (response.status_code, response.data["state"]) == (200, "fenced")
    protected = wait_settled(protected.pk, "the evacuation")
    assert (protected.vm_state, protected.power_state, protected.host.name) == (
        "active",
        "running",
        second.name,
    )
    assert claims_of(protected) == [second.name]
    assert Migration.objects.get(instance=protected).reason == "host fenced"
    plain.refresh_from_db()
    assert (plain.vm_state, plain.fault_code, plain.host_id) == ("error", "host_fenced", fenced_host.pk)
    tenant_view = api.get(f"/api/v1/instances/{plain.pk}/").data
    assert first.name not in str(tenant_view)
    refused = request(api, plain, "reboot", {"type": "hard"}, status=409)
    assert refused.data["error"]["code"] == "instance_host_fenced"

    plain_job = request(admin_api, plain, "evacuate")
    plain = wait_settled(plain.pk, "the evacuation by hand")
    plain_job.refresh_from_db()
    assert plain_job.state == "succeeded", (plain_job.error_code, plain_job.error_message)
    assert (plain.vm_state, plain.host.name, plain.fault_code) == ("active", second.name, "")
    # Billed as stopped from the fencing (its host confirmed off) until it runs again elsewhere.
    for instance in (protected, plain):
        assert billed(instance)[-2:] == ["stopped", "running"]
    assert host_of(first).ram_mb_used == 0
    assert no_instance_on_two_hosts([second]) == {str(protected.pk): second.name, str(plain.pk): second.name}


def test_an_agent_that_comes_back_after_its_host_was_fenced_destroys_those_guests(lost, admin_api, api):
    first, second, protected, plain = lost(signal.SIGSTOP)
    admin_api.post(f"/api/v1/hosts/{host_of(first).pk}/fence/", {"confirm_powered_off": True}, format="json")
    wait_settled(protected.pk, "the evacuation")

    first.process.send_signal(signal.SIGCONT)

    inventories = fresh_inventories([first, second])
    assert str(protected.pk) in domains(inventories[second.name], running_only=True)
    assert domains(inventories[first.name], running_only=True) == set()
    assert host_of(first).state == Host.FENCED

    response = admin_api.delete(f"/api/v1/hosts/{host_of(first).pk}/fence/")
    assert (response.status_code, response.data["state"]) == (200, "down")
    wait_until(lambda: host_of(first).state == Host.UP, WAIT_SECONDS, "the host back up")
    plain.refresh_from_db()
    assert plain.vm_state == "error"
    inventories = fresh_inventories([first, second])
    assert domains(inventories[first.name], running_only=True) == set()
    running = [domains(inventory, running_only=True) for inventory in inventories.values()]
    assert running[0].isdisjoint(running[1])


def test_after_an_agent_restart_running_instances_start_again_and_stopped_ones_stay_off(
    cloud,
    api,
    offering,
    qcow2_image,  # noqa: F811
):
    (agent,) = cloud(1, capacity_ram_mb=3072)
    running = launched_on(api, offering, qcow2_image, [agent], agent, name="running")
    stopped = launched_on(api, offering, qcow2_image, [agent], agent, name="stopped")
    request(api, stopped, "stop")
    wait_settled(stopped.pk, "the stop")
    # A power cut, for libvirt's test driver: its guests and their definitions die with the process.
    agent.process.kill()
    agent.process.wait()

    agent.start()

    inventory = fresh_inventories([agent])[agent.name]
    states = {d["instance_id"]: d["power_state"] for d in inventory["instances"]}
    assert states == {str(running.pk): "running", str(stopped.pk): "shutoff"}
    running.refresh_from_db()
    stopped.refresh_from_db()
    assert (running.vm_state, stopped.vm_state) == ("active", "stopped")
