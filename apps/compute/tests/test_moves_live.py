"""Live migration's orchestration and each of its failure steps, between two agents on the fake driver.

One machine cannot host two libvirtds that migrate to each other, and libvirt's
test driver cannot migrate: these agents run the fake driver, whose guests move
through a directory the two share (agent/drivers/fake.py). Everything else is
real: the controller (live server), the job over both hosts, the agents'
processes, their gateways and certificates. What the libvirt driver passes to
libvirt is tested with a recording connection (agent/tests/test_live_migration.py).
"""

import logging

import pytest

from apps.compute.models import Instance, Migration
from apps.core.tests.controllers import wait_until
from apps.infrastructure.models import Allocation
from apps.jobs.models import Job

from .moving import WAIT_SECONDS, host_of, launched_on, moved, no_instance_on_two_hosts, request
from .test_end_to_end import qcow2_image  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]


@pytest.fixture
def pair(cloud, api, offering, qcow2_image, tmp_path):  # noqa: F811
    """(source agent, destination agent, an active instance on the source)."""
    agents = cloud(2, driver="fake", fake_fabric_dir=tmp_path / "fabric", capacity_ram_mb=2048)
    instance = launched_on(api, offering, qcow2_image, agents, agents[0])
    return agents[0], agents[1], instance


def ended(migration_id):
    return Migration.objects.filter(pk=migration_id, status__in=("done", "failed", "error")).first()


def test_a_running_guest_migrates_live_reporting_progress_and_runs_on_the_destination(
    pair, admin_api, caplog
):
    caplog.set_level(logging.INFO, logger="apps.compute.move_hooks")
    source, destination, instance = pair
    source.set_faults(live_migrate="stall")
    job = request(admin_api, instance, "live-migrate", {"host_id": str(host_of(destination).pk)})
    wait_until(
        lambda: Job.objects.filter(pk=job.pk, step=1, progress=50).exists(),
        WAIT_SECONDS,
        "progress on the job",
    )
    assert Instance.objects.get(pk=instance.pk).task_state == "live-migrating"

    source.set_faults()
    wait_until(lambda: Instance.objects.get(pk=instance.pk).task_state is None, WAIT_SECONDS, "the migration")

    job.refresh_from_db()
    instance.refresh_from_db()
    assert job.state == "succeeded", (job.error_code, job.error_message)
    assert (instance.host_id, instance.vm_state, instance.power_state) == (
        host_of(destination).pk,
        "active",
        "running",
    )
    assert Migration.objects.get(instance=instance).status == "done"
    assert list(Allocation.objects.filter(consumer_id=instance.pk).values_list("host_id", flat=True)) == [
        host_of(destination).pk
    ]
    assert no_instance_on_two_hosts([source, destination]) == {str(instance.pk): destination.name}
    # The other apps hear of the move once, when the guest changed hosts, not again when the job ends.
    assert [r.getMessage() for r in caplog.records if "moved from" in r.getMessage()] == [
        f"instance {instance.pk} moved from {source.name} to {destination.name}"
    ]


@pytest.mark.parametrize(
    ("on", "fault"),
    [("destination", "accept_incoming"), ("source", "live_migrate")],
    ids=["the destination cannot prepare", "the migration fails"],
)
def test_a_failed_live_migration_leaves_the_guest_running_on_its_source_and_gives_the_destination_back(
    pair, admin_api, on, fault
):
    source, destination, instance = pair
    (destination if on == "destination" else source).set_faults(**{fault: "fail"})

    instance, job = moved(admin_api, instance, "live-migrate")

    assert (job.state, job.error_code) == ("failed", "hypervisor_error")
    assert (instance.host_id, instance.vm_state, instance.power_state) == (
        host_of(source).pk,
        "active",
        "running",
    )
    migration = Migration.objects.get(instance=instance)
    wait_until(lambda: ended(migration.pk), WAIT_SECONDS, "the destination to discard its copy")
    assert ended(migration.pk).status == "failed"
    assert not Allocation.objects.filter(consumer_id=migration.pk).exists()
    assert not (destination.data_dir / "instances" / str(instance.pk)).exists()
    assert no_instance_on_two_hosts([source, destination]) == {str(instance.pk): source.name}


def test_a_migration_that_does_not_finish_is_aborted_at_its_deadline_and_the_guest_runs_on_its_source(
    pair, admin_api, settings
):
    source, destination, instance = pair
    settings.CLOUDMGR_LIVE_MIGRATION_DEADLINE_SECONDS = 12
    source.set_faults(live_migrate="stall")

    instance, job = moved(admin_api, instance, "live-migrate")

    assert (job.state, job.error_code) == ("failed", "migration_aborted"), job.error_message
    assert (instance.host_id, instance.power_state) == (host_of(source).pk, "running")
    migration = Migration.objects.get(instance=instance)
    wait_until(lambda: ended(migration.pk), WAIT_SECONDS, "the destination to discard its copy")
    assert no_instance_on_two_hosts([source, destination]) == {str(instance.pk): source.name}


def test_a_guest_the_destination_cannot_confirm_stays_there_with_the_fault_said(pair, admin_api):
    source, destination, instance = pair
    destination.set_faults(finish_incoming="fail")

    instance, job = moved(admin_api, instance, "live-migrate")

    assert (job.state, job.step) == ("failed", 2)
    assert (instance.host_id, instance.vm_state) == (host_of(destination).pk, "active")
    assert instance.fault_code == "hypervisor_error"
    assert "host" not in instance.fault_message.replace("new host", "")
    assert not Allocation.objects.filter(consumer_id=instance.pk, host__name=source.name).exists()
    # libvirt undefined it on the source: whatever runs, runs there (the fake's guest stays in transit).
    assert no_instance_on_two_hosts([source, destination]).get(str(instance.pk)) != source.name
