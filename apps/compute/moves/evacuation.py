"""Evacuation: an instance of a fenced host (off for good) is rebuilt on another host from its image.

One step, the spawn on the destination, which the instance was placed on (and
claimed) when the evacuation started: its old host's place was given back then,
the host being confirmed off. What the guest wrote on its old host is lost.
The instance ends active on its new host, or in error there, holding its claims.

`after_fencing` is what a fenced host's instance becomes: rebuilt elsewhere when
its offering is HA, otherwise in error, saying why, to be evacuated by hand.
"""

import logging

from django.db import transaction
from django.utils import timezone

from agent import protocol
from apps.core.actor import Actor
from apps.core.errors import ServiceError
from apps.infrastructure import capacity
from apps.metering.events import STOPPED

from .. import move_hooks, states, usage
from ..models import Instance, Migration
from ..specs import instance_spec
from . import claims, destination
from .steps import (
    TRANSITION,
    MoveWork,
    Step,
    failed,
    locked_instance,
    migration_of,
    on_destination,
    start_move,
)

log = logging.getLogger(__name__)

EVACUATE = "compute.move.evacuate"
FENCED_FAULT = "Its host was fenced (confirmed off): evacuate the instance to run it elsewhere."

SPAWN = Step(
    task=protocol.SPAWN_INSTANCE,
    payload=lambda job, m: protocol.SpawnInstance(instance=instance_spec(m.instance)),
    host=on_destination,
)


class Evacuation(MoveWork):
    kind = EVACUATE
    steps = (SPAWN,)
    deadline_setting = "CLOUDMGR_SPAWN_DEADLINE_SECONDS"

    def succeeded(self, job, host, result):
        migration = migration_of(job)
        states.finish(
            migration.instance_id,
            TRANSITION[migration.kind],
            succeeded=True,
            power_state=result.instance.power_state,
            launched_at=timezone.now(),
            fault_code="",
            fault_message="",
        )
        states.migration_event(migration.pk, "moved")
        move_hooks.instance_moved(migration.instance, migration.source, host)
        move_hooks.instance_usage_changed(migration.instance, "evacuated")

    def settle(self, job):
        migration = migration_of(job)
        failed(migration, job.error_code, "The instance could not be rebuilt on another host.")
        states.migration_event(migration.pk, "failed", error_code=job.error_code[:64])


def begin(actor, current, *, action="", host_id=None, force=False, reason="requested"):
    """Start evacuating `current` (loaded and locked by the caller, its host fenced); returns the job."""
    fenced_host = current.host
    states.begin(current, "evacuate")
    migration = Migration(
        instance=current,
        kind=Migration.EVACUATION,
        source=fenced_host,
        source_name=fenced_host.name,
        old_offering=current.offering,
        new_offering=current.offering,
        vm_state_before=current.vm_state,
        reason=reason,
    )
    # Its old host is confirmed off: its place there is given back, the new one is the instance's own.
    capacity.release(current.pk, host_id=fenced_host.pk)
    host = destination.choose(
        actor,
        current,
        current.offering,
        consumer=current.pk,
        kind="evacuation",
        leave=fenced_host,
        host_id=host_id,
        force=force,
    )
    migration.destination, migration.destination_name = host, host.name
    migration.save(force_insert=True)
    claims.place_on(current.pk, host, power_state="nostate")
    # Its ports are bound there at once: the spawn plugs its NICs, same MACs and addresses, into that
    # host's state.
    move_hooks.instance_moved(current, fenced_host, host)
    return start_move(EVACUATE, host, migration, actor=actor, action=action)


def after_fencing(instance):
    """A fenced host's instance, at rest: rebuilt elsewhere if its offering is HA, otherwise in error."""
    if instance.offering.ha and instance.image_id is not None:
        try:
            with transaction.atomic():
                begin(Actor.system("ha"), locked_instance(instance.pk), reason="host fenced")
                usage.record_instance_usage(instance.pk, STOPPED)
            return
        except ServiceError as refusal:
            log.warning("instance %s: HA evacuation refused: %s", instance.pk, refusal.message)
            fault = (
                "evacuation_refused",
                f"{FENCED_FAULT} Rebuilding it elsewhere was refused: {refusal.message}",
            )
    else:
        fault = ("host_fenced", FENCED_FAULT)
    with transaction.atomic():
        erred = (
            Instance.objects.filter(pk=instance.pk, task_state__isnull=True)
            .exclude(vm_state=states.DELETED)
            .update(
                vm_state=states.ERROR,
                power_state="shutoff",
                fault_code=fault[0],
                fault_message=fault[1][:1024],
                updated_at=timezone.now(),
            )
        )
        # Its host is confirmed off: the guest no longer runs, nor is billed as running.
        if erred:
            usage.record_instance_usage(instance.pk, STOPPED)
