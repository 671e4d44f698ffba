"""One controller job driving tasks on two hosts in order, then settling: the shape of a cold migration.

Through the real wire: two agent processes on libvirt's test:///default, Redis,
and real controller processes serving the agents (with the test-only kind of
two_host_work.py loaded). A host is held still with SIGSTOP where a test needs a
step to wait, and let go with SIGCONT; a controller restart is a real process
dying between the commit of step 1's success and the send of step 2, and
another one started on the same address.
"""

import signal
import socket
import uuid
from types import SimpleNamespace

import pytest
from django.db import transaction

from agent import protocol
from agent.enroll import load_host_key
from agent.signing import private_key_to_pem
from apps.compute.models import Instance
from apps.core.actor import Actor
from apps.core.tests.controllers import wait_until
from apps.infrastructure.models import Host
from apps.infrastructure.tests.agents import SignedAgent
from apps.infrastructure.tests.factories import ZoneFactory
from apps.infrastructure.wire import send_task
from apps.jobs.models import Job

from . import two_host_work
from .agent_processes import AgentProcess, stop_all
from .test_end_to_end import WAIT_SECONDS, qcow2_image, settled  # noqa: F401  (qcow2_image: a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]

TEST_MODULES = [two_host_work.__name__]


@pytest.fixture
def controller_environment(settings, signing_key):
    """What the controllers share with this process: the task key, the image store; and short periods."""
    return {
        "CLOUDMGR_TASK_SIGNING_KEY": private_key_to_pem(signing_key).decode(),
        "CLOUDMGR_IMAGE_STORE_DIR": settings.CLOUDMGR_IMAGE_STORE_DIR,
        "CLOUDMGR_PERIOD_SWEEP_JOBS": "1",
        "CLOUDMGR_PERIOD_REDISPATCH_JOBS": "1",
        "CLOUDMGR_REDISPATCH_AFTER_SECONDS": "1",
    }


class TwoHosts:
    """A controller process, two agents enrolled with it, and an instance active on each (an anti-affine
    pair of one image, so both hosts hold the image): `moved` is on `source`, its sibling on `destination`.
    """

    def __init__(self, controller, agents, instances):
        self.controller = controller
        self.source_agent, self.destination_agent = agents
        self.source = Host.objects.get(name=agents[0].name)
        self.destination = Host.objects.get(name=agents[1].name)
        self.moved = next(i for i in instances if i.host_id == self.source.pk)

    def move(self):
        with transaction.atomic():
            return two_host_work.move(self.moved, self.source, self.destination)

    @staticmethod
    def journal(agent):
        """The task ids an agent has finished, from its own journal."""
        return {path.stem for path in (agent.data_dir / "tasks").glob("*.json")}


@pytest.fixture
def two_hosts(start_controller, controller_environment, tmp_path, api, offering, qcow2_image):  # noqa: F811
    """two_hosts(**controller_environment) -> TwoHosts; agents stopped (and let go) at teardown."""
    agents = []

    def start(**environment):
        controller = start_controller(
            "first",
            environment={**controller_environment, **environment},
            test_modules=TEST_MODULES,
            listen=free_address(),
        )
        zone = ZoneFactory(name="zone-a")
        for _ in range(2):
            agents.append(
                AgentProcess(
                    Actor.system("test"),
                    f"move-{uuid.uuid4().hex[:10]}",
                    zone,
                    controller.url,
                    tmp_path,
                    capacity_ram_mb=2048,
                )
            )
        names = [a.name for a in agents]
        wait_until(
            lambda: Host.objects.filter(name__in=names, state=Host.UP).count() == 2,
            WAIT_SECONDS,
            "the agents to heartbeat",
        )
        group = api.post(
            "/api/v1/affinity-groups/", {"name": "pair", "policy": "anti-affinity"}, format="json"
        )
        body = {
            "name": "web",
            "offering_id": str(offering.id),
            "image_id": str(qcow2_image.id),
            "affinity_group_id": group.data["id"],
        }
        ids = [api.post("/api/v1/instances/", body, format="json").data["id"] for _ in range(2)]
        for instance_id in ids:
            wait_until(lambda i=instance_id: settled(i) is not None, WAIT_SECONDS, "the spawns")
        instances = [settled(i) for i in ids]
        assert [i.vm_state for i in instances] == ["active", "active"], [a.log()[-2000:] for a in agents]
        return TwoHosts(controller, agents, instances)

    yield start
    for agent in agents:
        agent.process.send_signal(signal.SIGCONT)
    stop_all(agents)


