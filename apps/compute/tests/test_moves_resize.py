"""Resize between two real agents on test:///default: `resized`, then confirmed or reverted.

While a resize lasts, both hosts hold the instance (the destination at the new
size under the move's id, the source at the old size under the instance's), and
its quota is the larger of the two sizes; a revert needs no room on the source,
since the source never gave it up.
"""

import pytest

from apps.compute.models import Migration
from apps.infrastructure.models import Allocation
from apps.metering.models import UsageEvent
from apps.quotas import services as quotas

from .factories import OfferingFactory
from .moving import host_of, launch, moved, no_instance_on_two_hosts, on_the_first_of_two
from .test_end_to_end import qcow2_image  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]


@pytest.fixture
def large(root):
    return OfferingFactory(name="m1.large", vcpus=2, ram_mb=1536, root_disk_gb=12)


def held(instance_or_migration):
    return sorted(
        (allocation.host.name, allocation.ram_mb)
        for allocation in Allocation.objects.filter(consumer_id=instance_or_migration.pk).select_related(
            "host"
        )
    )


def metered(instance):
    """The usage events metering recorded for the instance, oldest first: (event, offering)."""
    events = UsageEvent.objects.filter(resource_id=instance.pk).order_by("occurred_at", "id")
    return [(event.event_type, event.offering_id) for event in events]


def quota(project):
    usage = quotas.usage_of(project)
    return usage["vcpus"][1], usage["ram_mb"][1]


@pytest.fixture
def resized(cloud, api, offering, large, qcow2_image):  # noqa: F811
    """An instance launched on the first of two agents, then resized to `large`: (instance, its job, the
    source agent, the destination agent). Each host offers (2048 - 512) * 1.5 = 2304 MB: the two sizes
    cannot share one."""
    instance, source_agent, destination_agent = on_the_first_of_two(cloud, api, offering, qcow2_image)
    instance, job = moved(api, instance, "resize", {"offering_id": str(large.pk)})
    return instance, job, source_agent, destination_agent


def test_a_resize_rests_in_resized_holding_both_hosts_then_a_confirm_keeps_the_new_size(
    resized, api, project, large
):
    instance, job, source_agent, destination_agent = resized

    assert job.state == "succeeded", (job.error_code, job.error_message)
    assert (instance.vm_state, instance.power_state, instance.offering_id) == ("resized", "running", large.pk)
    assert (instance.vcpus, instance.ram_mb, instance.root_disk_gb) == (2, 1536, 12)
    migration = Migration.objects.get(instance=instance)
    assert instance.host.name == destination_agent.name
    assert held(instance) == [(source_agent.name, 1024)]
    assert held(migration) == [(destination_agent.name, 1536)]
    assert quota(project) == (2, 1536)
    assert metered(instance)[-1] == ("running", large.pk)
    response = api.get(f"/api/v1/instances/{instance.pk}/")
    assert (response.data["vm_state"], response.data["host_name"]) == ("resized", None)

    instance, job = moved(api, instance, "confirm-resize")

    assert job.state == "succeeded", (job.error_code, job.error_message)
    assert (instance.vm_state, instance.previous_offering_id) == ("active", None)
    assert held(instance) == [(destination_agent.name, 1536)]
    assert held(migration) == []
    assert quota(project) == (2, 1536)
    assert host_of(source_agent).ram_mb_used == 0
    assert Migration.objects.get(pk=migration.pk).status == "done"
    assert metered(instance)[-2:] == [("running", large.pk), ("running", large.pk)]
    assert no_instance_on_two_hosts([source_agent, destination_agent]) == {
        str(instance.pk): destination_agent.name
    }


def test_a_revert_runs_the_old_copy_again_on_its_source_even_when_the_source_filled_up_meanwhile(
    resized,
    api,
    project,
    offering,
    large,
    qcow2_image,  # noqa: F811
):
    instance, _, source_agent, destination_agent = resized
    assert instance.vm_state == "resized", (instance.fault_code, instance.fault_message)
    filler = launch(api, offering, qcow2_image, name="filler")
    source = host_of(source_agent)
    assert filler.host_id == source.pk
    assert source.ram_mb_limit - source.ram_mb_used < offering.ram_mb

    instance, job = moved(api, instance, "revert-resize")

    assert job.state == "succeeded", (job.error_code, job.error_message)
    assert (instance.vm_state, instance.power_state, instance.host_id) == ("active", "running", source.pk)
    assert (instance.offering_id, instance.ram_mb, instance.previous_offering_id) == (offering.pk, 1024, None)
    assert held(instance) == [(source_agent.name, 1024)]
    assert host_of(destination_agent).ram_mb_used == 0
    assert quota(project) == (2, 2048)
    assert Migration.objects.get(instance=instance).status == "reverted"
    assert metered(instance)[-2:] == [("running", large.pk), ("running", offering.pk)]
    where = no_instance_on_two_hosts([source_agent, destination_agent])
    assert where == {str(instance.pk): source_agent.name, str(filler.pk): source_agent.name}


def test_a_resize_stays_on_its_host_when_both_sizes_fit_there_and_the_quota_holds_the_larger(
    cloud,
    api,
    project,
    offering,
    large,
    qcow2_image,  # noqa: F811
):
    (agent,) = cloud(1, capacity_ram_mb=4096)
    instance = launch(api, large, qcow2_image)
    bigger_disk = OfferingFactory(name="m1.lean", vcpus=1, ram_mb=512, root_disk_gb=12)

    instance, job = moved(api, instance, "resize", {"offering_id": str(bigger_disk.pk)})

    assert job.state == "succeeded", (job.error_code, job.error_message)
    assert (instance.vm_state, instance.host.name) == ("resized", agent.name)
    migration = Migration.objects.get(instance=instance)
    assert held(instance) == [(agent.name, 1536)]
    assert held(migration) == [(agent.name, 512)]
    assert quota(project) == (2, 1536)

    instance, _ = moved(api, instance, "confirm-resize")

    assert (instance.vm_state, instance.ram_mb) == ("active", 512)
    assert held(instance) == [(agent.name, 512)]
    assert quota(project) == (1, 512)
    assert (agent.data_dir / "instances" / str(instance.pk) / "root.qcow2").exists()
    assert not any((agent.data_dir / "migrations").iterdir())
    assert no_instance_on_two_hosts([agent]) == {str(instance.pk): agent.name}
