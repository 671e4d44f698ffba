"""Snapshot of an instance to an image: the API, the state and the job, and the host's signed upload.

The host side is agent.protocol's signing through Django's test client
(apps/infrastructure/tests/agents.py), as in test_agent_wire; the same path
through a real agent process is in test_snapshot_end_to_end.
"""

import hashlib

import pytest

from agent import protocol, signing
from agent.tests.builders import qcow2_bytes
from apps.compute import states
from apps.compute.models import Instance
from apps.compute.tests.factories import InstanceFactory
from apps.core.actor import Actor
from apps.images.models import Image
from apps.infrastructure.tests.agents import SignedAgent
from apps.jobs.models import Job
from apps.quotas import services as quotas

from .test_agent_wire import agent, instance_result, launch  # noqa: F401  (agent is a fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(agent, api, offering, image, django_capture_on_commit_callbacks):  # noqa: F811
    """An active instance on `agent`'s host."""
    instance, job = launch(api, offering, image, django_capture_on_commit_callbacks)
    assert (
        agent.report(job, protocol.SPAWN_INSTANCE, "succeeded", result=instance_result(instance)).status_code
        == 200
    )
    instance.refresh_from_db()
    return instance


def start_snapshot(api, instance, capture, name="nightly"):
    with capture(execute=True):
        response = api.post(f"/api/v1/instances/{instance.pk}/snapshot/", {"name": name}, format="json")
    assert response.status_code == 202, response.content
    return Image.objects.get(pk=response.data["image_id"]), Job.objects.get(pk=response.data["job_id"])


def put_data(host, image, body, *, signed_body=None):
    """PUT `body` as the image's data, signed by `host` (over `signed_body` when given: a lie)."""
    path = protocol.image_data_path(image.pk)
    headers = signing.sign_request(
        host.key, host=host.name, method="PUT", path=path, body=body if signed_body is None else signed_body
    )
    return host.client.generic("PUT", path, body, content_type="application/octet-stream", headers=headers)


def snapshot_result(image, body):
    return protocol.SnapshotResult(
        image_id=str(image.pk),
        sha256=hashlib.sha256(body).hexdigest(),
        size_bytes=len(body),
        virtual_size_bytes=16 * 1024 * 1024,
    ).to_dict()


def test_a_snapshot_records_a_queued_image_and_sends_its_id_to_the_instances_host(
    signing_key,
    agent,  # noqa: F811
    api,
    project,
    running,
    django_capture_on_commit_callbacks,
):
    images_before = quotas.usage_of(project)["images"][1]
    image, job = start_snapshot(api, running, django_capture_on_commit_callbacks)
    running.refresh_from_db()
    assert (running.vm_state, running.task_state) == ("active", "image-snapshot")
    assert (image.status, image.disk_format, image.owner_id, image.min_disk_gb) == (
        "queued",
        "qcow2",
        project.pk,
        running.root_disk_gb,
    )
    assert quotas.usage_of(project)["images"][1] == images_before + 1
    assert job.payload == {"instance_id": str(running.pk), "action": "snapshot", "image_id": str(image.pk)}
    assert agent.queue.next_task()[0] == protocol.SPAWN_INSTANCE
    name, envelope = agent.queue.next_task()
    verified = signing.verify_task(
        envelope, public_keys=[signing.public_key_b64(signing_key)], host=agent.name, task=name
    )
    assert (verified.task, verified.task_id) == (protocol.SNAPSHOT_INSTANCE, str(job.pk))
    assert (verified.payload.instance_id, verified.payload.image_id) == (str(running.pk), str(image.pk))


