"""Cold migration between two real agents on test:///default: the disk really moves, and is checked.

The controller is the test's live server; two agent processes with their own
data directories, caches and hypervisors, TLS certificates from the
controller's CA; the disk goes from the source's transfer server to the
destination over mutual TLS with a ticket the controller signed.
"""

import pytest

from agent import qemu_img
from apps.compute.models import Migration
from apps.infrastructure.models import Allocation

from .moving import (
    host_of,
    launched_on,
    moved,
    no_instance_on_two_hosts,
    on_the_first_of_two,
    qemu_io,
    request,
)
from .test_end_to_end import qcow2_image  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]


def test_a_cold_migration_moves_the_disk_which_the_destination_checks_rebases_and_starts(
    cloud,
    api,
    admin_api,
    offering,
    qcow2_image,  # noqa: F811
):
    instance, source_agent, destination_agent = on_the_first_of_two(cloud, api, offering, qcow2_image)
    source, destination = host_of(source_agent), host_of(destination_agent)
    assert instance.host_id == source.pk
    # What the guest wrote, before the move: it must arrive.
    instance, _ = moved(api, instance, "stop")
    root = source_agent.data_dir / "instances" / str(instance.pk) / "root.qcow2"
    assert qemu_io(root, "write -P 0x5a 1M 2M")
    instance, _ = moved(api, instance, "start")

    instance, job = moved(admin_api, instance, "migrate", {"host_id": str(destination.pk)})

    assert job.state == "succeeded", (job.error_code, job.error_message)
    assert (instance.host_id, instance.vm_state, instance.power_state) == (
        destination.pk,
        "active",
        "running",
    )
    arrived = destination_agent.data_dir / "instances" / str(instance.pk) / "root.qcow2"
    assert qemu_io(arrived, "read -P 0x5a 1M 2M")
    assert qemu_img.info(arrived, "qcow2", force_share=True)["full-backing-filename"] == str(
        destination_agent.data_dir / "images" / qcow2_image.sha256
    )
    migration = Migration.objects.get(instance=instance)
    assert (migration.kind, migration.status, migration.source_id) == ("cold", "done", source.pk)
    assert [disk["name"] for disk in migration.handover["disks"]] == ["root.qcow2"]
    assert list(Allocation.objects.filter(consumer_id=instance.pk).values_list("host_id", flat=True)) == [
        destination.pk
    ]
    assert host_of(source_agent).ram_mb_used == 0
    assert no_instance_on_two_hosts([source_agent, destination_agent]) == {str(instance.pk): destination.name}
    assert not root.exists()


def test_a_chosen_host_must_pass_the_filters_unless_the_admin_forces_it(
    cloud,
    api,
    admin_api,
    offering,
    qcow2_image,  # noqa: F811
):
    first, second = cloud(2, capacity_ram_mb=2048)
    group = api.post("/api/v1/affinity-groups/", {"name": "apart", "policy": "anti-affinity"}, format="json")
    pair = [
        launched_on(api, offering, qcow2_image, [first, second], agent, affinity_group_id=group.data["id"])
        for agent in (first, second)
    ]
    onto_sibling = {"host_id": str(host_of(second).pk)}

    refused = request(admin_api, pair[0], "migrate", onto_sibling, status=409)
    assert refused.data["error"]["code"] == "no_valid_host"
    assert not Migration.objects.exists()
    # A tenant does not move its instances between hosts.
    request(api, pair[0], "migrate", onto_sibling, status=403)

    instance, job = moved(admin_api, pair[0], "migrate", {**onto_sibling, "force": True})
    assert job.state == "succeeded", (job.error_code, job.error_message)
    assert instance.host_id == host_of(second).pk
    assert len(no_instance_on_two_hosts([first, second])) == 2
