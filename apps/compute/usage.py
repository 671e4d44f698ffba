"""What compute tells metering: whether an instance runs, recorded in the transaction that changes it.

An instance is billed per hour it runs (apps/metering/events.py): from the end
of the action that starts it until the end of the one that stops or deletes
it. Every action ends through states.finish and a guest that powers itself off
through states.guest_shut_down; both record here, in their own UPDATE's
transaction, so an event exists exactly when its state change committed. Other
moves of an instance (resize, migration) call `record_instance_usage` in theirs.

Instances are read with `apps.get_model`: states.py imports this module, and
the models import states.
"""

from django.apps import apps
from django.db.models import F

from apps.metering.events import DELETED, INSTANCE, RUNNING, STOPPED
from apps.metering.recorder import record_rows

# (action, succeeded) -> what the instance is billed as after that end of the action. Left out,
# as they change nothing billed: reboot, pause and unpause (a paused guest still holds its host's
# CPU and memory), snapshot; a failed spawn (it never ran); a failed delete (its guest may still
# run: it stays billed as it was until a delete succeeds).
USAGE_AFTER = {
    ("spawn", True): RUNNING,
    ("start", True): RUNNING,
    ("resume", True): RUNNING,
    ("rebuild", True): RUNNING,
    ("reboot_hard", True): RUNNING,
    ("stop", True): STOPPED,
    ("suspend", True): STOPPED,
    ("delete", True): DELETED,
    # The root disk was being replaced: the instance is in error, its guest not running.
    ("rebuild", False): STOPPED,
}
# Moves record what the instance is billed as when they end, with the offering they end with
# (move_hooks.instance_usage_changed): their ends here would record it twice.
RECORDED_BY_MOVES = frozenset(
    {"resize", "confirm_resize", "revert_resize", "migrate", "live_migrate", "evacuate"}
)


def record_instance_usage(instance_id, event_type):
    """Record that the instance now runs (RUNNING), or no longer does (STOPPED, DELETED), with its
    offering and name as they are now; in the caller's transaction, one statement."""
    instance = apps.get_model("compute", "Instance").objects.filter(pk=instance_id)
    return record_rows(
        INSTANCE,
        event_type,
        instance.values(
            "project_id",
            "offering_id",
            resource_id=F("id"),
            resource_name=F("name"),
            offering_name=F("offering__name"),
        ),
    )


def action_ended(instance_id, action_name, succeeded):
    """The instance's action just ended this way: record what it is billed as now, if that changed."""
    event_type = USAGE_AFTER.get((action_name, succeeded))
    if event_type is not None:
        record_instance_usage(instance_id, event_type)


def guest_stopped(instance_id):
    """The guest powered itself off and the instance is now stopped: it no longer runs."""
    record_instance_usage(instance_id, STOPPED)
