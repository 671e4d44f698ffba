"""Acting on an instance (start, stop, reboot, …, delete) and recording what its host answered.

An action starts with a compare-and-set move of the instance (states.begin)
and a job on the host's queue, in one transaction; the task is sent after the
commit. The host's answer, or the job's deadline passing, ends the action
(states.finish) exactly once.

An instance holds its quota, host capacity and ports from its create until its
host confirms its delete, and only then gives them back: whatever else fails, an
instance that could run, or be made to run (a rebuild or a hard reboot from
`error`), is counted. A failed or overdue spawn leaves the instance in `error`,
still counted, until its owner deletes it.

An instance whose host was fenced (confirmed off) takes no action but a delete,
which its host cannot confirm: it is done at once (the host's agent, if it ever
comes back, never starts a guest that is not its host's instance). Deleting a
resized instance also lets go of the copy its resize left on the source.
"""

from django.db import transaction
from django.utils import timezone

from apps.audit.recorder import audited
from apps.compute.launch_images import launch_image
from apps.core.errors import Conflict
from apps.identity.services.common import require
from apps.infrastructure import capacity
from apps.infrastructure.hostwork import dispatch
from apps.infrastructure.hostwork.kinds import work_for
from apps.jobs.services import create_finished_job
from apps.networks.host_work import sync_hosts
from apps.networks.services.instance_ports import release_ports
from apps.quotas import services as quotas

from .. import states
from ..models import Instance, Migration
from ..moves import claims, outcomes
from ..moves.steps import FINISH_SOURCE_KIND, load_migration

JOB_PREFIX = "compute.instance."


def job_kind(action_name):
    return JOB_PREFIX + action_name


def act(actor, instance, action_name, *, changes=None, **options):
    """Start `action_name` on the instance; returns its job.

    `changes` are written with the move (a rebuild's new image); `options` go to
    the host with the task.
    """
    action = f"compute.instance.{action_name}"
    with audited(actor, action, target=instance.target(), obj=instance) as op:
        require(actor, action, instance.target(), f"You may not {action_name.replace('_', ' ')} {instance}.")
        current = Instance.objects.select_related("host").get(pk=instance.pk)
        if current.host is None:
            raise Conflict(f"Instance {instance} has no host.", code="instance_has_no_host")
        fenced = claims.fenced(current.host)
        if fenced and action_name != "delete":
            raise Conflict(
                f"The host of instance {instance} was fenced: evacuate or delete the instance.",
                code="instance_host_fenced",
            )
        states.begin(current, action_name, **(changes or {}))
        op.details = options
        op.platform_details = {"host": current.host.name}
        if fenced:
            action_succeeded(current.pk, "delete")
            return create_finished_job(
                job_kind("delete"), action=action, target=current.target(), obj=current, actor=actor
            )
        return _job_for_host(actor, action, current, action_name, options)


def _job_for_host(actor, action, instance, action_name, options):
    """The job carrying the action to the instance's host, sent once the transaction commits."""
    return dispatch.start(
        work_for(job_kind(action_name)),
        host=instance.host,
        action=action,
        payload={"instance_id": str(instance.pk), "action": action_name, **options},
        target=instance.target(),
        obj=instance,
        actor=actor,
    )


def rebuild(actor, instance, image_id):
    """Replace the root disk from `image_id` (checked like at launch, against the instance's offering)."""
    image = launch_image(actor, image_id, instance.project, instance.offering)
    return act(actor, instance, "rebuild", changes={"image": image})


CONSOLE_LOG = "console_log"


def request_console_log(actor, instance, max_bytes):
    """Ask the host for the tail of the instance's serial console log; returns the job (result: the text)."""
    action = "compute.instance.console_log"
    with audited(actor, action, target=instance.target(), obj=instance):
        require(actor, action, instance.target(), f"You may not read the console of {instance}.")
        current = Instance.objects.select_related("host").get(pk=instance.pk)
        if current.host is None or current.vm_state == states.DELETED:
            raise Conflict(f"Instance {instance} is on no host.", code="instance_has_no_host")
        return _job_for_host(actor, action, current, CONSOLE_LOG, {"max_bytes": max_bytes})


def release_resources(instance_id):
    """Give back the host capacity, the quota and the ports the instance holds (the hosts its ports
    reached are synced); harmless when already given back.

    A resize that was never confirmed goes too: its destination's place, and the copy on its source.
    """
    with transaction.atomic():
        capacity.release(instance_id)
        quotas.release(Instance(pk=instance_id))
        sync_hosts(release_ports(instance_id))
        for migration in Migration.objects.filter(instance_id=instance_id, status=states.AWAITING_CONFIRM):
            capacity.release(migration.pk)
            states.migration_event(migration.pk, "instance_deleted")
            if not claims.fenced(migration.source):
                outcomes.start(
                    FINISH_SOURCE_KIND, migration.source, load_migration(migration.pk), purpose="cleanup"
                )


def action_succeeded(instance_id, action_name, **reported):
    """The host did it. Returns False when the instance was no longer in that action (nothing changed)."""
    changes = dict(reported)
    now = timezone.now()
    if action_name in ("spawn", "rebuild"):
        changes.setdefault("launched_at", now)
    if action_name == "delete":
        changes.update(deleted_at=now, host=None, power_state="nostate")
    if action_name in ("spawn", "rebuild", "delete"):
        changes.update(fault_code="", fault_message="")
    if not states.finish(instance_id, action_name, succeeded=True, **changes):
        return False
    if action_name == "delete":
        release_resources(instance_id)
    return True


def action_failed(instance_id, action_name, code, message):
    """The host could not do it (or never answered before the deadline): nothing is given back.

    Even a failed spawn keeps its claims: an abandoned spawn may still define its
    guest, and a host that is down may still run it (DESIGN.md).
    """
    return states.finish(
        instance_id, action_name, succeeded=False, fault_code=code[:64], fault_message=message[:1024]
    )
