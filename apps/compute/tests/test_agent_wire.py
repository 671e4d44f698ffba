"""The wire to agents: signed tasks on the host's Redis queue after commit, and what hosts report back.

The agent side here is agent.protocol's signing through Django's test client
(apps/infrastructure/tests/agents.py); the tasks really go through Redis and are
read back from the queue with kombu, then verified as an agent verifies them.
"""

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu import Connection

from agent import protocol, signing
from apps.compute.models import Instance
from apps.conftest import login
from apps.images.tests.factories import active_image
from apps.infrastructure.hostwork.dispatch import redispatch_jobs
from apps.infrastructure.models import Allocation, Host
from apps.infrastructure.tests.agents import SignedAgent
from apps.jobs.models import Job
from apps.quotas import services as quotas

from .factories import InstanceFactory


class Queue:
    """The Redis queue of one host, read as an agent's worker would receive it."""

    def __init__(self, host_name):
        self.name = protocol.queue_for_host(host_name)
        self.connection = Connection(settings.CELERY_BROKER_URL)
        self.queue = self.connection.SimpleQueue(self.name)

    def next_task(self, timeout=10):
        message = self.queue.get(timeout=timeout)
        message.ack()
        args, _kwargs, _embed = message.decode()
        return message.headers["task"], args[0]

    def empty(self):
        try:
            self.queue.get_nowait()
        except self.queue.Empty:
            return True
        return False

    def close(self):
        self.queue.clear()
        self.queue.close()
        self.connection.close()


@pytest.fixture
def agent(root, signing_key):
    """An enrolled host that has sent its first heartbeat: up, with room, and a queue of its own."""
    signed = SignedAgent.enrolled(f"kvm-{uuid.uuid4().hex[:10]}")
    assert signed.heartbeat(cpus=8, ram_mb=16384).status_code == 200
    signed.queue = Queue(signed.name)
    yield signed
    signed.queue.close()


def launch(api, offering, image, capture):
    body = {"name": "web", "offering_id": str(offering.id), "image_id": str(image.id)}
    with capture(execute=True):
        response = api.post("/api/v1/instances/", body, format="json")
    assert response.status_code == 202, response.content
    return Instance.objects.get(pk=response.data["id"]), Job.objects.get(pk=response.data["job_id"])


def test_a_launch_sends_a_signed_spawn_task_to_the_hosts_queue_after_commit(
    agent,
    api,
    offering,
    image,
    signing_key,
    django_capture_on_commit_callbacks,
):
    instance, job = launch(api, offering, image, django_capture_on_commit_callbacks)
    name, envelope = agent.queue.next_task()
    verified = signing.verify_task(
        envelope, public_keys=[signing.public_key_b64(signing_key)], host=agent.name, task=name
    )
    assert (verified.task, verified.task_id) == (protocol.SPAWN_INSTANCE, str(job.pk))
    assert verified.expires_at == int(job.deadline.timestamp())
    spec = verified.payload.instance
    assert (spec.instance_id, spec.vcpus, spec.ram_mb, spec.root_disk_mb) == (
        str(instance.pk),
        1,
        1024,
        10240,
    )
    assert (spec.image.image_id, spec.image.sha256) == (str(image.pk), image.sha256)
    job.refresh_from_db()
    assert job.dispatched_at is not None
    with pytest.raises(protocol.TaskRefused) as refused:
        signing.verify_task(envelope, public_keys=[signing.public_key_b64(signing_key)], host="kvm-other")
    assert refused.value.code == "wrong_host"


