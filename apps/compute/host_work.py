"""The compute app's kinds of host work: each instance action, one task on the instance's host.

Declared on apps.infrastructure.hostwork and registered in ComputeConfig.ready().
A report must be about the job's instance, still on the reporting host (a
delete's host may already have been cleared); the host's success ends the
action (lifecycle.action_succeeded), a failure or the deadline fails it
(lifecycle.action_failed), and a snapshot's image is settled either way.
"""

from django.db.models import Exists, OuterRef, UUIDField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from agent import protocol
from apps.infrastructure.hostwork.kinds import HostWork, Step, refused

from . import states
from .models import Instance
from .services.lifecycle import CONSOLE_LOG, action_failed, action_succeeded, job_kind
from .services.snapshots import SNAPSHOT, snapshot_ended
from .specs import instance_spec


def _options(job):
    """What the job carries to the host besides the instance and the action (a stop's timeout…)."""
    return {key: value for key, value in job.payload.items() if key not in ("instance_id", "action")}


def _instance_task(job, instance):
    return protocol.InstanceTask(instance_id=str(instance.pk))


# Each action's task and how its payload is built from the job and its instance.
PAYLOADS = {
    "spawn": (protocol.SPAWN_INSTANCE, lambda job, i: protocol.SpawnInstance(instance=instance_spec(i))),
    "start": (protocol.START_INSTANCE, _instance_task),
    "stop": (
        protocol.STOP_INSTANCE,
        lambda job, i: protocol.StopInstance(instance_id=str(i.pk), **_options(job)),
    ),
    "reboot": (
        protocol.REBOOT_INSTANCE,
        lambda job, i: protocol.RebootInstance(instance_id=str(i.pk), hard=False, **_options(job)),
    ),
    "reboot_hard": (
        protocol.REBOOT_INSTANCE,
        lambda job, i: protocol.RebootInstance(instance_id=str(i.pk), hard=True, **_options(job)),
    ),
    "pause": (protocol.PAUSE_INSTANCE, _instance_task),
    "unpause": (protocol.UNPAUSE_INSTANCE, _instance_task),
    "suspend": (protocol.SUSPEND_INSTANCE, _instance_task),
    "resume": (protocol.RESUME_INSTANCE, _instance_task),
    "rebuild": (
        protocol.REBUILD_INSTANCE,
        lambda job, i: protocol.RebuildInstance(instance=instance_spec(i)),
    ),
    "snapshot": (
        protocol.SNAPSHOT_INSTANCE,
        lambda job, i: protocol.SnapshotInstance(instance_id=str(i.pk), **_options(job)),
    ),
    "delete": (protocol.DELETE_INSTANCE, _instance_task),
    CONSOLE_LOG: (
        protocol.CONSOLE_LOG,
        lambda job, i: protocol.ConsoleLogRequest(instance_id=str(i.pk), **_options(job)),
    ),
}


def _on_its_host(job, instance):
    return instance.host


def _reported_instance_id(result):
    instance = getattr(result, "instance", None)
    return instance.instance_id if instance is not None else getattr(result, "instance_id", None)


class InstanceAction(HostWork):
    """An action on one instance (states.TRANSITIONS), or reading its console log, on the instance's host."""

    def __init__(self, action, payloads=PAYLOADS):
        task, payload = payloads[action]
        self.action = action
        self.kind = job_kind(action)
        self.steps = (Step(task=task, payload=payload, host=_on_its_host),)
        self.deadline_setting = (
            "CLOUDMGR_SPAWN_DEADLINE_SECONDS"
            if action == "spawn"
            else "CLOUDMGR_INSTANCE_ACTION_DEADLINE_SECONDS"
        )

    def subject(self, job):
        instance = (
            Instance.objects.select_related("host", "offering", "image__kernel", "image__ramdisk")
            .filter(pk=job.payload["instance_id"])
            .first()
        )
        return instance if instance is not None and instance.host is not None else None

    def report_checks(self, host_name):
        """Read with the job: is its instance on the reporting host."""
        instance_id = Cast(KeyTextTransform("instance_id", OuterRef("payload")), UUIDField())
        return {"instance_on_host": Exists(Instance.objects.filter(pk=instance_id, host__name=host_name))}

    def check_report(self, job, host, report):
        if not job.instance_on_host and self.action != "delete":
            raise refused(f"The instance of task {job.pk} is not on host {host.name}.")

    def check_result(self, job, result):
        if _reported_instance_id(result) not in (None, job.payload["instance_id"]):
            raise refused(f"The result of task {job.pk} is about another instance.")

    def succeeded(self, job, host, result):
        # Reading the console changes no state: its result is all there is.
        if self.action not in states.TRANSITIONS:
            return
        changes = {"power_state": result.instance.power_state} if hasattr(result, "instance") else {}
        action_succeeded(job.payload["instance_id"], self.action, **changes)
        if self.action == SNAPSHOT:
            snapshot_ended(job, succeeded=True)

    def settle(self, job):
        """The instance leaves the action as failed (a console read has nothing to settle)."""
        if self.action not in states.TRANSITIONS:
            return
        action_failed(job.payload["instance_id"], self.action, job.error_code, job.error_message)
        if self.action == SNAPSHOT:
            snapshot_ended(job, succeeded=False)


INSTANCE_ACTIONS = {action: InstanceAction(action) for action in PAYLOADS}