def test_the_hosts_upload_makes_the_image_active_and_its_report_ends_the_snapshot(
    agent,  # noqa: F811
    api,
    project,
    running,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    image, job = start_snapshot(api, running, django_capture_on_commit_callbacks)
    body = qcow2_bytes(tmp_path)
    response = put_data(agent, image, body)
    assert response.status_code == 200, response.content
    image.refresh_from_db()
    assert (image.status, image.sha256, image.size_bytes) == (
        "active",
        hashlib.sha256(body).hexdigest(),
        len(body),
    )
    assert quotas.usage_of(project)["image_storage_gb"][1] >= 1
    report = agent.report(job, protocol.SNAPSHOT_INSTANCE, "succeeded", result=snapshot_result(image, body))
    assert report.status_code == 200
    running.refresh_from_db()
    assert (running.vm_state, running.task_state) == ("active", None)
    # The snapshot is over: the host may not write the image again.
    assert put_data(agent, image, body).status_code == 404


def test_only_the_instances_own_host_may_upload_and_only_with_the_body_it_signed(
    agent,  # noqa: F811
    api,
    running,
    tmp_path,
    image,
    django_capture_on_commit_callbacks,
):
    snapshot, _ = start_snapshot(api, running, django_capture_on_commit_callbacks)
    body = qcow2_bytes(tmp_path)
    intruder = SignedAgent.enrolled("kvm-intruder")
    assert put_data(intruder, snapshot, body).status_code == 404
    unsigned = agent.client.generic(
        "PUT", protocol.image_data_path(snapshot.pk), body, content_type="application/octet-stream"
    )
    assert unsigned.status_code == 401
    # The image the instance was launched from is readable by the host, not writable.
    assert put_data(agent, image, body).status_code == 404
    snapshot.refresh_from_db()
    assert snapshot.status == "queued"
    tampered = put_data(agent, snapshot, body[:-1] + bytes([body[-1] ^ 1]), signed_body=body)
    assert (tampered.status_code, tampered.json()["error"]["code"]) == (400, "body_hash_mismatch")
    snapshot.refresh_from_db()
    assert snapshot.status == "killed"


def test_a_failed_snapshot_kills_its_image_and_leaves_the_instance_as_it_was(
    agent,  # noqa: F811
    api,
    running,
    django_capture_on_commit_callbacks,
):
    image, job = start_snapshot(api, running, django_capture_on_commit_callbacks)
    error = (protocol.ERR_UPLOAD_FAILED, "the controller went away")
    assert agent.report(job, protocol.SNAPSHOT_INSTANCE, "failed", error=error).status_code == 200
    image.refresh_from_db()
    running.refresh_from_db()
    assert image.status == "killed"
    assert "the controller went away" in image.status_reason
    assert (running.vm_state, running.task_state) == ("active", None)


def test_an_instance_still_building_cannot_be_snapshotted_and_no_image_is_left(
    agent,  # noqa: F811
    api,
    project,
    offering,
    image,
    django_capture_on_commit_callbacks,
):
    building, _ = launch(api, offering, image, django_capture_on_commit_callbacks)
    images_before = Image.objects.count()
    response = api.post(f"/api/v1/instances/{building.pk}/snapshot/", {"name": "early"}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "instance_invalid_state")
    assert Image.objects.count() == images_before
    assert Instance.objects.get(pk=building.pk).task_state == "spawning"


def test_a_snapshot_over_the_images_quota_is_refused_and_leaves_the_instance_idle(
    agent,  # noqa: F811
    api,
    project,
    running,
    root,
):
    quotas.set_limit(Actor.system("test"), project, "images", quotas.usage_of(project)["images"][1])
    images_before = Image.objects.count()
    response = api.post(f"/api/v1/instances/{running.pk}/snapshot/", {"name": "one-too-many"}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "quota_exceeded")
    assert Image.objects.count() == images_before
    running.refresh_from_db()
    assert (running.vm_state, running.task_state) == ("active", None)


def test_an_instance_whose_image_was_purged_can_still_be_snapshotted(api, project):
    instance = InstanceFactory(project=project, vm_state=states.ACTIVE, image=None)
    response = api.post(f"/api/v1/instances/{instance.pk}/snapshot/", {"name": "orphan-snap"}, format="json")
    assert response.status_code == 202, response.content
    image = Image.objects.get(pk=response.data["image_id"])
    assert (image.name, image.kernel_id, image.status) == ("orphan-snap", None, "queued")
