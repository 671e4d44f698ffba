"""The real path: API -> transaction -> Celery over Redis -> agent process -> libvirt test:///default
-> signed report -> database, with two agents (two processes, two queues, two test drivers).

The controller is the test's live server (its agent endpoint included); the
agents enroll with one-time tokens, heartbeat, fetch the image from it and
report to it. Nothing in between is replaced.
"""

import uuid

import pytest
from django.conf import settings
from django.utils import timezone
from kombu import Connection

from agent import protocol
from agent.tests.builders import qcow2_bytes
from apps.compute.models import Instance
from apps.core.actor import Actor
from apps.core.tests.controllers import wait_until
from apps.images.tests.factories import active_image
from apps.infrastructure.models import Allocation, Host
from apps.infrastructure.services.heartbeats import mark_silent_hosts_down
from apps.infrastructure.tests.factories import ZoneFactory
from apps.jobs.models import Job
from apps.jobs.services import sweep_overdue
from apps.quotas import services as quotas
from cloudmgr.celery import app

from .agent_processes import AgentProcess, stop_all

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]

WAIT_SECONDS = 90


@pytest.fixture
def start_agents(live_server, tmp_path, signing_key, root):
    """start_agents(count, **agent_settings): enrolled agents, returned once each has heartbeated."""
    zone = ZoneFactory(name="zone-a")
    started = []

    def start(count, **agent_settings):
        batch = [
            AgentProcess(
                Actor.system("test"),
                f"e2e-{uuid.uuid4().hex[:10]}",
                zone,
                live_server.url,
                tmp_path,
                **agent_settings,
            )
            for _ in range(count)
        ]
        started.extend(batch)
        names = [a.name for a in batch]
        wait_until(
            lambda: Host.objects.filter(name__in=names, state=Host.UP).count() == count,
            WAIT_SECONDS,
            "the agents to heartbeat",
        )
        return batch

    yield start
    stop_all(started)


@pytest.fixture
def qcow2_image(project, tmp_path):
    return active_image(project, name="cirros-like", disk_format="qcow2", content=qcow2_bytes(tmp_path))


def settled(instance_id):
    return Instance.objects.filter(pk=instance_id, task_state__isnull=True).first()


def act(api, instance_id, action, body=None):
    if action == "delete":
        response = api.delete(f"/api/v1/instances/{instance_id}/")
    else:
        response = api.post(f"/api/v1/instances/{instance_id}/{action}/", body or {}, format="json")
    assert response.status_code == 202, response.content
    wait_until(lambda: settled(instance_id) is not None, WAIT_SECONDS, f"{action} to finish")
    job = Job.objects.get(pk=response.data["job_id"])
    assert job.state == "succeeded", (job.error_code, job.error_message)
    return settled(instance_id)


def test_two_agents_spawn_an_anti_affine_pair_and_carry_out_every_action(
    start_agents, api, project, offering, qcow2_image
):
    # Each agent offers 2 GiB: (2048 - 512) * 1.5 = 2304 MB, room for two 1 GiB instances.
    agents = start_agents(2, capacity_ram_mb=2048)
    image = qcow2_image
    group = api.post("/api/v1/affinity-groups/", {"name": "pair", "policy": "anti-affinity"}, format="json")
    body = {
        "name": "web",
        "offering_id": str(offering.id),
        "image_id": str(image.id),
        "affinity_group_id": group.data["id"],
    }
    ids = []
    for _ in range(2):
        response = api.post("/api/v1/instances/", body, format="json")
        assert response.status_code == 202, response.content
        ids.append(response.data["id"])
    for instance_id in ids:
        wait_until(lambda i=instance_id: settled(i) is not None, WAIT_SECONDS, "the spawns")
    instances = [settled(i) for i in ids]
    assert [(i.vm_state, i.power_state) for i in instances] == [("active", "running")] * 2, [
        (i.fault_code, i.fault_message) for i in instances
    ] + [a.log()[-3000:] for a in agents]
    assert {i.host.name for i in instances} == {a.name for a in agents}

    first = ids[0]
    console = api.post(f"/api/v1/instances/{first}/console-log/", {}, format="json")
    assert console.status_code == 200, console.content
    assert set(console.data) == {"job_id", "text", "size_bytes", "truncated"}
    for action, body, expected in [
        ("stop", {}, ("stopped", "shutoff")),
        ("start", {}, ("active", "running")),
        ("reboot", {}, ("active", "running")),
        ("reboot", {"type": "hard"}, ("active", "running")),
        ("pause", {}, ("paused", "paused")),
        ("unpause", {}, ("active", "running")),
        ("suspend", {}, ("suspended", "shutoff")),
        ("resume", {}, ("active", "running")),
        ("rebuild", {"image_id": str(image.id)}, ("active", "running")),
    ]:
        instance = act(api, first, action, body)
        assert (instance.vm_state, instance.power_state) == expected, action

    instance = act(api, first, "delete")
    assert (instance.vm_state, instance.host_id) == ("deleted", None)
    assert not Allocation.objects.filter(consumer_id=first).exists()
    assert quotas.usage_of(project)["instances"][1] == 1