def test_nothing_is_sent_for_a_launch_that_rolled_back(
    agent, api, offering, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post(
            "/api/v1/instances/",
            {"name": "web", "offering_id": str(offering.id), "image_id": str(uuid.uuid4())},
            format="json",
        )
    assert response.status_code == 400
    assert callbacks == []
    assert agent.queue.empty()


def test_the_periodic_dispatcher_sends_a_job_the_broker_did_not_take(agent, project, offering, image):
    """A job recorded but never handed over (the broker was down at commit) goes out on the next round."""
    instance = InstanceFactory(project=project, host=Host.objects.get(name=agent.name), image=image)
    job = Job.objects.create(
        kind="compute.instance.stop",
        queue=protocol.queue_for_host(agent.name),
        payload={"instance_id": str(instance.pk), "action": "stop", "graceful_timeout_seconds": 5},
        deadline=timezone.now() + timedelta(minutes=5),
    )
    assert redispatch_jobs() == 0  # too fresh: its own send after commit may still be under way
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    assert redispatch_jobs() == 1
    name, envelope = agent.queue.next_task()
    assert (name, envelope["payload"]) == (
        protocol.STOP_INSTANCE,
        {"instance_id": str(instance.pk), "graceful_timeout_seconds": 5},
    )
    assert redispatch_jobs() == 0


def instance_result(instance, power_state="running"):
    status = protocol.DomainStatus(
        instance_id=str(instance.pk), domain_name=f"cloudmgr-{instance.pk}", power_state=power_state
    )
    return protocol.InstanceResult(instance=status).to_dict()


def test_running_progress_and_success_reports_carry_the_instance_to_active(
    agent, api, offering, image, django_capture_on_commit_callbacks
):
    instance, job = launch(api, offering, image, django_capture_on_commit_callbacks)
    task = protocol.SPAWN_INSTANCE
    assert agent.report(job, task, "running").status_code == 200
    assert agent.report(job, task, "progress", progress=40).status_code == 200
    job.refresh_from_db()
    assert (job.state, job.progress) == ("running", 40)
    assert agent.report(job, task, "succeeded", result=instance_result(instance)).status_code == 200
    job.refresh_from_db()
    instance.refresh_from_db()
    assert (job.state, instance.vm_state, instance.task_state, instance.power_state) == (
        "succeeded",
        "active",
        None,
        "running",
    )
    # A redelivered task reports again: nothing changes twice.
    assert agent.report(job, task, "succeeded", result=instance_result(instance)).status_code == 200


def test_a_failed_spawn_report_fails_the_job_and_the_instance_in_error_keeps_its_claims(
    agent, api, project, offering, image, django_capture_on_commit_callbacks
):
    instance, job = launch(api, offering, image, django_capture_on_commit_callbacks)
    response = agent.report(job, protocol.SPAWN_INSTANCE, "failed", error=("image_fetch_failed", "HTTP 404"))
    assert response.status_code == 200
    job.refresh_from_db()
    instance.refresh_from_db()
    assert (job.state, job.error_code) == ("failed", "image_fetch_failed")
    assert (instance.vm_state, instance.fault_message) == ("error", "HTTP 404")
    assert Allocation.objects.filter(consumer_id=instance.pk).exists()
    assert quotas.usage_of(project)["instances"][1] == 1


def test_a_host_cannot_report_on_another_hosts_task_or_instance(
    agent, api, offering, image, django_capture_on_commit_callbacks
):
    instance, job = launch(api, offering, image, django_capture_on_commit_callbacks)
    other = SignedAgent.enrolled("kvm-intruder")
    response = other.report(job, protocol.SPAWN_INSTANCE, "succeeded", result=instance_result(instance))
    assert (response.status_code, response.json()["error"]["code"]) == (409, "not_this_hosts_task")
    wrong_task = agent.report(job, protocol.DELETE_INSTANCE, "running")
    assert wrong_task.status_code == 409
    someone_else = InstanceFactory()
    about_other = agent.report(
        job, protocol.SPAWN_INSTANCE, "succeeded", result=instance_result(someone_else)
    )
    assert about_other.status_code == 409
    job.refresh_from_db()
    instance.refresh_from_db()
    assert (job.state, instance.vm_state) == ("pending", "building")


def test_a_report_on_a_real_task_signed_with_another_key_is_refused_and_changes_nothing(
    agent, api, offering, image, django_capture_on_commit_callbacks
):
    instance, job = launch(api, offering, image, django_capture_on_commit_callbacks)
    impostor = SignedAgent(agent.name)
    response = impostor.report(job, protocol.SPAWN_INSTANCE, "succeeded", result=instance_result(instance))
    assert (response.status_code, response.json()["error"]["code"]) == (401, "agent_bad_signature")
    job.refresh_from_db()
    assert job.state == "pending"


def test_a_progress_report_reads_its_host_and_job_in_one_statement(
    agent, api, offering, image, django_capture_on_commit_callbacks
):
    _, job = launch(api, offering, image, django_capture_on_commit_callbacks)
    assert agent.report(job, protocol.SPAWN_INSTANCE, "running").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert agent.report(job, protocol.SPAWN_INSTANCE, "progress", progress=50).status_code == 200
    # The read of host and job, which also remembers the nonce in PostgreSQL, then the progress update.
    assert [q["sql"].split()[0] for q in queries] == ["WITH", "UPDATE"], [q["sql"] for q in queries]
    assert "identity_apikeynonce" in queries[0]["sql"]


def test_a_guest_that_shut_itself_down_becomes_stopped_and_other_hosts_instances_are_ignored(agent, project):
    host = Host.objects.get(name=agent.name)
    mine = InstanceFactory(project=project, host=host)
    crashed = InstanceFactory(project=project, host=host)
    elsewhere = InstanceFactory(project=project)
    # At rest since before the host listed its domains (a listing older than a change is not believed).
    Instance.objects.update(updated_at=timezone.now() - timedelta(seconds=10))
    statuses = [
        protocol.DomainStatus(str(mine.pk), "d1", "shutoff", reason="shutdown"),
        protocol.DomainStatus(str(crashed.pk), "d2", "shutoff", reason="crashed"),
        protocol.DomainStatus(str(elsewhere.pk), "d3", "shutoff", reason="shutdown"),
    ]
    assert agent.heartbeat(instances=statuses).status_code == 200
    states = dict(Instance.objects.values_list("pk", "vm_state"))
    assert (states[mine.pk], states[crashed.pk], states[elsewhere.pk]) == ("stopped", "active", "active")
    assert Instance.objects.get(pk=crashed.pk).power_state == "shutoff"
    assert Instance.objects.get(pk=elsewhere.pk).power_state == "running"


def test_a_listing_taken_during_a_task_or_before_a_change_does_not_overwrite_the_power_state(agent, project):
    host = Host.objects.get(name=agent.name)
    busy = InstanceFactory(project=project, host=host, task_state="image-snapshot")
    changed = InstanceFactory(project=project, host=host)
    Instance.objects.filter(pk=busy.pk).update(updated_at=timezone.now() - timedelta(seconds=10))
    Instance.objects.filter(pk=changed.pk).update(updated_at=timezone.now() + timedelta(seconds=10))
    statuses = [
        protocol.DomainStatus(str(busy.pk), "d1", "paused"),
        protocol.DomainStatus(str(changed.pk), "d2", "shutoff", reason="shutdown"),
    ]
    assert agent.heartbeat(instances=statuses).status_code == 200
    shown = dict(Instance.objects.values_list("pk", "power_state"))
    assert (shown[busy.pk], shown[changed.pk]) == ("running", "running")
    assert Instance.objects.get(pk=changed.pk).vm_state == "active"


def test_a_host_fetches_the_images_of_its_instances_and_no_others(agent, project, image, root):
    host = Host.objects.get(name=agent.name)
    InstanceFactory(project=project, host=host, image=image)
    unused = active_image(project, name="unused", content=b"other bytes")
    response = agent.get(protocol.image_data_path(image.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"cloudmgr test image data\n"
    assert agent.get(protocol.image_data_path(unused.pk)).status_code == 404


def test_the_image_path_answers_api_clients_like_the_image_api(project, member, image, root):
    assert login(member).get(protocol.image_data_path(image.pk)).status_code == 200


def test_a_console_log_request_becomes_a_job_whose_result_is_the_text(
    agent, api, offering, image, django_capture_on_commit_callbacks
):
    instance, spawn = launch(api, offering, image, django_capture_on_commit_callbacks)
    agent.report(spawn, protocol.SPAWN_INSTANCE, "succeeded", result=instance_result(instance))
    # Not dispatched here (the test's transaction never commits), so the API does not wait for it.
    response = api.post(f"/api/v1/instances/{instance.pk}/console-log/", {"max_bytes": 100}, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.data["job_id"])
    assert job.payload == {"instance_id": str(instance.pk), "action": "console_log", "max_bytes": 100}
    text = protocol.ConsoleLogResult(text="login: ", size_bytes=7, truncated=False).to_dict()
    assert agent.report(job, protocol.CONSOLE_LOG, "succeeded", result=text).status_code == 200
    assert api.get(f"/api/v1/jobs/{job.pk}/").data["result"] == text
    instance.refresh_from_db()
    assert (instance.vm_state, instance.task_state) == ("active", None)
