"""The instance actions a page offers: each button's label, and the service call it makes.

Which buttons show is decided by apps/compute/states.py alone (`allows`), so a
page never offers an action the state machine would refuse. Delete is not one of
these buttons: it destroys the guest's disks, so it has its own confirmed page
(instance_pages.delete_confirmed), apart from the harmless actions.
"""

from dataclasses import dataclass

from django.conf import settings

from apps.core.errors import ValidationFailed

from .. import states
from ..services import lifecycle, snapshots


@dataclass(frozen=True)
class Button:
    op: str
    label: str
    style: str = ""


BUTTONS = (
    Button("start", "Start"),
    Button("stop", "Stop", "secondary"),
    Button("reboot", "Reboot", "secondary"),
    Button("reboot_hard", "Hard reboot", "secondary"),
    Button("pause", "Pause", "secondary"),
    Button("unpause", "Unpause"),
    Button("suspend", "Suspend", "secondary"),
    Button("resume", "Resume"),
)
GRACEFUL = ("stop", "reboot", "reboot_hard")


def buttons_for(instance):
    return [b for b in BUTTONS if states.allows(b.op, instance.vm_state, instance.task_state)]


def can_delete(instance):
    return states.allows("delete", instance.vm_state, instance.task_state)


def can_rebuild(instance):
    return states.allows("rebuild", instance.vm_state, instance.task_state)


def can_snapshot(instance):
    return states.allows(snapshots.SNAPSHOT, instance.vm_state, instance.task_state)


def known(op):
    """The button `op` names; else a 400."""
    for button in BUTTONS:
        if button.op == op:
            return button
    raise ValidationFailed(f"Unknown action {op!r}.", code="unknown_action")


def perform(actor, instance, op):
    """Start the action a known `op` names (rebuild has its own form); returns its job."""
    if op in GRACEFUL:
        return lifecycle.act(
            actor, instance, op, graceful_timeout_seconds=settings.CLOUDMGR_INSTANCE_STOP_TIMEOUT_SECONDS
        )
    return lifecycle.act(actor, instance, op)
