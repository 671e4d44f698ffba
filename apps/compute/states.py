"""The instance state machine, in one table of transitions: which instance action may start from which
(vm_state, task_state), and where it ends; and the table of a move's statuses (MIGRATION_EVENTS).

Nova's model: `vm_state` is where the instance rests, `task_state` what is
being done to it (None when nothing is). Each action moves
(vm_state, None) -> (vm_state, task) when it starts, then on the host's
answer to (done, None) or (failed, None); `None` in those columns means "the
vm_state does not change". Resting states of later issues (resized, shelved,
migrating...) are added to VM_STATES and to this table, nowhere else.

Every move is a compare-and-set UPDATE `… WHERE vm_state = <seen> AND
task_state = <seen>`: of two racing requests exactly one starts its action, and
an answer from the host only finishes the action it belongs to.

Moves (apps/compute/moves): a resize rests in `resized` until it is confirmed or
reverted, which return the instance to the vm_state it left (active or stopped,
recorded on its migration: the transitions' BEFORE_MOVE); a cold or live
migration keeps the vm_state; an evacuation (after the host was fenced) rebuilds
the instance elsewhere and ends active, or in error.
"""

from dataclasses import dataclass

from django.apps import apps
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from apps.core.errors import Conflict

from . import usage

BUILDING, ACTIVE, STOPPED, PAUSED, SUSPENDED, RESIZED, ERROR, DELETED = (
    "building",
    "active",
    "stopped",
    "paused",
    "suspended",
    "resized",
    "error",
    "deleted",
)
VM_STATES = (BUILDING, ACTIVE, STOPPED, PAUSED, SUSPENDED, RESIZED, ERROR, DELETED)

SCHEDULING, SPAWNING = "scheduling", "spawning"
POWERING_OFF, POWERING_ON = "powering-off", "powering-on"
REBOOTING, REBOOTING_HARD = "rebooting", "rebooting-hard"
PAUSING, UNPAUSING, SUSPENDING, RESUMING = "pausing", "unpausing", "suspending", "resuming"
REBUILDING, IMAGE_SNAPSHOT, DELETING = "rebuilding", "image-snapshot", "deleting"
RESIZE_MIGRATING, RESIZE_CONFIRMING, RESIZE_REVERTING = (
    "resize-migrating",
    "resize-confirming",
    "resize-reverting",
)
MIGRATING, LIVE_MIGRATING, EVACUATING = "migrating", "live-migrating", "evacuating"
ATTACHING_INTERFACE, DETACHING_INTERFACE = "attaching-interface", "detaching-interface"
TASK_STATES = (
    SCHEDULING,
    SPAWNING,
    POWERING_OFF,
    POWERING_ON,
    REBOOTING,
    REBOOTING_HARD,
    PAUSING,
    UNPAUSING,
    SUSPENDING,
    RESUMING,
    REBUILDING,
    IMAGE_SNAPSHOT,
    DELETING,
    RESIZE_MIGRATING,
    RESIZE_CONFIRMING,
    RESIZE_REVERTING,
    MIGRATING,
    LIVE_MIGRATING,
    EVACUATING,
    ATTACHING_INTERFACE,
    DETACHING_INTERFACE,
)

VM_STATE_CHOICES = [(s, s) for s in VM_STATES]
TASK_STATE_CHOICES = [(s, s) for s in TASK_STATES]

MOVE_TASKS = frozenset(
    {RESIZE_MIGRATING, RESIZE_CONFIRMING, RESIZE_REVERTING, MIGRATING, LIVE_MIGRATING, EVACUATING}
)

# Where a new instance starts: recorded, not yet placed.
INITIAL = (BUILDING, SCHEDULING)
IDLE = frozenset({None})
# An outcome the move decides and passes to finish() as vm_state: the state the instance rested in
# before the move (recorded on its migration), or, for a failed revert, where its guest is.
BEFORE_MOVE = "before-move"


@dataclass(frozen=True)
class Transition:
    name: str
    from_vm: frozenset
    task: str
    done: str | None
    failed: str | None
    from_task: frozenset = IDLE


def _transition(name, from_vm, task, done, failed, from_task=IDLE):
    return Transition(name, frozenset(from_vm), task, done, failed, frozenset(from_task))


_RUNNABLE = (ACTIVE, STOPPED, PAUSED, SUSPENDED)

