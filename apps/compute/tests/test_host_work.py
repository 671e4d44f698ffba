"""Instance actions and image prefetch on the one host-work layer: sent, re-sent and matched alike.

Each test here failed before the layer existed, where the two paths disagreed:
a prefetch the broker refused failed at once and one lost in a crash was never
sent again (instance jobs were sent again); a job kind was matched by its prefix;
host kinds were registered as controller jobs whose runner only raised.
"""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from agent import protocol, signing
from apps.compute.host_work import INSTANCE_ACTIONS
from apps.compute.interfaces import INTERFACE_ACTIONS
from apps.compute.moves.work import MOVE_KINDS
from apps.compute.prefetch import PREFETCH_JOB, prefetch_image
from apps.core.actor import Actor
from apps.identity.tests.factories import PASSWORD
from apps.images.tests.factories import active_image
from apps.infrastructure.hostwork.dispatch import redispatch_jobs
from apps.infrastructure.hostwork.kinds import host_kinds, work_for
from apps.infrastructure.models import Host
from apps.infrastructure.tests.agents import SignedAgent
from apps.jobs.models import Job
from apps.jobs.registry import handler_for

from .factories import InstanceFactory
from .test_agent_wire import Queue, agent  # noqa: F401  (a fixture: an enrolled host with its queue)

HOST_KINDS = [
    *(f"compute.instance.{action}" for action in INSTANCE_ACTIONS),
    PREFETCH_JOB,
    *(work.kind for work in (*MOVE_KINDS, *INTERFACE_ACTIONS)),
    "networks.host.sync",
    "networks.host.audit",
]


def age(job):
    """As if its send after commit had had all the time it needs."""
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=1))


def test_a_prefetch_lost_when_its_controller_died_after_the_commit_is_sent_by_the_periodic_dispatcher(
    agent,  # noqa: F811
    project,
    root,
):
    image = active_image(project, name="warm-me")
    # This test's transaction never commits, so the send after commit never happens: as after a crash.
    (job,) = prefetch_image(Actor.system("test"), image, [Host.objects.get(name=agent.name)])
    age(job)

    assert redispatch_jobs() == 1
    name, envelope = agent.queue.next_task()
    assert (name, envelope["task_id"], envelope["payload"]["image"]["image_id"]) == (
        protocol.PREFETCH_IMAGE,
        str(job.pk),
        str(image.pk),
    )
    job.refresh_from_db()
    assert (job.state, job.dispatched_at is not None) == ("pending", True)
    assert redispatch_jobs() == 0


@pytest.mark.processes
def test_a_prefetch_the_broker_refused_waits_for_the_periodic_dispatcher_instead_of_failing(
    start_controller, signing_key, cloud_admin, project
):
    host_agent = SignedAgent.enrolled(f"kvm-{uuid.uuid4().hex[:10]}")
    assert host_agent.heartbeat().status_code == 200
    image = active_image(project, name="warm-me")
    # A controller whose broker takes nothing (nobody listens on port 9).
    controller = start_controller(
        "brokerless",
        environment={
            "CLOUDMGR_BROKER_URL": "redis://127.0.0.1:9/0",
            "CLOUDMGR_TASK_SIGNING_KEY": signing.private_key_to_pem(signing_key).decode(),
        },
    )
    token = controller.login(cloud_admin.username, PASSWORD)
    host = Host.objects.get(name=host_agent.name)
    status, body = controller.request(
        "POST",
        "/api/v1/image-prefetches/",
        {"image_id": str(image.pk), "host_ids": [str(host.pk)]},
        token=token,
    )
    assert status == 202, body
    job = Job.objects.get(pk=body[0]["job_id"])
    assert (job.state, job.dispatched_at) == ("pending", None)

    queue = Queue(host_agent.name)
    try:
        age(job)
        assert redispatch_jobs() == 1
        name, envelope = queue.next_task()
        assert (name, envelope["task_id"]) == (protocol.PREFETCH_IMAGE, str(job.pk))
    finally:
        queue.close()


def test_a_job_whose_kind_only_begins_like_an_instance_actions_is_neither_sent_nor_accepted(
    agent,  # noqa: F811
    project,
):
    instance = InstanceFactory(project=project, host=Host.objects.get(name=agent.name))
    job = Job.objects.create(
        kind="compute.instance.stopped",
        queue=protocol.queue_for_host(agent.name),
        payload={"instance_id": str(instance.pk), "action": "stopped"},
        deadline=timezone.now() + timedelta(minutes=5),
    )
    age(job)

    assert redispatch_jobs() == 0
    assert agent.queue.empty()
    response = agent.report(job, protocol.STOP_INSTANCE, "running")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "not_this_hosts_task")
    job.refresh_from_db()
    assert job.state == "pending"


def test_host_kinds_are_settled_by_the_controller_but_never_run_by_its_workers(db):
    for kind in HOST_KINDS:
        handler = handler_for(kind)
        assert handler is not None, kind
        assert handler.run is None, kind
        assert handler.settle is not None, kind


def test_every_task_the_controller_sends_an_agent_is_declared_by_a_kind_of_host_work(db):
    declared = {step.task for kind in host_kinds() for step in work_for(kind).steps}
    # The inventory task is the agent's own audit listing; the controller reads heartbeats instead.
    assert declared == set(protocol.TASK_NAMES) - {protocol.INVENTORY}
    assert {kind for kind in host_kinds() if not kind.startswith("tests.")} == set(HOST_KINDS)
