"""Ports follow their instance: cold and live migration, a resize and its revert, a failed move and
evacuation, with real networking.

Two agent processes on the fake hypervisor driver (each NIC a veth into a guest
namespace under its tap's name), their network drivers in two lab host
namespaces joined by a veth carrying physnet1 (apps/compute/tests/networked_moves.py);
the controller is the live server. A flat-DHCP network whose DHCP server runs on
the second host; a guest's address is checked with a real DHCP lease and real
pings across the wire. After each move the network audit finds nothing on either
host, and (conftest) quotas and host allocations show no drift.
"""

import signal
from io import StringIO

import pytest
from django.core.management import call_command

from agent.tests.netlab import ping
from apps.compute.models import Migration
from apps.core.tests.controllers import wait_until
from apps.infrastructure.models import Host
from apps.infrastructure.services.heartbeats import mark_silent_hosts_down
from apps.jobs.models import Job
from apps.networks.models import Network, Port
from apps.networks.tests.factories import flat_network

from .factories import OfferingFactory
from .moving import WAIT_SECONDS, launched_on, moved, no_instance_on_two_hosts, request, wait_settled
from .networked_moves import leased, network_work_done, nic_of, start_networked_pair
from .test_end_to_end import qcow2_image  # noqa: F401  (a fixture)
from .test_instance_networking import lab  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]


@pytest.fixture
def hosts(lab, live_server, signing_key, host_ca, root, zone):  # noqa: F811
    """(first, second): networked agents; stopped at teardown, before the lab goes."""
    pair = start_networked_pair(lab, zone, live_server.url)
    yield pair
    for agent in pair:
        agent.process.stop()


@pytest.fixture
def small(root):
    return OfferingFactory(name="m1.net", vcpus=1, ram_mb=512, root_disk_gb=1)


@pytest.fixture
def network(hosts, project):
    return flat_network(
        hosts[0].host.zone, cidr="10.93.0.0/24", shared_with=[project], network_type=Network.FLAT_DHCP
    )


class Placed:
    """Two instances launched on the first host, each with a NIC on the network and its DHCP lease: one
    stays (the checker), one moves; the mover's port, address and MAC as they were."""

    def __init__(self, network_lab, api, offering, image, hosts):
        self.lab, (self.first, self.second) = network_lab, hosts
        self.staying, staying_port = on(api, offering, image, hosts, self.first, "staying")
        self.mover, self.port = on(api, offering, image, hosts, self.first, "mover")
        self.address, self.mac = address_of(self.port), self.port.mac_address
        assert leased(network_lab, self.first.guest(self.staying.pk)) == address_of(staying_port)
        assert leased(network_lab, self.first.guest(self.mover.pk)) == self.address

    def plugged_only_on(self, here, gone):
        """The port is bound to `here`, its NIC plugged there with its MAC and address, nothing left on
        `gone`; once the network syncs and the move's jobs are done."""
        self.bound_to(here, gone)
        assert not gone.guest(self.mover.pk).exists()

    def bound_to(self, here, gone):
        """plugged_only_on, but `gone` may keep the guest's old copy, stopped (a resize not yet confirmed)."""
        self.port.refresh_from_db()
        assert (self.port.host_id, self.port.arriving_host_id) == (here.host.pk, None)
        assert (self.port.mac_address, address_of(self.port)) == (self.mac, self.address)
        network_work_done()
        assert nic_of(here.guest(self.mover.pk)) == self.mac
        assert self.port.device_name in here.filters()
        assert self.port.device_name not in gone.filters()
        assert str(self.port.pk) in here.applied_ports()
        assert str(self.port.pk) not in gone.applied_ports()
        assert leased(self.lab, here.guest(self.mover.pk)) == self.address


@pytest.fixture
def placed(hosts, lab, api, small, network, qcow2_image):  # noqa: F811
    return Placed(lab, api, small, qcow2_image, hosts)


def on(api, offering, image, hosts, where, name):
    """An instance launched on `where` with a NIC on the network, and its port."""
    instance = launched_on(api, offering, image, [h.process for h in hosts], where.process, name=name)
    return instance, Port.objects.get(instance_id=instance.pk)


def address_of(port):
    return str(port.addresses.get().address)


def no_network_drift():
    """`manage.py netaudit --no-repair`: neither host finds anything that differs from its desired state."""
    out = StringIO()
    call_command("netaudit", "--no-repair", "--wait", str(WAIT_SECONDS), stdout=out)
    return out.getvalue().splitlines()[-1]


def test_a_cold_migrated_instance_keeps_its_nic_mac_and_address_and_answers_on_its_new_host(
    placed, admin_api, network
):
    first, second = placed.first, placed.second
    entry = f"{placed.mac},{placed.address}"
    assert entry in second.dhcp_hosts(network)

    mover, job = moved(admin_api, placed.mover, "migrate", {"host_id": str(second.host.pk)})

    assert job.state == "succeeded", (job.error_code, job.error_message)
    assert (mover.host_id, mover.vm_state, mover.power_state) == (second.host.pk, "active", "running")
    placed.plugged_only_on(second, first)
    assert placed.port.device_name not in first.netns.links()
    # The network's DHCP server (one per network, on the second host, not one per instance's host) still
    # has its one entry and leased it the same address across the wire; the instance left behind reaches
    # it on its new host, and it reaches back.
    assert second.dhcp_hosts(network).count(entry) == 1
    assert first.dhcp_hosts(network) == ""
    assert lab_ping(first.guest(placed.staying.pk), placed.address)
    staying_address = address_of(Port.objects.get(instance_id=placed.staying.pk))
    assert lab_ping(second.guest(mover.pk), staying_address)
    assert no_network_drift() == "0 difference(s) on 2 host(s)."
    assert no_instance_on_two_hosts([first.process, second.process])[str(mover.pk)] == second.name


