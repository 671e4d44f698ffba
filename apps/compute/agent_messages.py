"""What agents' task reports and heartbeats mean for instances, and which images a host may fetch.

Registered with apps.infrastructure.agent_api.hooks. The endpoint has already
checked the signature and that the job was sent to the signing host; here a
report must also be about that job's instance, still on that host.
"""

import logging

from django.db.models import Exists, OuterRef, Q, UUIDField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Now
from django.utils import timezone

from agent import protocol
from apps.core.errors import Conflict
from apps.infrastructure.models import Host
from apps.jobs import services as jobs
from apps.jobs.models import Job

from . import states
from .dispatch import TASKS
from .models import Instance
from .services.lifecycle import action_succeeded
from .services.snapshots import SNAPSHOT, snapshot_ended

log = logging.getLogger(__name__)


def _not_yours(message):
    return Conflict(message, code="not_this_hosts_task")


def mark_running(job, host):
    # The job was read at the start of this request: once running, the update would change nothing.
    if job.state != Job.PENDING:
        return
    Job.objects.filter(pk=job.pk, state=Job.PENDING).update(
        state=Job.RUNNING, started_at=Coalesce("started_at", Now()), taken_by=host.queue
    )


def _reported_instance_id(result):
    instance = getattr(result, "instance", None)
    return instance.instance_id if instance is not None else getattr(result, "instance_id", None)


def report_checks(host_name):
    """Read with the job: is its instance on the reporting host."""
    instance_id = Cast(KeyTextTransform("instance_id", OuterRef("payload")), UUIDField())
    return {"instance_on_host": Exists(Instance.objects.filter(pk=instance_id, host__name=host_name))}


def handle_report(job, host, report):
    instance_id, action = job.payload["instance_id"], job.payload["action"]
    if report.task != TASKS[action]:
        raise _not_yours(f"Task {job.pk} is a {TASKS[action]}, not a {report.task}.")
    if not job.instance_on_host and action != "delete":
        raise _not_yours(f"The instance of task {job.pk} is not on host {host.name}.")
    if report.state in ("running", "progress"):
        mark_running(job, host)
        if report.state == "progress":
            jobs.report_progress(job.pk, report.progress, report.message)
        return
    if report.state == "failed":
        jobs.fail(job.pk, report.error.code, report.error.message)
        return
    result = protocol.parse_result(report.task, report.result or {})
    if _reported_instance_id(result) not in (None, instance_id):
        raise _not_yours(f"The result of task {job.pk} is about another instance.")
    mark_running(job, host)
    # Reading the console changes no state: its result is all there is.
    if jobs.succeed(job.pk, report.result) and action in states.ACTIONS:
        changes = {"power_state": result.instance.power_state} if hasattr(result, "instance") else {}
        action_succeeded(instance_id, action, **changes)
        if action == SNAPSHOT:
            snapshot_ended(job, succeeded=True)


def sync_power_states(host, inventory):
    """Power states as the host saw them, for instances at rest that have not changed since.

    An instance with a task in flight, or changed after the host listed its domains, is
    left to its task's own report: a listing taken mid-snapshot would say `paused`.
    Domains that are not this host's instances are ignored.
    """
    reported = {status.instance_id: status for status in inventory.instances}
    listed_at = Host.objects.filter(pk=host.pk).values_list("inventory_reported_at", flat=True).first()
    mine = Instance.objects.filter(host=host, pk__in=list(reported)).exclude(vm_state=states.DELETED)
    known = 0
    for pk, power_state, task_state, updated_at in mine.values_list(
        "pk", "power_state", "task_state", "updated_at"
    ):
        known += 1
        if task_state is not None or (listed_at is not None and updated_at > listed_at):
            continue
        status = reported[str(pk)]
        if status.power_state != power_state:
            Instance.objects.filter(pk=pk, task_state__isnull=True, updated_at=updated_at).update(
                power_state=status.power_state, updated_at=timezone.now()
            )
        if status.power_state == "shutoff" and status.reason == "shutdown":
            states.guest_shut_down(pk)
    if known < len(reported):
        log.warning(
            "host %s reported %d domains that are not its instances", host.name, len(reported) - known
        )


def images_for_host(host):
    """Images (and their kernels and ramdisks) of the instances on the host."""
    live = Instance.objects.filter(host=host).exclude(vm_state=states.DELETED)
    return (
        Q(pk__in=live.values("image_id"))
        | Q(pk__in=live.values("image__kernel_id"))
        | Q(pk__in=live.values("image__ramdisk_id"))
    )
