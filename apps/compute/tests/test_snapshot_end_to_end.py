"""Snapshot through the real path: API -> Celery over Redis -> agent process -> libvirt test:///default
(the domain is suspended while qemu-img exports its overlay) -> signed PUT of the disk -> active image.

The failure path uses the fake driver, whose export step fails on demand.
"""

import pytest

from apps.core.tests.controllers import wait_until
from apps.images.models import Image
from apps.jobs.models import Job

from .test_end_to_end import (  # noqa: F401  (start_agents and qcow2_image are fixtures)
    WAIT_SECONDS,
    launch_and_wait,
    qcow2_image,
    start_agents,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]


def snapshot_and_wait(api, instance, name):
    response = api.post(f"/api/v1/instances/{instance.pk}/snapshot/", {"name": name}, format="json")
    assert response.status_code == 202, response.content
    job_id = response.data["job_id"]
    wait_until(lambda: Job.objects.get(pk=job_id).finished, WAIT_SECONDS, "the snapshot to finish")
    instance.refresh_from_db()
    return Image.objects.get(pk=response.data["image_id"]), Job.objects.get(pk=job_id)


def test_an_instance_on_the_libvirt_test_driver_is_snapshotted_into_an_active_image(
    start_agents,  # noqa: F811
    api,
    offering,
    qcow2_image,  # noqa: F811
):
    (agent,) = start_agents(1)
    instance, _ = launch_and_wait(api, offering, qcow2_image)
    assert instance.vm_state == "active", agent.log()[-2000:]
    image, job = snapshot_and_wait(api, instance, "golden")
    assert job.state == "succeeded", (job.error_code, job.error_message, agent.log()[-3000:])
    assert (image.status, image.disk_format, image.sha256, image.size_bytes) == (
        "active",
        "qcow2",
        job.result["sha256"],
        job.result["size_bytes"],
    )
    assert image.virtual_size_bytes == job.result["virtual_size_bytes"] == instance.root_disk_gb * 1024**3
    assert (instance.vm_state, instance.task_state, instance.power_state) == ("active", None, "running")
    # The snapshot launches like any image.
    copy, _ = launch_and_wait(api, offering, image)
    assert copy.vm_state == "active", (copy.fault_code, copy.fault_message)


def test_a_snapshot_the_host_cannot_export_kills_its_image(start_agents, api, offering, qcow2_image):  # noqa: F811
    (agent,) = start_agents(1, driver="fake", fake_faults="export_disk:fail")
    instance, _ = launch_and_wait(api, offering, qcow2_image)
    image, job = snapshot_and_wait(api, instance, "doomed")
    assert (job.state, image.status) == ("failed", "killed"), agent.log()[-2000:]
    assert job.error_code in image.status_reason
    assert (instance.vm_state, instance.task_state) == ("active", None)
