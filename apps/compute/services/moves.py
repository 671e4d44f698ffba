"""Moving instances: resize (then confirm or revert), cold and live migration, evacuation.

Each starts in one transaction: the instance's compare-and-set move into the
move's task state, the move's record (models.Migration), the claims (the
destination, and for a resize the larger size in quota) and the move's job,
sent after commit; a refusal at any step leaves nothing behind. How the moves
run, succeed and are undone is apps/compute/moves.

Tenants resize their instances; moving them between hosts is for cloud
administrators, who may name a host (which must pass the scheduler's filters
unless they `force` it). Messages never name a host: the audit event's
platform details do, for those who may read them.
"""

from contextlib import contextmanager

from apps.audit.recorder import audited
from apps.core.errors import Conflict, ValidationFailed
from apps.identity.services.common import require
from apps.jobs.services import create_finished_job

from .. import move_hooks, states
from ..launch_images import check_fits
from ..models import Migration
from ..moves import claims, destination, evacuation, outcomes
from ..moves.cold import COLD, RESIZE
from ..moves.live import LIVE
from ..moves.steps import FINISH_SOURCE_KIND, load_migration, locked_instance, start_move
from ..moves.undo import confirmed
from . import launch

RESIZE_ACTION = "compute.instance.resize"


def _movable(current, kind):
    """The instance can start a move of `kind` from where it is, or a Conflict saying why."""
    if current.host is None:
        raise Conflict(f"Instance {current} has no host.", code="instance_has_no_host")
    if claims.fenced(current.host):
        raise Conflict(
            f"The host of instance {current} was fenced: evacuate it instead.", code="instance_host_fenced"
        )
    if current.image is None:
        raise Conflict(
            f"The image of instance {current} is gone: its disk cannot be rebuilt elsewhere.",
            code="image_gone",
        )
    able = destination.CAN_RECEIVE["live" if kind == Migration.LIVE else "cold"]
    if not type(current.host).objects.filter(able, pk=current.host_id).exists():
        raise Conflict(
            f"The host of instance {current} cannot take part in this move (its agent is too old, has no TLS "
            "certificate, or its hypervisor cannot do it).",
            code="host_cannot_move",
        )


def _start_move(
    actor,
    op,
    action,
    current,
    *,
    kind,
    transition,
    offering,
    host_id=None,
    force=False,
    reason="requested",
    changes=None,
    before_placing=None,
):
    """Begin `transition` on the locked instance and start the move's job; returns the job.

    `changes` are written with the instance's move; `before_placing()` runs after it (a resize's quota).
    """
    seen_vm_state, source, previous = current.vm_state, current.host, current.offering
    states.begin(current, transition, **(changes or {}))
    if before_placing is not None:
        before_placing()
    migration = Migration(
        instance=current,
        kind=kind,
        source=source,
        source_name=source.name,
        old_offering=previous,
        new_offering=offering,
        vm_state_before=seen_vm_state,
        reason=reason,
    )
    host = destination.choose(
        actor,
        current,
        offering,
        consumer=migration.pk,
        kind="live" if kind == Migration.LIVE else "cold",
        leave=None if kind == Migration.RESIZE else source,
        host_id=host_id,
        force=force,
    )
    migration.destination, migration.destination_name = host, host.name
    migration.save(force_insert=True)
    op.platform_details = {"source": source.name, "destination": host.name, "migration": str(migration.pk)}
    move_hooks.ports_arriving(current, host)
    first = host if kind == Migration.LIVE else source
    work = {Migration.COLD: COLD, Migration.RESIZE: RESIZE, Migration.LIVE: LIVE}[kind]
    return start_move(work, first, migration, actor=actor, action=action)


def resize(actor, instance, offering_id):
    """Resize to another offering: the instance rests in `resized` until it is confirmed or reverted."""
    with audited(actor, RESIZE_ACTION, target=instance.target(), obj=instance) as op:
        require(actor, RESIZE_ACTION, instance.target(), f"You may not resize {instance}.")
        current = locked_instance(instance.pk)
        offering = launch.offering_for(current.project, offering_id)
        old = current.offering
        if offering.pk == old.pk:
            raise ValidationFailed(
                f"Instance {current} already has offering {offering}.", code="same_offering"
            )
        if offering.root_disk_gb < old.root_disk_gb or offering.ephemeral_disk_gb < old.ephemeral_disk_gb:
            raise ValidationFailed(
                f"Offering {offering} has smaller disks than {old}: disks are never shrunk.",
                code="cannot_shrink_disks",
            )
        _movable(current, Migration.RESIZE)
        check_fits(current.image, offering)
        op.details = {"offering": offering.name, "previous_offering": old.name}
        return _start_move(
            actor,
            op,
            RESIZE_ACTION,
            current,
            kind=Migration.RESIZE,
            transition="resize",
            offering=offering,
            changes={
                "offering_id": offering.pk,
                "vcpus": offering.vcpus,
                "ram_mb": offering.ram_mb,
                "root_disk_gb": offering.root_disk_gb,
                "ephemeral_disk_gb": offering.ephemeral_disk_gb,
                "previous_offering_id": old.pk,
            },
            before_placing=lambda: claims.hold_larger_size(current, old, offering, reader=actor.principal),
        )