def launch_and_wait(api, offering, image):
    body = {"name": "doomed", "offering_id": str(offering.id), "image_id": str(image.id)}
    response = api.post("/api/v1/instances/", body, format="json")
    assert response.status_code == 202, response.content
    wait_until(lambda: settled(response.data["id"]) is not None, WAIT_SECONDS, "the spawn to end")
    return settled(response.data["id"]), Job.objects.get(pk=response.data["job_id"])


CLAIMS = {"instances": 1, "vcpus": 1, "ram_mb": 1024}


def holds_its_claims(instance):
    return (
        Allocation.objects.filter(consumer_id=instance.pk).exists() and quotas.claimed_by(instance) == CLAIMS
    )


def finished_action(api, instance_id, action, body=None):
    """Start an action and return (instance, job) once it ended, whether it succeeded or not."""
    response = api.post(f"/api/v1/instances/{instance_id}/{action}/", body or {}, format="json")
    assert response.status_code == 202, response.content
    wait_until(lambda: settled(instance_id) is not None, WAIT_SECONDS, f"{action} to end")
    return settled(instance_id), Job.objects.get(pk=response.data["job_id"])


def leaves_no_trace(agent, instance_id, since):
    """The host reported, after `since`, no busy operation and no domain for the instance; no files remain."""
    host = Host.objects.get(name=agent.name)
    listed = {i["instance_id"] for i in (host.reported_inventory or {}).get("instances", [])}
    return (
        host.inventory_reported_at is not None
        and host.inventory_reported_at > since
        and host.stuck_operations == 0
        and str(instance_id) not in listed
        and not (agent.data_dir / "instances" / str(instance_id)).exists()
    )


def test_a_failed_spawn_leaves_nothing_on_the_host_and_its_instance_runs_again_only_with_its_claims(
    start_agents, api, project, offering, qcow2_image
):
    (agent,) = start_agents(1, driver="fake")
    agent.set_faults(start="fail")
    quotas.set_limit(Actor.system("test"), project, "instances", 1)

    instance, job = launch_and_wait(api, offering, qcow2_image)
    assert (instance.vm_state, job.state) == ("error", "failed"), agent.log()[-2000:]
    assert instance.fault_code == job.error_code == "hypervisor_error"
    assert holds_its_claims(instance)
    wait_until(lambda: leaves_no_trace(agent, instance.pk, job.finished_at), WAIT_SECONDS, "a clean host")
    second = api.post(
        "/api/v1/instances/",
        {"name": "second", "offering_id": str(offering.id), "image_id": str(qcow2_image.id)},
        format="json",
    )
    assert (second.status_code, second.data["error"]["code"]) == (409, "quota_exceeded")

    # Nothing on the host to power cycle: the hard reboot fails and the instance stays counted.
    instance, job = finished_action(api, instance.pk, "reboot", {"type": "hard"})
    assert (instance.vm_state, job.error_code) == ("error", "instance_not_found")
    assert holds_its_claims(instance)

    agent.set_faults()
    instance, job = finished_action(api, instance.pk, "rebuild", {"image_id": str(qcow2_image.id)})
    assert (instance.vm_state, instance.power_state, job.state) == ("active", "running", "succeeded")
    assert holds_its_claims(instance)
    assert quotas.usage_of(project)["instances"] == (1, 1)
    assert Host.objects.get(name=agent.name).ram_mb_used == 1024

    instance = act(api, instance.pk, "delete")
    assert not Allocation.objects.filter(consumer_id=instance.pk).exists()
    assert quotas.usage_of(project)["instances"] == (1, 0)


def test_a_spawn_past_its_deadline_keeps_its_claims_and_its_abandoned_thread_runs_no_guest(
    start_agents, api, project, offering, qcow2_image, settings
):
    (agent,) = start_agents(1, driver="fake")
    # The hypervisor takes the define and does not answer; the watchdog abandons the spawn.
    agent.set_faults(define="stall")
    settings.CLOUDMGR_SPAWN_DEADLINE_SECONDS = 8
    instance, job = launch_and_wait(api, offering, qcow2_image)
    assert (instance.vm_state, job.state, job.error_code) == ("error", "failed", "timeout"), agent.log()[
        -2000:
    ]
    assert holds_its_claims(instance)

    # It answers at last: the abandoned thread goes on, finds its deadline gone and removes the domain.
    answered_at = timezone.now()
    agent.set_faults()
    wait_until(lambda: leaves_no_trace(agent, instance.pk, answered_at), WAIT_SECONDS, "a clean host")
    instance.refresh_from_db()
    assert (instance.vm_state, instance.power_state) == ("error", "nostate")
    assert holds_its_claims(instance)