TRANSITIONS = {
    a.name: a
    for a in (
        # Placement done in the create transaction; the host makes the domain.
        _transition("spawn", {BUILDING}, SPAWNING, ACTIVE, ERROR, from_task={SCHEDULING}),
        _transition("start", {STOPPED}, POWERING_ON, ACTIVE, None),
        _transition("stop", {ACTIVE, PAUSED, SUSPENDED}, POWERING_OFF, STOPPED, None),
        _transition("reboot", {ACTIVE}, REBOOTING, ACTIVE, None),
        _transition("reboot_hard", {ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR}, REBOOTING_HARD, ACTIVE, None),
        _transition("pause", {ACTIVE}, PAUSING, PAUSED, None),
        _transition("unpause", {PAUSED}, UNPAUSING, ACTIVE, None),
        _transition("suspend", {ACTIVE}, SUSPENDING, SUSPENDED, None),
        _transition("resume", {SUSPENDED}, RESUMING, ACTIVE, None),
        _transition("rebuild", {ACTIVE, STOPPED, ERROR}, REBUILDING, ACTIVE, ERROR),
        _transition("snapshot", _RUNNABLE, IMAGE_SNAPSHOT, None, None),
        _transition("attach_interface", _RUNNABLE, ATTACHING_INTERFACE, None, None),
        _transition("detach_interface", _RUNNABLE, DETACHING_INTERFACE, None, None),
        # Moves (apps/compute/moves). A resize rests in `resized`; a failed one is back where it was.
        _transition("resize", {ACTIVE, STOPPED}, RESIZE_MIGRATING, RESIZED, None),
        _transition("confirm_resize", {RESIZED}, RESIZE_CONFIRMING, BEFORE_MOVE, None),
        _transition("revert_resize", {RESIZED}, RESIZE_REVERTING, BEFORE_MOVE, BEFORE_MOVE),
        _transition("migrate", {ACTIVE, STOPPED}, MIGRATING, None, None),
        _transition("live_migrate", {ACTIVE}, LIVE_MIGRATING, None, None),
        # Only from a fenced host: the instance is rebuilt elsewhere from its image.
        _transition("evacuate", set(VM_STATES) - {BUILDING, DELETED}, EVACUATING, ACTIVE, ERROR),
        # Deleting wins over whatever else is under way, except a second delete and a move: a move
        # ends on one host or the other, and the delete goes where the instance is then.
        _transition(
            "delete",
            set(VM_STATES) - {DELETED},
            DELETING,
            DELETED,
            ERROR,
            from_task={None, *(set(TASK_STATES) - {DELETING, *MOVE_TASKS})},
        ),
    )
}


def allows(action_name, vm_state, task_state):
    transition = TRANSITIONS[action_name]
    return vm_state in transition.from_vm and task_state in transition.from_task


def _instances():
    return apps.get_model("compute", "Instance").objects


def placed_for(action_name):
    """(vm_state, task_state) of a new instance recorded once placed, `action_name` begun from INITIAL."""
    if not allows(action_name, *INITIAL):
        raise ValueError(f"{action_name} does not start from the initial states {INITIAL}")
    return INITIAL[0], TRANSITIONS[action_name].task


def begin(instance, action_name, **changes):
    """Start an action on an instance loaded by the caller, or raise Conflict (409 instance_invalid_state).

    The UPDATE is conditioned on the states the caller saw, so a concurrent
    change makes this fail rather than be overwritten.
    """
    transition = TRANSITIONS[action_name]
    seen_vm, seen_task = instance.vm_state, instance.task_state
    moved = allows(action_name, seen_vm, seen_task) and _instances().filter(
        pk=instance.pk, vm_state=seen_vm, task_state=seen_task
    ).update(task_state=transition.task, updated_at=timezone.now(), **changes)
    if not moved:
        current = _instances().filter(pk=instance.pk).values("vm_state", "task_state").first() or {}
        raise Conflict(
            f"Instance {instance.name} cannot {action_name.replace('_', ' ')} while it is "
            f"{_describe(current.get('vm_state'), current.get('task_state'))}.",
            code="instance_invalid_state",
            details={"action": action_name, **current},
        )
    instance.task_state = transition.task
    for field, value in changes.items():
        setattr(instance, field, value)


