"""The rules of moves, in one process: who may move what, what is refused, and that a refusal leaves nothing.

The hosts are rows (no agent): a move's job is recorded and its claims are
taken in the request's transaction; what the hosts do with it is tested with
real agents in test_moves_*.py.
"""

import pytest

from apps.compute import states
from apps.compute.host_audit import compare
from apps.compute.models import Migration
from apps.core.actor import Actor
from apps.infrastructure.models import Allocation, Host
from apps.jobs.models import Job
from apps.networks.host_state import desired_state
from apps.networks.services import host_networks
from apps.networks.tests.factories import PHYSNET, SYSTEM, network_node, nics_for, project_network, vlan_pool
from apps.quotas import services as quotas

from .factories import InstanceFactory, OfferingFactory, movable_host
from .test_lifecycle import spawned


@pytest.fixture
def hosts(zone):
    return [movable_host(name=f"kvm-{n}", zone=zone) for n in (1, 2)]


@pytest.fixture
def launched(api, offering, image, hosts):
    return spawned(api, offering, image)


def post(client, instance, action, body=None):
    return client.post(f"/api/v1/instances/{instance.pk}/{action}/", body or {}, format="json")


def snapshot(instance):
    return (instance.vm_state, instance.task_state, instance.offering_id, instance.ram_mb, instance.host_id)


def unchanged(instance, before):
    """As `before`, with no move recorded and only its own allocation on its host."""
    instance.refresh_from_db()
    return (
        snapshot(instance) == before
        and not Migration.objects.filter(instance=instance).exists()
        and list(Allocation.objects.values_list("consumer_id", flat=True)) == [instance.pk]
    )


def test_a_resize_past_the_quota_is_refused_and_leaves_nothing(api, project, launched):
    larger = OfferingFactory(name="m1.large", vcpus=2, ram_mb=2048, root_disk_gb=10)
    quotas.set_limit(Actor.system("test"), project, "ram_mb", 1536)
    before = snapshot(launched)

    response = post(api, launched, "resize", {"offering_id": str(larger.pk)})

    assert (response.status_code, response.data["error"]["code"]) == (409, "quota_exceeded")
    assert unchanged(launched, before)
    assert quotas.claimed_by(launched) == {"instances": 1, "vcpus": 1, "ram_mb": 1024}
    assert not Job.objects.filter(kind="compute.move.resize").exists()


@pytest.mark.parametrize(
    ("root", "ephemeral", "code"),
    [(5, 0, "cannot_shrink_disks"), (10, 0, "same_offering")],
    ids=["a smaller root disk", "the same offering"],
)
def test_a_resize_is_refused_for_smaller_disks_and_for_the_offering_it_has(
    api, launched, offering, root, ephemeral, code
):
    target = offering if code == "same_offering" else OfferingFactory(name="small", root_disk_gb=root)
    before = snapshot(launched)

    response = post(api, launched, "resize", {"offering_id": str(target.pk)})

    assert (response.status_code, response.data["error"]["code"]) == (400, code)
    assert unchanged(launched, before)


def test_a_resize_holds_the_larger_size_in_quota_and_both_hosts_until_it_ends(api, project, launched, hosts):
    larger = OfferingFactory(name="m1.large", vcpus=2, ram_mb=2048, root_disk_gb=10)

    response = post(api, launched, "resize", {"offering_id": str(larger.pk)})

    assert response.status_code == 202, response.content
    assert response.data["task_state"] == "resize-migrating"
    migration = Migration.objects.get(instance=launched)
    assert quotas.claimed_by(launched) == {"instances": 1, "vcpus": 2, "ram_mb": 2048}
    assert Allocation.objects.get(consumer_id=launched.pk).ram_mb == 1024
    assert Allocation.objects.get(consumer_id=migration.pk).ram_mb == 2048
    assert Job.objects.get(pk=response.data["job_id"]).queue == launched.host.queue


@pytest.mark.parametrize("action", ["migrate", "live-migrate", "evacuate"])
def test_tenants_do_not_move_instances_between_hosts(api, launched, action):
    response = post(api, launched, action)

    assert response.status_code == 403
    assert not Migration.objects.exists()


def test_a_host_whose_agent_cannot_move_refuses_and_a_chosen_host_must_be_able_to_receive(
    admin_api, launched, hosts
):
    other = hosts[1] if launched.host_id == hosts[0].pk else hosts[0]
    Host.objects.filter(pk=other.pk).update(transfer_port=0)

    refused = post(admin_api, launched, "migrate", {"host_id": str(other.pk)})
    assert (refused.status_code, refused.data["error"]["code"]) == (409, "no_valid_host")

    Host.objects.filter(pk=launched.host_id).update(protocol_version=1)
    refused = post(admin_api, launched, "migrate")
    assert (refused.status_code, refused.data["error"]["code"]) == (409, "host_cannot_move")
    assert not Migration.objects.exists()


