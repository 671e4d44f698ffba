"""A drain and a host's loss with two controller processes on one database and broker.

Each agent talks to its own controller (the source's reports go to one, the
destination's to the other); the periodic work (marking silent hosts down,
continuing drains, sweeping, sending again) runs once per period in whichever
controller takes it. With one move at a time, every move after the first is
started by a move's end or by the periodic work, on either controller.
"""

import signal

import pytest

from agent.signing import private_key_to_pem
from apps.compute.models import Instance, Migration
from apps.core.tests.controllers import wait_until
from apps.identity.tests.factories import PASSWORD
from apps.infrastructure.models import Allocation, Host
from apps.infrastructure.tests.factories import ZoneFactory

from .agent_processes import stop_all
from .factories import OfferingFactory
from .moving import WAIT_SECONDS, host_of, launched_on, no_instance_on_two_hosts, start_agents
from .test_end_to_end import qcow2_image  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]


@pytest.fixture
def controllers(start_controller, signing_key, host_ca, settings, cloud_admin, tmp_path):
    """Two controllers with short periods; their agents, one each; an admin token for each."""
    environment = {
        "CLOUDMGR_TASK_SIGNING_KEY": private_key_to_pem(signing_key).decode(),
        "CLOUDMGR_IMAGE_STORE_DIR": settings.CLOUDMGR_IMAGE_STORE_DIR,
        **host_ca,
        "CLOUDMGR_PERIOD_SWEEP_JOBS": "1",
        "CLOUDMGR_PERIOD_REDISPATCH_JOBS": "1",
        "CLOUDMGR_REDISPATCH_AFTER_SECONDS": "1",
        "CLOUDMGR_PERIOD_MARK_HOSTS_DOWN": "1",
        "CLOUDMGR_HOST_DOWN_AFTER_SECONDS": "3",
        "CLOUDMGR_PERIOD_CONTINUE_DRAINS": "1",
        "CLOUDMGR_MAINTENANCE_CONCURRENT_MOVES": "1",
    }
    started = [start_controller(name, environment=environment) for name in ("first", "second")]
    zone = ZoneFactory(name="zone-a")
    agents = [
        start_agents(controller.url, tmp_path, zone, 1, prefix=f"c{number}", capacity_ram_mb=4096)[0]
        for number, controller in enumerate(started)
    ]
    tokens = [controller.login(cloud_admin.username, PASSWORD) for controller in started]
    yield started, agents, tokens
    for agent in agents:
        agent.process.send_signal(signal.SIGCONT)
    stop_all(agents)


def test_a_drain_under_two_controllers_moves_every_instance_once(controllers, api, offering, qcow2_image):  # noqa: F811
    (first, second), (source, destination), tokens = controllers
    instances = [
        launched_on(api, offering, qcow2_image, [source, destination], source, name=f"i{n}") for n in range(3)
    ]

    status, body = second.request(
        "PATCH", f"/api/v1/hosts/{host_of(source).pk}/", {"maintenance": True}, token=tokens[1]
    )

    assert (status, body["maintenance"]) == (200, True)
    wait_until(
        lambda: Instance.objects.filter(host__name=destination.name, task_state__isnull=True).count() == 3,
        WAIT_SECONDS,
        "the drain",
    )
    assert Migration.objects.filter(status="done").count() == 3
    assert sorted(Migration.objects.values_list("instance_id", flat=True)) == sorted(i.pk for i in instances)
    assert host_of(source).ram_mb_used == 0
    assert set(no_instance_on_two_hosts([source, destination]).values()) == {destination.name}
    assert "continue_drains" in first.log() + second.log()


def test_a_lost_host_under_two_controllers_keeps_its_claims_until_fenced_then_its_ha_instance_moves(
    controllers,
    api,
    qcow2_image,  # noqa: F811
):
    (first, _), (lost, survivor), tokens = controllers
    ha = OfferingFactory(name="m1.ha", vcpus=1, ram_mb=1024, root_disk_gb=10, ha=True)
    instance = launched_on(api, ha, qcow2_image, [lost, survivor], lost)

    lost.process.kill()

    wait_until(lambda: host_of(lost).state == Host.DOWN, WAIT_SECONDS, "a controller to mark the host down")
    instance.refresh_from_db()
    assert (instance.power_state, instance.host.name) == ("unknown", lost.name)
    assert list(Allocation.objects.filter(consumer_id=instance.pk).values_list("host__name", flat=True)) == [
        lost.name
    ]

    status, body = first.request(
        "POST", f"/api/v1/hosts/{host_of(lost).pk}/fence/", {"confirm_powered_off": True}, token=tokens[0]
    )

    assert (status, body["state"]) == (200, "fenced")
    wait_until(
        lambda: Instance.objects.filter(
            pk=instance.pk, task_state__isnull=True, host__name=survivor.name
        ).exists(),
        WAIT_SECONDS,
        "the evacuation",
    )
    instance.refresh_from_db()
    assert (instance.vm_state, instance.power_state) == ("active", "running")
    assert no_instance_on_two_hosts([survivor]) == {str(instance.pk): survivor.name}
