"""What the end of a move does to its instance, its migration record and its claims, whichever job ends it.

Each runs in the transaction that records the job's outcome, once (the job's
own compare-and-set decides who gets here). The instance's transition is ended
with states.finish, conditioned on the move's own task state. Messages an
instance keeps (its fault) are read by tenants: they never name a host.
"""

import logging

from .. import move_hooks, states
from ..models import Instance, Migration
from . import claims, evacuation
from .steps import DISCARD_TARGET, FINISH_SOURCE_KIND, RESTORE_SOURCE, TRANSITION, failed, start

log = logging.getLogger(__name__)

NOT_UNDONE = (
    "The move failed and could not be undone: the instance's copy is held until an operator settles it."
)


def arrived(migration, host, power_state, *, moved_already=False):
    """The guest runs on the destination: the instance is there (a resize rests there, awaiting confirm).

    Also the end of a move whose undo found the guest running on the destination after all.
    `moved_already`: the move told the other apps when the guest changed hosts (a live migration does,
    at its migrate step, since its ports must follow the running guest before the move finishes).
    """
    instance = migration.instance
    claims.place_on(instance.pk, host, power_state=power_state)
    if migration.kind == Migration.RESIZE:
        states.finish(instance.pk, "resize", succeeded=True)
        states.migration_event(migration.pk, "resized")
    else:
        claims.keep_destination(migration)
        states.finish(instance.pk, TRANSITION[migration.kind], succeeded=True)
        states.migration_event(migration.pk, "moved")
    if host.pk != migration.source_id and not moved_already:
        move_hooks.instance_moved(instance, migration.source, host)
    move_hooks.instance_usage_changed(
        instance, "resized" if migration.kind == Migration.RESIZE else "migrated"
    )
    if migration.kind == Migration.COLD:
        # The source's copy cannot start (its domain names disks that are not there): nothing waits on this.
        start(FINISH_SOURCE_KIND, migration.source, migration, purpose="cleanup")


def undo(migration, *, handed_over, error):
    """The move failed. Undo it: the destination discards what it made (unless nothing was handed over,
    or the destination is fenced: off for good), then the source takes its copy back and starts it."""
    code, message = error
    states.migration_event(migration.pk, "undo", error_code=code[:64], error_message=message[:1024])
    if handed_over and not claims.fenced(migration.destination):
        start(DISCARD_TARGET, migration.destination, migration, purpose="undo", keep_if_running=True)
    else:
        discarded(migration, purpose="undo")


def discarded(migration, *, purpose):
    """The destination holds nothing of the move: its place goes, the source takes its copy back
    (returns the job that does, if any)."""
    claims.give_back_destination(migration)
    move_hooks.ports_not_arriving(migration.instance, migration.destination)
    if migration.kind == Migration.LIVE:
        # The guest never left its source.
        states.migration_event(migration.pk, "undone")
    elif not claims.fenced(migration.source):
        # The source defines its copy with its NICs: its state must hold them (a revert's ports are bound
        # to the destination until the copy runs on the source again).
        move_hooks.ports_arriving(migration.instance, migration.source)
        return start(RESTORE_SOURCE, migration.source, migration, purpose=purpose)
    else:
        # The source is off for good: the instance is back there, and treated as its other instances were.
        on_source(migration, purpose, power_state="shutoff")
        evacuation.after_fencing(
            Instance.objects.select_related("offering", "host").get(pk=migration.instance_id)
        )


def on_source(migration, purpose, *, power_state, fault=None):
    """The instance is back on its source at its old size (an undone move, a reverted resize); with
    `fault`, its copy there could not be started: it rests in error."""
    instance = migration.instance
    old = migration.old_offering
    changes = {"power_state": power_state}
    if migration.kind == Migration.RESIZE:
        changes.update(
            offering=old,
            vcpus=old.vcpus,
            ram_mb=old.ram_mb,
            root_disk_gb=old.root_disk_gb,
            ephemeral_disk_gb=old.ephemeral_disk_gb,
            previous_offering=None,
        )
    if fault is not None:
        changes.update(vm_state=states.ERROR, fault_code=fault[:64], fault_message=NOT_UNDONE)
    elif purpose == "revert":
        changes["vm_state"] = migration.vm_state_before
    else:
        changes.update(
            fault_code=migration.error_code,
            fault_message=f"The move failed ({migration.error_code}); the instance is back where it was.",
        )
    claims.place_on(instance.pk, migration.source)
    transition = "revert_resize" if purpose == "revert" else TRANSITION[migration.kind]
    states.finish(instance.pk, transition, succeeded=purpose == "revert" and fault is None, **changes)
    if migration.kind == Migration.RESIZE:
        claims.hold_size(instance, old)
    if purpose == "revert" and migration.destination_id != migration.source_id:
        # Back on its source, started or not: its ports are bound there again.
        move_hooks.instance_moved(instance, migration.destination, migration.source)
    if fault is not None:
        states.migration_event(migration.pk, "stranded")
        return
    states.migration_event(migration.pk, "reverted" if purpose == "revert" else "undone")
    if purpose == "revert":
        move_hooks.instance_usage_changed(instance, "resize reverted")


def not_undone(migration, why):
    """The destination did not confirm it discarded its copy: everything stays held, the instance goes to
    error (its guest may run there: nothing is started elsewhere), for an operator to settle (fencing the
    destination does)."""
    log.error("migration %s of instance %s was not undone: %s", migration.pk, migration.instance_id, why)
    states.migration_event(migration.pk, "stranded", error_message=why[:1024])
    if migration.kind == Migration.LIVE:
        # Its guest runs on the source, as before; only the destination's place stays held.
        return
    failed(migration, "move_not_undone", NOT_UNDONE, vm_state=states.ERROR)