def free_address():
    """An address no one listens on. A controller bound to a named port lets another bind it again at
    once (SO_REUSEADDR, which a port-0 listener does not set), so a restarted one can take its place."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def held(agent):
    agent.process.send_signal(signal.SIGSTOP)


def let_go(agent):
    agent.process.send_signal(signal.SIGCONT)


def finished(job):
    return Job.objects.filter(pk=job.pk, state__in=(Job.SUCCEEDED, Job.FAILED)).first()


def test_step_two_is_sent_to_its_host_only_after_step_one_succeeded(two_hosts):
    hosts = two_hosts()
    held(hosts.source_agent)
    job = hosts.move()
    wait_until(
        lambda: Job.objects.filter(pk=job.pk, dispatched_at__isnull=False).exists(),
        WAIT_SECONDS,
        "step 1 sent",
    )
    job.refresh_from_db()
    assert (job.step, job.queue, job.task_id) == (0, hosts.source.queue, job.pk)
    assert str(job.pk) not in TwoHosts.journal(hosts.destination_agent)

    let_go(hosts.source_agent)
    wait_until(lambda: finished(job), WAIT_SECONDS, "the move")
    job.refresh_from_db()
    assert (job.state, job.step, job.queue) == ("succeeded", 1, hosts.destination.queue), job.error_message
    assert str(job.pk) in TwoHosts.journal(hosts.source_agent)
    assert str(job.task_id) in TwoHosts.journal(hosts.destination_agent)
    assert str(job.task_id) not in TwoHosts.journal(hosts.source_agent)
    assert job.result["instance"]["power_state"] == "running"
    assert Instance.objects.get(pk=hosts.moved.pk).host_id == hosts.destination.pk


def test_a_step_one_report_from_the_other_host_is_refused_and_changes_nothing(two_hosts):
    hosts = two_hosts()
    held(hosts.source_agent)
    job = hosts.move()
    wait_until(
        lambda: Job.objects.filter(pk=job.pk, dispatched_at__isnull=False).exists(),
        WAIT_SECONDS,
        "step 1 sent",
    )
    # Signed with the destination's own key, from its data directory: a real host, reporting another's step.
    other = SignedAgent(hosts.destination.name, load_host_key(hosts.destination_agent.data_dir))
    status = protocol.DomainStatus(str(hosts.moved.pk), f"cloudmgr-{hosts.moved.pk}", "shutoff")
    response = other.report(
        job, protocol.STOP_INSTANCE, "succeeded", result=protocol.InstanceResult(instance=status).to_dict()
    )
    assert (response.status_code, response.json()["error"]["code"]) == (409, "not_this_hosts_task")
    job.refresh_from_db()
    assert (job.state, job.step, job.queue) == ("pending", 0, hosts.source.queue)

    let_go(hosts.source_agent)
    wait_until(lambda: finished(job), WAIT_SECONDS, "the move")
    assert finished(job).state == "succeeded"


def test_a_step_two_deadline_starts_the_guest_again_on_the_host_of_step_one(two_hosts, settings):
    hosts = two_hosts()
    settings.CLOUDMGR_INSTANCE_ACTION_DEADLINE_SECONDS = 15
    held(hosts.destination_agent)
    job = hosts.move()
    wait_until(lambda: Job.objects.filter(pk=job.pk, step=1).exists(), WAIT_SECONDS, "step 1 to succeed")

    wait_until(lambda: finished(job), WAIT_SECONDS, "the deadline")
    job.refresh_from_db()
    assert (job.state, job.step, job.error_code) == ("failed", 1, "deadline_exceeded")
    restart = Job.objects.get(kind=two_host_work.RESTART, object_id=str(hosts.moved.pk))
    assert restart.queue == hosts.source.queue
    wait_until(lambda: finished(restart), WAIT_SECONDS, "the guest to start again on the source")
    restart.refresh_from_db()
    assert (restart.state, restart.result["instance"]["power_state"]) == ("succeeded", "running")
    assert Instance.objects.get(pk=hosts.moved.pk).host_id == hosts.source.pk


def test_a_controller_restarted_between_the_steps_sends_step_two_and_finishes_the_move(
    two_hosts, start_controller, controller_environment
):
    hosts = two_hosts(CLOUDMGR_TEST_DIE_BEFORE_SENDING_STEP="2")
    job = hosts.move()
    wait_until(lambda: not hosts.controller.running(), WAIT_SECONDS, "the controller to die before step 2")
    assert hosts.controller.process.returncode == two_host_work.DIED_BEFORE_SENDING
    job.refresh_from_db()
    assert (job.state, job.step, job.queue, job.dispatched_at) == (
        "pending",
        1,
        hosts.destination.queue,
        None,
    )

    start_controller(
        "restarted",
        environment=controller_environment,
        test_modules=TEST_MODULES,
        listen=f"127.0.0.1:{hosts.controller.port}",
    )
    wait_until(lambda: finished(job), WAIT_SECONDS, "the move to resume")
    job.refresh_from_db()
    assert (job.state, job.step) == ("succeeded", 1), job.error_message
    assert str(job.task_id) in TwoHosts.journal(hosts.destination_agent)
    assert Instance.objects.get(pk=hosts.moved.pk).host_id == hosts.destination.pk


def test_a_redelivered_report_of_either_step_changes_nothing(two_hosts):
    hosts = two_hosts()
    job = hosts.move()
    wait_until(lambda: finished(job), WAIT_SECONDS, "the move")
    job.refresh_from_db()
    assert job.state == "succeeded", job.error_message
    before = Job.objects.filter(pk=job.pk).values().get()
    moved = Instance.objects.filter(pk=hosts.moved.pk).values().get()

    # Step 1's task delivered again: the source's journal reports its outcome again, and it is refused.
    send_task(
        hosts.source,
        protocol.STOP_INSTANCE,
        task_id=job.pk,
        payload=protocol.StopInstance(instance_id=str(hosts.moved.pk), graceful_timeout_seconds=0),
        expires_at=job.deadline,
    )
    refused = f"the controller refused the report of task {job.pk}"
    wait_until(lambda: refused in hosts.source_agent.log(), WAIT_SECONDS, "the report to come again")
    # Step 2's report sent again by its host: accepted, and the finished job stays as it was.
    destination = SignedAgent(hosts.destination.name, load_host_key(hosts.destination_agent.data_dir))
    again = destination.report(
        SimpleNamespace(pk=job.task_id), protocol.SPAWN_INSTANCE, "succeeded", result=job.result
    )
    assert again.status_code == 200, again.content

    assert Job.objects.filter(pk=job.pk).values().get() == before
    assert Instance.objects.filter(pk=hosts.moved.pk).values().get() == moved