def test_a_spawn_that_reaches_the_host_after_its_instances_delete_does_nothing(
    start_agents, api, project, offering, qcow2_image
):
    (agent,) = start_agents(1, driver="fake")
    agent.halt()
    body = {"name": "late", "offering_id": str(offering.id), "image_id": str(qcow2_image.id)}
    response = api.post("/api/v1/instances/", body, format="json")
    assert response.status_code == 202, response.content
    instance_id, spawn_job = response.data["id"], response.data["job_id"]
    # The spawn is taken off the host's queue, to come back after the delete as a redelivery would.
    spawn = next_task(agent.name)
    assert api.delete(f"/api/v1/instances/{instance_id}/").status_code == 202

    agent.start()
    wait_until(lambda: settled(instance_id) is not None, WAIT_SECONDS, "the delete")
    assert (settled(instance_id).vm_state, quotas.usage_of(project)["instances"][1]) == ("deleted", 0)
    redelivered_at = timezone.now()
    app.send_task(spawn[0], args=[spawn[1]], queue=protocol.queue_for_host(agent.name), retry=False)

    wait_until(
        lambda: f"{spawn_job} failed: instance {instance_id} was deleted on this host" in agent.log(),
        WAIT_SECONDS,
        "the late spawn to be refused",
    )
    wait_until(lambda: leaves_no_trace(agent, instance_id, redelivered_at), WAIT_SECONDS, "a clean host")
    assert Instance.objects.get(pk=instance_id).vm_state == "deleted"
    assert not Allocation.objects.filter(consumer_id=instance_id).exists()


def next_task(host_name):
    """(task name, envelope) of the next message on the host's queue, taken off it."""
    with Connection(settings.CELERY_BROKER_URL) as connection:
        queue = connection.SimpleQueue(protocol.queue_for_host(host_name))
        message = queue.get(timeout=10)
        message.ack()
        args, _kwargs, _embed = message.decode()
        queue.close()
        return message.headers["task"], args[0]


def test_an_agent_killed_in_the_middle_of_a_spawn_leaves_the_job_failed_and_the_instance_in_error(
    start_agents, api, project, offering, qcow2_image, settings
):
    # The spawn hangs in the driver so the agent is surely inside it when it dies; it never
    # gets to abandon the spawn at the deadline itself, as the hung-spawn test above shows it would.
    (agent,) = start_agents(1, driver="fake", fake_faults="define:hang")
    settings.CLOUDMGR_SPAWN_DEADLINE_SECONDS = 12
    settings.CLOUDMGR_HOST_DOWN_AFTER_SECONDS = 2
    body = {"name": "orphaned", "offering_id": str(offering.id), "image_id": str(qcow2_image.id)}
    response = api.post("/api/v1/instances/", body, format="json")
    assert response.status_code == 202, response.content
    instance_id, job_id = response.data["id"], response.data["job_id"]
    wait_until(
        lambda: (
            Job.objects.filter(pk=job_id, state=Job.RUNNING).exists() and "hanging at define" in agent.log()
        ),
        WAIT_SECONDS,
        "the agent to be inside the spawn",
    )

    agent.process.kill()
    agent.process.wait()
    # What the controller's periodic work does, in the order production meets it: the silent
    # host is marked down long before a spawn's deadline (60 s against 1200 s by default).
    wait_until(lambda: mark_silent_hosts_down() == 1, WAIT_SECONDS, "the silent host to be marked down")
    job = Job.objects.get(pk=job_id)
    wait_until(lambda: timezone.now() > job.deadline, WAIT_SECONDS, "the spawn's deadline to pass")
    assert sweep_overdue() == 1
    assert sweep_overdue() == 0

    job.refresh_from_db()
    assert (job.state, job.error_code, job.finished_at is not None) == ("failed", "deadline_exceeded", True)
    assert api.get(f"/api/v1/jobs/{job_id}/").data["error"] == {
        "code": "deadline_exceeded",
        "message": job.error_message,
    }
    assert job.error_message
    instance = Instance.objects.get(pk=instance_id)
    assert (instance.vm_state, instance.task_state, instance.fault_code, instance.fault_message) == (
        "error",
        None,
        "deadline_exceeded",
        job.error_message,
    )
    # The host is down, so the guest may still run there: its claims stay until the host is
    # fenced or returns (DESIGN.md), and nothing was given back by the sweep.
    assert Host.objects.get(name=agent.name).state == Host.DOWN
    assert Allocation.objects.filter(consumer_id=instance_id).exists()
    assert quotas.claimed_by(instance) == {"instances": 1, "vcpus": 1, "ram_mb": 1024}