def finish(instance_id, action_name, *, succeeded, **changes):
    """End the action the instance is in: done or failed state, task cleared. False if it is not in it.

    Conditioned on the action's own task_state, so a late or repeated answer,
    or one about an action a delete has overtaken, changes nothing. What the
    instance is billed as from now on is recorded with the move (usage.py).
    """
    transition = TRANSITIONS[action_name]
    outcome = transition.done if succeeded else transition.failed
    if outcome == BEFORE_MOVE:
        if "vm_state" not in changes:
            raise ValueError(f"finishing {action_name} needs the vm_state the move decided")
    elif outcome is not None:
        changes["vm_state"] = outcome
    with transaction.atomic(savepoint=False):
        moved = bool(
            _instances()
            .filter(pk=instance_id, task_state=transition.task)
            .update(task_state=None, updated_at=timezone.now(), **changes)
        )
        if moved:
            usage.action_ended(instance_id, action_name, succeeded)
    return moved


def _describe(vm_state, task_state):
    return f"{vm_state} ({task_state})" if task_state else str(vm_state)


def guest_shut_down(instance_id):
    """The guest powered itself off (libvirt's reason "shutdown"): an idle active instance is now stopped.

    Only a shutdown the guest chose moves the instance; a domain off for any other
    reason (host crash, power cut) keeps its state (and is billed as running) for
    recovery to act on.
    """
    with transaction.atomic(savepoint=False):
        stopped = bool(
            _instances()
            .filter(pk=instance_id, vm_state=ACTIVE, task_state=None)
            .update(vm_state=STOPPED, power_state="shutoff", updated_at=timezone.now())
        )
        if stopped:
            usage.guest_stopped(instance_id)
    return stopped


# --- a move's statuses (models.Migration) -------------------------------------------------------

MOVING, AWAITING_CONFIRM, CONFIRMING, REVERTING, UNDOING = (
    "moving",
    "resized",
    "confirming",
    "reverting",
    "undoing",
)
DONE, REVERTED, FAILED, STRANDED = "done", "reverted", "failed", "error"
MIGRATION_STATUSES = (
    MOVING,
    AWAITING_CONFIRM,
    CONFIRMING,
    REVERTING,
    UNDOING,
    DONE,
    REVERTED,
    FAILED,
    STRANDED,
)
MIGRATION_STATUS_CHOICES = [(s, s) for s in MIGRATION_STATUSES]
MIGRATION_UNFINISHED = (MOVING, AWAITING_CONFIRM, CONFIRMING, REVERTING, UNDOING)

# event -> (statuses it may happen in, status it leads to)
MIGRATION_EVENTS = {
    # From undoing too: an undo that finds the guest running on the destination completes the move.
    "moved": ({MOVING, UNDOING}, DONE),
    "resized": ({MOVING, UNDOING}, AWAITING_CONFIRM),
    "confirm": ({AWAITING_CONFIRM}, CONFIRMING),
    "confirmed": ({CONFIRMING}, DONE),
    "confirm_failed": ({CONFIRMING}, AWAITING_CONFIRM),
    "revert": ({AWAITING_CONFIRM}, REVERTING),
    "reverted": ({REVERTING}, REVERTED),
    # The destination would not give the copy up: the resize stands.
    "revert_failed": ({REVERTING}, AWAITING_CONFIRM),
    # Failed before the source handed anything over: nothing to undo.
    "failed": ({MOVING}, FAILED),
    # Failed after: the destination must confirm it runs nothing of it before the source takes it back.
    "undo": ({MOVING}, UNDOING),
    "undone": ({UNDOING}, FAILED),
    # The instance was deleted before its resize was confirmed or reverted.
    "instance_deleted": ({AWAITING_CONFIRM}, DONE),
    # Could not be undone (or a revert half done): for an operator, the instance in error.
    "stranded": ({UNDOING, REVERTING}, STRANDED),
}


# Sent (migration_id) in the transaction where a move stops running: done, failed, resting in
# `resized`… (a drain starts its next move then).
move_ended = Signal()


def migration_event(migration_id, event, **changes):
    """Move a migration on `event` if its status allows it (compare-and-set); False when it did not."""
    sources, destination = MIGRATION_EVENTS[event]
    if destination not in MIGRATION_UNFINISHED:
        changes.setdefault("finished_at", timezone.now())
    moved = bool(
        apps.get_model("compute", "Migration")
        .objects.filter(pk=migration_id, status__in=sources)
        .update(status=destination, updated_at=timezone.now(), **changes)
    )
    if moved and not sources.isdisjoint({MOVING, UNDOING}) and destination not in (MOVING, UNDOING):
        move_ended.send(sender=None, migration_id=migration_id)
    return moved