def test_a_failed_cold_migration_leaves_the_port_on_its_source_and_nothing_on_the_destination(
    placed, admin_api
):
    first, second = placed.first, placed.second
    second.process.set_faults(define="fail")

    mover, job = moved(admin_api, placed.mover, "migrate", {"host_id": str(second.host.pk)})

    assert job.state == "failed"
    migration = Migration.objects.get(instance=mover)
    wait_until(lambda: migration_over(migration), WAIT_SECONDS, "the undo")
    mover = wait_settled(mover.pk, "the undo")
    assert (mover.host_id, mover.vm_state, mover.power_state) == (first.host.pk, "active", "running")
    placed.plugged_only_on(first, second)
    assert lab_ping(first.guest(placed.staying.pk), placed.address)
    second.process.set_faults()
    assert no_network_drift() == "0 difference(s) on 2 host(s)."


def test_a_live_migration_gets_the_port_into_the_destinations_state_before_the_guest_moves(placed, admin_api):
    first, second = placed.first, placed.second
    first.process.set_faults(live_migrate="stall")

    job = request(admin_api, placed.mover, "live-migrate", {"host_id": str(second.host.pk)})
    wait_until(lambda: Job.objects.get(pk=job.pk).step == 1, WAIT_SECONDS, "the migration step")

    # The guest still runs on its source; the destination filters its NIC already.
    assert placed.port.device_name in second.filters()
    assert str(placed.port.pk) in second.applied_ports()
    assert not second.guest(placed.mover.pk).exists()
    assert nic_of(first.guest(placed.mover.pk)) == placed.mac
    first.process.set_faults()
    mover = wait_settled(placed.mover.pk, "the live migration")
    job.refresh_from_db()
    assert job.state == "succeeded", (job.error_code, job.error_message)
    assert mover.host_id == second.host.pk
    placed.plugged_only_on(second, first)
    assert lab_ping(first.guest(placed.staying.pk), placed.address)
    assert no_network_drift() == "0 difference(s) on 2 host(s)."


def test_a_resize_onto_the_other_host_takes_the_nic_along_and_a_revert_brings_it_back(placed, api):
    first, second = placed.first, placed.second
    # Too large to sit beside its old size on the first host, which holds both instances already.
    large = OfferingFactory(name="m1.net-large", vcpus=1, ram_mb=3000, root_disk_gb=1)

    mover, job = moved(api, placed.mover, "resize", {"offering_id": str(large.pk)})

    assert job.state == "succeeded", (job.error_code, job.error_message)
    assert (mover.vm_state, mover.host_id) == ("resized", second.host.pk)
    placed.bound_to(second, first)
    assert lab_ping(first.guest(placed.staying.pk), placed.address)

    mover, job = moved(api, mover, "revert-resize")

    assert job.state == "succeeded", (job.error_code, job.error_message)
    assert (mover.vm_state, mover.power_state, mover.host_id) == ("active", "running", first.host.pk)
    placed.plugged_only_on(first, second)
    assert lab_ping(first.guest(placed.staying.pk), placed.address)
    assert no_network_drift() == "0 difference(s) on 2 host(s)."
    assert no_instance_on_two_hosts([first.process, second.process])[str(mover.pk)] == first.name


def test_an_ha_instance_of_a_fenced_host_is_rebuilt_elsewhere_with_its_nic_mac_and_address(
    hosts,
    lab,  # noqa: F811
    api,
    admin_api,
    network,
    qcow2_image,  # noqa: F811
    settings,
):
    settings.CLOUDMGR_HOST_DOWN_AFTER_SECONDS = 2
    first, second = hosts
    ha = OfferingFactory(name="m1.ha", vcpus=1, ram_mb=512, root_disk_gb=1, ha=True)
    protected, port = on(api, ha, qcow2_image, hosts, first, "protected")
    address, mac = address_of(port), port.mac_address
    first.process.process.send_signal(signal.SIGKILL)
    first.process.process.wait()
    wait_until(lambda: mark_silent_hosts_down() or first.host.state == Host.DOWN, 30, "the host down")

    response = admin_api.post(
        f"/api/v1/hosts/{first.host.pk}/fence/", {"confirm_powered_off": True}, format="json"
    )

    assert response.status_code == 200, response.content
    protected = wait_settled(protected.pk, "the evacuation")
    assert (protected.vm_state, protected.host_id) == ("active", second.host.pk)
    port.refresh_from_db()
    assert (port.host_id, port.arriving_host_id, port.mac_address, address_of(port)) == (
        second.host.pk,
        None,
        mac,
        address,
    )
    network_work_done()
    assert nic_of(second.guest(protected.pk)) == mac
    assert str(port.pk) in second.applied_ports()
    assert f"{mac},{address}" in second.dhcp_hosts(network)
    assert leased(lab, second.guest(protected.pk)) == address
    assert no_network_drift() == "0 difference(s) on 1 host(s)."


def migration_over(migration):
    return Migration.objects.filter(pk=migration.pk, status__in=("failed", "error", "done")).exists()


def lab_ping(guest, address):
    """A ping answered (a few tries: the first may wait for ARP across the wire)."""
    return any(ping(guest, address) for _ in range(3))
