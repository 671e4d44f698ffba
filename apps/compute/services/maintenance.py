"""Draining a host in maintenance: its instances move to other hosts, live where possible, cold otherwise.

The maintenance switch is infrastructure's (one service for the portal, the API
and `manage.py hostmaintenance`); compute hears of it (maintenance_changed) and
drains the host: a few moves at a time (CLOUDMGR_MAINTENANCE_CONCURRENT_MOVES),
each started as the one before it ends (in the transaction that records its end)
and, in case a controller died in between, by periodic work (compute.continue_drains).

An instance that is active moves live when its host and some other host can do
it, and cold otherwise (a stopped one always cold). An instance in an action, or
in error, waits; a move that failed is tried again after
CLOUDMGR_MAINTENANCE_RETRY_SECONDS. Clearing the switch ends the drain (moves
under way finish) and the host takes new instances again.

`progress(host)` is the drain instance by instance, for the portal and the command.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.actor import Actor
from apps.core.errors import ServiceError
from apps.infrastructure.models import Host
from apps.jobs.models import Job

from .. import states
from ..models import Instance, Migration
from . import moves

log = logging.getLogger(__name__)

MAINTENANCE = "maintenance"
MOVABLE = (states.ACTIVE, states.STOPPED)


def maintenance_changed(sender, host, on, actor, **kwargs):
    if on:
        continue_drain(host.pk)


def move_ended(sender, migration_id, **kwargs):
    """A move of a drain ended: the next one starts."""
    source = Migration.objects.filter(pk=migration_id, reason=MAINTENANCE).values_list("source_id", flat=True)
    for host_id in source:
        continue_drain(host_id)


def continue_drains():
    """Periodic work: every host in maintenance gets its next moves (a controller may have died between)."""
    started = 0
    for host_id in Host.objects.filter(maintenance=True).values_list("pk", flat=True):
        with transaction.atomic():
            started += continue_drain(host_id)
    return started


def continue_drain(host_id):
    """Start the host's next moves, up to the concurrency; returns how many started."""
    host = Host.objects.select_for_update().filter(pk=host_id, maintenance=True).first()
    if host is None:
        return 0
    in_flight = Migration.objects.filter(source=host, status__in=(states.MOVING, states.UNDOING)).count()
    room = settings.CLOUDMGR_MAINTENANCE_CONCURRENT_MOVES - in_flight
    if room <= 0:
        return 0
    retry_after = timezone.now() - timedelta(seconds=settings.CLOUDMGR_MAINTENANCE_RETRY_SECONDS)
    recently_failed = Migration.objects.filter(
        source=host,
        reason=MAINTENANCE,
        status__in=(states.FAILED, states.STRANDED),
        finished_at__gt=retry_after,
    ).values("instance_id")
    waiting = (
        Instance.objects.filter(host=host, task_state__isnull=True, vm_state__in=MOVABLE)
        .exclude(pk__in=recently_failed)
        .order_by("created_at")
    )
    started = 0
    for instance in waiting[:room]:
        started += _move(host, instance)
    return started


def _move(host, instance):
    """Move one instance away, live if it can; a refusal (no room elsewhere…) leaves it for a later round."""
    system = Actor.system(MAINTENANCE)
    attempts = [moves.live_migrate, moves.migrate] if _live(host, instance) else [moves.migrate]
    for attempt in attempts:
        try:
            with transaction.atomic():
                attempt(system, instance, reason=MAINTENANCE)
            return 1
        except ServiceError as refusal:
            log.info("drain of %s: %s of %s refused: %s", host.name, attempt.__name__, instance.pk, refusal)
    return 0


def _live(host, instance):
    return instance.vm_state == states.ACTIVE and host.live_migration


@dataclass(frozen=True)
class Row:
    """One instance of a drain: where it is in its move, or why it stays."""

    instance: Instance
    kind: str
    status: str
    progress: int
    destination: str
    note: str


def progress(host):
    """The drain of a host in maintenance (since it was last set), instance by instance."""
    since = host.maintenance_since or host.created_at
    migrations = list(
        Migration.objects.filter(source=host, reason=MAINTENANCE, created_at__gte=since)
        .select_related("instance__project")
        .order_by("instance_id", "-created_at")
    )
    latest = {}
    for migration in migrations:
        latest.setdefault(migration.instance_id, migration)
    job_progress = dict(
        Job.objects.filter(pk__in=[m.job_id for m in latest.values() if m.job_id]).values_list(
            "pk", "progress"
        )
    )
    rows = [
        Row(
            m.instance,
            m.kind,
            m.status,
            100 if m.status == states.DONE else job_progress.get(m.job_id, 0),
            m.destination_name,
            m.error_message,
        )
        for m in latest.values()
    ]
    staying = Instance.objects.filter(host=host).exclude(vm_state=states.DELETED).exclude(pk__in=list(latest))
    for instance in staying.select_related("project"):
        rows.append(Row(instance, "", "waiting" if _movable(instance) else "stays", 0, "", _why(instance)))
    return sorted(rows, key=lambda row: row.instance.name)


def _movable(instance):
    return instance.vm_state in MOVABLE


def _why(instance):
    if instance.task_state:
        return f"busy: {instance.task_state}"
    if not _movable(instance):
        return f"{instance.vm_state}: not moved"
    return ""