def test_an_instance_that_is_moving_cannot_be_deleted_until_the_move_ends(api, admin_api, launched):
    assert post(admin_api, launched, "migrate").status_code == 202

    response = api.delete(f"/api/v1/instances/{launched.pk}/")

    assert (response.status_code, response.data["error"]["code"]) == (409, "instance_invalid_state")


def test_only_an_instance_of_a_fenced_host_is_evacuated(admin_api, launched):
    refused = post(admin_api, launched, "evacuate")
    assert (refused.status_code, refused.data["error"]["code"]) == (409, "instance_host_not_fenced")

    Host.objects.filter(pk=launched.host_id).update(state=Host.FENCED)
    response = post(admin_api, launched, "evacuate")

    assert response.status_code == 202, response.content
    launched.refresh_from_db()
    assert launched.task_state == "evacuating"
    assert list(Allocation.objects.filter(consumer_id=launched.pk).values_list("host_id", flat=True)) == [
        launched.host_id
    ]
    assert Migration.objects.get(instance=launched).source.state == Host.FENCED


def test_deleting_an_instance_of_a_fenced_host_needs_no_host_and_gives_everything_back(
    api, launched, project
):
    Host.objects.filter(pk=launched.host_id).update(state=Host.FENCED)

    response = api.delete(f"/api/v1/instances/{launched.pk}/")

    assert response.status_code == 202, response.content
    assert Job.objects.get(pk=response.data["job_id"]).state == "succeeded"
    launched.refresh_from_db()
    assert (launched.vm_state, launched.host_id) == ("deleted", None)
    assert not Allocation.objects.filter(consumer_id=launched.pk).exists()
    assert quotas.claimed_by(launched) == {}


def test_the_state_table_says_where_each_move_starts_and_ends():
    table = states.TRANSITIONS
    assert states.allows("resize", states.ACTIVE, None)
    assert states.allows("resize", states.STOPPED, None)
    assert not states.allows("resize", states.PAUSED, None)
    assert table["resize"].done == states.RESIZED
    assert states.allows("confirm_resize", states.RESIZED, None)
    assert states.allows("revert_resize", states.RESIZED, None)
    assert not states.allows("migrate", states.RESIZED, None)
    assert states.allows("live_migrate", states.ACTIVE, None)
    assert not states.allows("live_migrate", states.STOPPED, None)
    assert states.allows("evacuate", states.ERROR, None)
    for task in states.MOVE_TASKS:
        assert not states.allows("delete", states.ACTIVE, task)
    assert states.allows("delete", states.RESIZED, None)


def test_the_host_audit_expects_an_unfinished_moves_copies_and_nothing_else(api, admin_api, launched, hosts):
    assert post(admin_api, launched, "migrate").status_code == 202
    migration = Migration.objects.get(instance=launched)
    stray = InstanceFactory(host=migration.destination, vm_state=states.DELETED)
    listed = [
        {"instance_id": str(i), "domain_name": f"cloudmgr-{i}", "power_state": "shutoff", "reason": "unknown"}
        for i in (launched.pk, stray.pk)
    ]
    Host.objects.filter(pk=migration.destination_id).update(reported_inventory={"instances": listed})

    drift = compare(Host.objects.get(pk=migration.destination_id), [])

    assert [(d.kind, d.subject) for d in drift] == [("extra_domain", str(stray.pk))]


def test_an_instance_with_network_interfaces_moves_to_a_host_carrying_its_network_whose_state_gets_its_ports(
    admin_api, project, launched, hosts
):
    zone = launched.host.zone
    source = launched.host
    network_node(zone)
    vlan_pool(zone)
    [port] = nics_for(project, [{"network_id": project_network(project, zone).pk}], launched, source)
    host_networks.set_host_network(SYSTEM, source, physical_networks={PHYSNET: "eth1"})
    carrying = movable_host(name="kvm-3", zone=zone)
    host_networks.set_host_network(SYSTEM, carrying, physical_networks={PHYSNET: "eth1"})
    before = snapshot(launched)

    # A host that does not carry the network's physical network is no destination, even forced.
    lacking = next(host for host in hosts if host.pk != source.pk)
    forced = post(admin_api, launched, "migrate", {"host_id": str(lacking.pk), "force": True})
    assert (forced.status_code, forced.data["error"]["code"]) == (409, "no_valid_host")
    assert unchanged(launched, before)

    response = post(admin_api, launched, "migrate", {})

    assert response.status_code == 202, response.content
    migration = Migration.objects.get(instance=launched)
    assert migration.destination_id == carrying.pk
    port.refresh_from_db()
    # Bound to its source until the guest runs on the destination, and in the destination's state already.
    assert (port.host_id, port.arriving_host_id) == (source.pk, carrying.pk)
    assert [p.port_id for p in desired_state(carrying).ports] == [str(port.pk)]
    assert [p.port_id for p in desired_state(source).ports] == [str(port.pk)]
