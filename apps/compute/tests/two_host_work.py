"""A kind of host work that exists only for tests: an instance moved between two hosts, as a cold
migration will move it, built from the protocol's existing tasks (no test-only agent code).

- step 1, on the source host: stop the instance's domain;
- step 2, on the destination host: spawn the instance there from its spec, as at launch;
- done: the instance's host is the destination;
- settled (a host's failure or the deadline) after step 1 succeeded: the guest is started
  again on the source, by a job of the one-step kind RESTART.

Registered when imported: by the tests in this process, and by a controller process
started with `test_modules=[__name__]`. In a controller whose environment has
CLOUDMGR_TEST_DIE_BEFORE_SENDING_STEP=N, the process exits the moment it is to send
step N of a move: after the commit that recorded step N-1's success, before any send,
as a crash there would.
"""

import os

from agent import protocol
from apps.compute.host_work import instance_spec
from apps.compute.models import Instance
from apps.infrastructure.hostwork import dispatch
from apps.infrastructure.hostwork.kinds import HostWork, Step, refused, register, work_for
from apps.infrastructure.models import Host
from apps.jobs.models import Job

MOVE = "tests.move_instance"
RESTART = "tests.move_instance.restart"
DIED_BEFORE_SENDING = 17


def _named_host(key):
    return lambda job, instance: Host.objects.filter(name=job.payload[key]).first()


class _OnInstance(HostWork):
    deadline_setting = "CLOUDMGR_INSTANCE_ACTION_DEADLINE_SECONDS"

    def subject(self, job):
        return (
            Instance.objects.select_related("host", "offering", "image__kernel", "image__ramdisk")
            .filter(pk=job.payload["instance_id"])
            .first()
        )

    def check_result(self, job, result):
        if result.instance.instance_id != job.payload["instance_id"]:
            raise refused(f"The result of task {job.pk} is about another instance.")


class MoveInstance(_OnInstance):
    kind = MOVE
    steps = (
        Step(
            task=protocol.STOP_INSTANCE,
            payload=lambda job, instance: protocol.StopInstance(
                instance_id=str(instance.pk), graceful_timeout_seconds=0
            ),
            host=_named_host("source"),
        ),
        Step(
            task=protocol.SPAWN_INSTANCE,
            payload=lambda job, instance: protocol.SpawnInstance(instance=instance_spec(instance)),
            host=_named_host("destination"),
        ),
    )

    def succeeded(self, job, host, result):
        Instance.objects.filter(pk=job.payload["instance_id"]).update(host=host)

    def settle(self, job):
        if job.step == 0:
            return
        # Step 1 stopped the guest on the source: it runs there again.
        dispatch.start(
            work_for(RESTART),
            host=Host.objects.get(name=job.payload["source"]),
            payload={"instance_id": job.payload["instance_id"], "source": job.payload["source"]},
            obj=Instance(pk=job.payload["instance_id"]),
        )


class RestartOnSource(_OnInstance):
    kind = RESTART
    steps = (
        Step(
            task=protocol.START_INSTANCE,
            payload=lambda job, instance: protocol.InstanceTask(instance_id=str(instance.pk)),
            host=_named_host("source"),
        ),
    )


def move(instance, source, destination):
    """Start moving `instance` from host `source` to host `destination`; call in a transaction."""
    return dispatch.start(
        work_for(MOVE),
        host=source,
        payload={"instance_id": str(instance.pk), "source": source.name, "destination": destination.name},
        obj=instance,
    )


def _die_before_sending(step_number):
    sending = dispatch.send

    def send(job_id, job=None, subject=None):
        current = job if job is not None else Job.objects.filter(pk=job_id).first()
        if current is not None and current.kind == MOVE and current.step + 1 == step_number:
            os._exit(DIED_BEFORE_SENDING)
        return sending(job_id, job, subject)

    dispatch.send = send


register(MoveInstance())
register(RestartOnSource())
if os.environ.get("CLOUDMGR_TEST_DIE_BEFORE_SENDING_STEP"):
    _die_before_sending(int(os.environ["CLOUDMGR_TEST_DIE_BEFORE_SENDING_STEP"]))
