"""A host that stops answering, is fenced, or is to be removed: what becomes of its instances.

- down: its instances' power state becomes `unknown`; they keep their claims and
  stay where they are, since their guests may still run. The host's next
  heartbeat tells their power state again.
- fenced (an operator confirmed it is off): every unfinished job it was to carry
  out fails at once (each settles as its kind says: a move that involved it is
  undone without it); a resize it was one end of is settled (the copy on the
  other host is kept: confirmed if the fenced host held the old one, reverted if
  it held the new one); then each instance at rest on it is rebuilt elsewhere
  when its offering is HA (an evacuation), or put in error saying why, to be
  evacuated by hand (moves.evacuation.after_fencing).

Receivers of apps.infrastructure.signals, connected in ComputeConfig.ready().
"""

from django.db.models import Q
from django.utils import timezone

from apps.jobs import services as jobs
from apps.jobs.models import Job

from .. import states
from ..models import Instance, Migration
from ..moves import evacuation, outcomes
from ..moves.steps import load_migration
from ..moves.undo import confirmed

FENCED_ERROR = "The host was fenced (confirmed off) before it did this."


def hosts_went_down(sender, host_ids, **kwargs):
    Instance.objects.filter(host_id__in=host_ids).exclude(vm_state=states.DELETED).update(
        power_state="unknown", updated_at=timezone.now()
    )


def host_fenced(sender, host, actor, **kwargs):
    for job_id in Job.objects.filter(queue=host.queue, state__in=(Job.PENDING, Job.RUNNING)).values_list(
        "pk", flat=True
    ):
        jobs.fail(job_id, "host_fenced", FENCED_ERROR)
    resizes = Migration.objects.filter(Q(source=host) | Q(destination=host), status=states.AWAITING_CONFIRM)
    for migration in resizes:
        _settle_resize(load_migration(migration.pk), host)
    for instance in (
        Instance.objects.filter(host=host, task_state__isnull=True)
        .exclude(vm_state=states.DELETED)
        .select_related("offering", "host")
    ):
        evacuation.after_fencing(instance)


def _settle_resize(migration, fenced_host):
    """Keep the copy of the resize that is not on the fenced host."""
    instance = Instance.objects.select_related("host").get(pk=migration.instance_id)
    if migration.source_id == fenced_host.pk and migration.destination_id != fenced_host.pk:
        states.begin(instance, "confirm_resize")
        states.migration_event(migration.pk, "confirm")
        confirmed(migration)
    elif migration.destination_id == fenced_host.pk and migration.source_id != fenced_host.pk:
        states.begin(instance, "revert_resize")
        states.migration_event(migration.pk, "revert")
        outcomes.discarded(migration, purpose="revert")


def occupants(host):
    """What of compute's still lives on a host an admin wants to remove."""
    count = Instance.objects.filter(host=host).exclude(vm_state=states.DELETED).count()
    moving = Migration.objects.filter(
        Q(source=host) | Q(destination=host), status__in=states.MIGRATION_UNFINISHED
    ).count()
    phrases = []
    if count:
        phrases.append(f"{count} instance{'s' if count != 1 else ''}")
    if moving:
        phrases.append(f"{moving} unfinished move{'s' if moving != 1 else ''}")
    return " and ".join(phrases)
