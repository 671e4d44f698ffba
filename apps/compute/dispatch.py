"""Sending instance jobs to their host's agent, after the transaction that recorded them commits.

The task is built from the database when it is sent ("make the host look like
this": the whole instance spec for a spawn or rebuild), signed, and put on the
host's queue; then the job is marked dispatched. If the broker cannot take it,
the job stays undispatched and the periodic dispatcher sends it again; a task
that arrives twice does no harm (the agent's journal knows its task id).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import KombuError

from agent import protocol
from apps.infrastructure.wire import send_task
from apps.jobs.models import Job
from apps.jobs.registry import periodic

from .models import Instance

log = logging.getLogger(__name__)

MB_PER_GB = 1024

TASKS = {
    "spawn": protocol.SPAWN_INSTANCE,
    "start": protocol.START_INSTANCE,
    "stop": protocol.STOP_INSTANCE,
    "reboot": protocol.REBOOT_INSTANCE,
    "reboot_hard": protocol.REBOOT_INSTANCE,
    "pause": protocol.PAUSE_INSTANCE,
    "unpause": protocol.UNPAUSE_INSTANCE,
    "suspend": protocol.SUSPEND_INSTANCE,
    "resume": protocol.RESUME_INSTANCE,
    "rebuild": protocol.REBUILD_INSTANCE,
    "snapshot": protocol.SNAPSHOT_INSTANCE,
    "delete": protocol.DELETE_INSTANCE,
    "console_log": protocol.CONSOLE_LOG,
}
ACTION_OF_TASK = {task: action for action, task in TASKS.items() if action != "reboot_hard"}


def send_on_commit(job, instance=None):
    """Send the job's task once the surrounding transaction commits; nothing is sent on a rollback.

    `instance`, when given, is the job's instance as the transaction wrote it
    (host, offering and image loaded), so it is not read back.
    Robust: a failure to send is logged and left to the periodic dispatcher, never
    turned into an error for a request whose work is already committed.
    """

    def send_committed_job():
        # The job was created in the transaction that just committed: it is pending and unsent.
        send(job.pk, job, instance)

    transaction.on_commit(send_committed_job, robust=True)


def image_ref(image):
    return protocol.ImageRef(
        image_id=str(image.pk),
        sha256=image.sha256,
        size_bytes=image.size_bytes,
        disk_format=image.disk_format,
    )


def instance_spec(instance):
    image = instance.image
    kernel = image.kernel if image.kernel_id else None
    ramdisk = image.ramdisk if image.ramdisk_id else None
    return protocol.InstanceSpec(
        instance_id=str(instance.pk),
        name=instance.name,
        project_id=str(instance.project_id),
        offering=instance.offering.name,
        vcpus=instance.vcpus,
        ram_mb=instance.ram_mb,
        root_disk_mb=instance.root_disk_gb * MB_PER_GB,
        ephemeral_disk_mb=instance.ephemeral_disk_gb * MB_PER_GB,
        image=image_ref(image),
        kernel=image_ref(kernel) if kernel else None,
        ramdisk=image_ref(ramdisk) if ramdisk else None,
        kernel_cmdline=settings.CLOUDMGR_KERNEL_CMDLINE if kernel else "",
        arch=image.architecture or instance.host.arch or "x86_64",
        user_id=str(instance.created_by_id) if instance.created_by_id else None,
    )


def payload_for(instance, action, options):
    if action == "spawn":
        return protocol.SpawnInstance(instance=instance_spec(instance))
    if action == "rebuild":
        return protocol.RebuildInstance(instance=instance_spec(instance))
    if action == "stop":
        return protocol.StopInstance(instance_id=str(instance.pk), **options)
    if action in ("reboot", "reboot_hard"):
        return protocol.RebootInstance(instance_id=str(instance.pk), hard=action == "reboot_hard", **options)
    if action == "snapshot":
        return protocol.SnapshotInstance(instance_id=str(instance.pk), **options)
    if action == "console_log":
        return protocol.ConsoleLogRequest(instance_id=str(instance.pk), **options)
    return protocol.InstanceTask(instance_id=str(instance.pk))


def send(job_id, job=None, instance=None):
    """Sign the job's task and put it on the host's queue; True when the broker took it.

    `job` is the row as its creator holds it; without it, the job is read and sent only if still unsent.
    `instance` is the job's instance as its creator holds it; without it, it is read.
    """
    if job is None:
        job = Job.objects.filter(pk=job_id, state=Job.PENDING, dispatched_at__isnull=True).first()
    if job is None:
        return False
    options = dict(job.payload)
    instance_id, action = options.pop("instance_id"), options.pop("action")
    if instance is None:
        instance = (
            Instance.objects.select_related("host", "offering", "image__kernel", "image__ramdisk")
            .filter(pk=instance_id)
            .first()
        )
    if instance is None or instance.host is None:
        log.error("job %s: instance %s has no host; not sent", job_id, instance_id)
        return False
    try:
        send_task(
            instance.host,
            TASKS[action],
            task_id=job.pk,
            payload=payload_for(instance, action, options),
            expires_at=job.deadline,
        )
    except (KombuError, OSError) as error:
        log.warning("job %s: the broker did not take the task (%s); the dispatcher will retry", job_id, error)
        return False
    Job.objects.filter(pk=job.pk, dispatched_at__isnull=True).update(dispatched_at=timezone.now())
    return True


@periodic("compute.redispatch_jobs")
def redispatch_jobs():
    """Send the instance jobs whose send after commit did not reach the broker; returns how many went."""
    now = timezone.now()
    waiting = Job.objects.filter(
        kind__startswith="compute.instance.",
        state=Job.PENDING,
        dispatched_at__isnull=True,
        deadline__gt=now,
        created_at__lt=now - timedelta(seconds=settings.CLOUDMGR_REDISPATCH_AFTER_SECONDS),
    ).values_list("pk", flat=True)
    return sum(send(job_id) for job_id in list(waiting))
