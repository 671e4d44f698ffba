"""The instance state machine, in one table of transitions: which instance action may start from which
(vm_state, task_state), and where it ends.

Nova's model: `vm_state` is where the instance rests, `task_state` what is
being done to it (None when nothing is). Each action moves
(vm_state, None) -> (vm_state, task) when it starts, then on the host's
answer to (done, None) or (failed, None); `None` in those columns means "the
vm_state does not change". Resting states of later issues (resized, shelved,
migrating...) are added to VM_STATES and to this table, nowhere else.

Every move is a compare-and-set UPDATE `… WHERE vm_state = <seen> AND
task_state = <seen>`: of two racing requests exactly one starts its action, and
an answer from the host only finishes the action it belongs to.
"""

from dataclasses import dataclass

from django.apps import apps
from django.utils import timezone

from apps.core.errors import Conflict

BUILDING, ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR, DELETED = (
    "building",
    "active",
    "stopped",
    "paused",
    "suspended",
    "error",
    "deleted",
)
VM_STATES = (BUILDING, ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR, DELETED)

SCHEDULING, SPAWNING = "scheduling", "spawning"
POWERING_OFF, POWERING_ON = "powering-off", "powering-on"
REBOOTING, REBOOTING_HARD = "rebooting", "rebooting-hard"
PAUSING, UNPAUSING, SUSPENDING, RESUMING = "pausing", "unpausing", "suspending", "resuming"
REBUILDING, IMAGE_SNAPSHOT, DELETING = "rebuilding", "image-snapshot", "deleting"
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
    ATTACHING_INTERFACE,
    DETACHING_INTERFACE,
)

VM_STATE_CHOICES = [(s, s) for s in VM_STATES]
TASK_STATE_CHOICES = [(s, s) for s in TASK_STATES]

# Where a new instance starts: recorded, not yet placed.
INITIAL = (BUILDING, SCHEDULING)
IDLE = frozenset({None})


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
        # Deleting wins over whatever else is under way; only a second delete is refused.
        _transition(
            "delete",
            set(VM_STATES) - {DELETED},
            DELETING,
            DELETED,
            ERROR,
            from_task={None, *(set(TASK_STATES) - {DELETING})},
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
    or one about an action a delete has overtaken, changes nothing.
    """
    transition = TRANSITIONS[action_name]
    outcome = transition.done if succeeded else transition.failed
    if outcome is not None:
        changes["vm_state"] = outcome
    return bool(
        _instances()
        .filter(pk=instance_id, task_state=transition.task)
        .update(task_state=None, updated_at=timezone.now(), **changes)
    )


def _describe(vm_state, task_state):
    return f"{vm_state} ({task_state})" if task_state else str(vm_state)


def guest_shut_down(instance_id):
    """The guest powered itself off (libvirt's reason "shutdown"): an idle active instance is now stopped.

    Only a shutdown the guest chose moves the instance; a domain off for any other
    reason (host crash, power cut) keeps its state for recovery to act on.
    """
    return bool(
        _instances()
        .filter(pk=instance_id, vm_state=ACTIVE, task_state=None)
        .update(vm_state=STOPPED, power_state="shutoff", updated_at=timezone.now())
    )