@contextmanager
def _answering_resize(actor, instance, action, verb):
    """Audit `action` on the instance; yields (audit op, locked instance, its resize awaiting an answer)."""
    with audited(actor, action, target=instance.target(), obj=instance) as op:
        require(actor, action, instance.target(), f"You may not {verb} the resize of {instance}.")
        current = locked_instance(instance.pk)
        migration = (
            Migration.objects.filter(instance=current, kind=Migration.RESIZE, status=states.AWAITING_CONFIRM)
            .order_by("-created_at")
            .first()
        )
        if migration is None:
            raise Conflict(f"Instance {current} has no resize to confirm or revert.", code="no_resize")
        yield op, current, load_migration(migration.pk)


def confirm_resize(actor, instance):
    """Keep the new size: the source's copy and place go, the quota holds the new size."""
    action = "compute.instance.confirm_resize"
    with _answering_resize(actor, instance, action, "confirm") as (op, current, migration):
        states.begin(current, "confirm_resize")
        states.migration_event(migration.pk, "confirm")
        op.platform_details = {"source": migration.source_name, "migration": str(migration.pk)}
        if claims.fenced(migration.source):
            # The old copy went with its host: nothing to forget there.
            confirmed(load_migration(migration.pk))
            return create_finished_job(
                FINISH_SOURCE_KIND, action=action, target=current.target(), obj=current, actor=actor
            )
        return outcomes.start(FINISH_SOURCE_KIND, migration.source, migration, purpose="confirm")


def revert_resize(actor, instance):
    """Go back to the old size on the source: the destination discards its copy, the source's starts."""
    action = "compute.instance.revert_resize"
    with _answering_resize(actor, instance, action, "revert") as (op, current, migration):
        if claims.fenced(migration.source):
            raise Conflict(
                f"The old copy of instance {current} went with its fenced host: confirm the resize.",
                code="resize_source_fenced",
            )
        states.begin(current, "revert_resize")
        states.migration_event(migration.pk, "revert")
        op.platform_details = {"source": migration.source_name, "destination": migration.destination_name}
        if claims.fenced(migration.destination):
            return outcomes.discarded(migration, purpose="revert")
        return outcomes.start(
            outcomes.DISCARD_TARGET, migration.destination, migration, purpose="revert", keep_if_running=False
        )


def migrate(actor, instance, *, host_id=None, force=False, reason="requested"):
    """Cold-migrate: stop, move the disks, start on the destination (if it ran)."""
    return _migrate(actor, instance, Migration.COLD, host_id=host_id, force=force, reason=reason)


def live_migrate(actor, instance, *, host_id=None, force=False, reason="requested"):
    """Migrate the running guest without stopping it (libvirt, peer to peer over TLS)."""
    return _migrate(actor, instance, Migration.LIVE, host_id=host_id, force=force, reason=reason)


def _migrate(actor, instance, kind, *, host_id, force, reason):
    transition = "live_migrate" if kind == Migration.LIVE else "migrate"
    action = f"compute.instance.{transition}"
    with audited(actor, action, target=instance.target(), obj=instance) as op:
        words = transition.replace("_", "-")
        require(actor, action, instance.target(), f"You may not {words} {instance}.")
        current = locked_instance(instance.pk)
        _movable(current, kind)
        return _start_move(
            actor,
            op,
            action,
            current,
            kind=kind,
            transition=transition,
            offering=current.offering,
            host_id=host_id,
            force=force,
            reason=reason,
        )


def evacuate(actor, instance, *, host_id=None, force=False):
    """Rebuild an instance of a fenced host on another host, from its image."""
    action = "compute.instance.evacuate"
    with audited(actor, action, target=instance.target(), obj=instance) as op:
        require(actor, action, instance.target(), f"You may not evacuate {instance}.")
        current = locked_instance(instance.pk)
        if current.host is None or not claims.fenced(current.host):
            raise Conflict(
                f"Only the instances of a fenced host are evacuated; migrate {current} instead.",
                code="instance_host_not_fenced",
            )
        if current.image is None:
            raise Conflict(
                f"The image of instance {current} is gone: it cannot be rebuilt.", code="image_gone"
            )
        op.platform_details = {"source": current.host.name}
        return evacuation.begin(actor, current, action=action, host_id=host_id, force=force)
