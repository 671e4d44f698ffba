"""The one-step jobs that finish or undo a move: discard on the destination, restore on the source,
forget on the source (a confirmed resize, or a finished cold migration's leftover).

- DiscardTarget: the destination removes what the move made there. Asked with
  `keep_if_running` (a failed move whose outcome is unknown), a guest running
  there is kept and completes the move instead (outcomes.arrived). Once it
  confirms, the source takes its copy back (outcomes.discarded). If it does not
  confirm, nothing is started elsewhere: an undo strands in error (its guest may
  run there), a revert leaves the resize as it was.
- RestoreSource: the source takes its handed-over copy back, defines the domain
  at the old size and starts it if it ran (outcomes.on_source).
- FinishSource: the source forgets its handed-over copy. For a resize that is the
  confirmation (the source's place is given back, the quota holds the new size);
  after a cold migration, nothing waits on it.
"""

from .. import move_hooks, states
from ..models import Instance
from . import claims, outcomes
from .steps import (
    DISCARD,
    DISCARD_TARGET,
    FINISH_SOURCE,
    FINISH_SOURCE_KIND,
    RESTORE,
    RESTORE_SOURCE,
    MoveWork,
    migration_of,
)


class OneStep(MoveWork):
    deadline_setting = "CLOUDMGR_MOVE_UNDO_DEADLINE_SECONDS"

    @staticmethod
    def purpose(job):
        return job.payload["purpose"]


class DiscardTarget(OneStep):
    kind = DISCARD_TARGET
    steps = (DISCARD,)

    def succeeded(self, job, host, result):
        migration = migration_of(job)
        if result.running_here:
            outcomes.arrived(migration, host, "running")
        else:
            outcomes.discarded(migration, purpose=self.purpose(job))

    def settle(self, job):
        migration = migration_of(job)
        if self.purpose(job) == "revert":
            states.finish(migration.instance_id, "revert_resize", succeeded=False, vm_state=states.RESIZED)
            states.migration_event(migration.pk, "revert_failed")
        else:
            outcomes.not_undone(migration, f"its destination did not discard its copy: {job.error_message}")


class RestoreSource(OneStep):
    kind = RESTORE_SOURCE
    steps = (RESTORE,)

    def succeeded(self, job, host, result):
        outcomes.on_source(migration_of(job), self.purpose(job), power_state=result.instance.power_state)

    def settle(self, job):
        outcomes.on_source(migration_of(job), self.purpose(job), power_state="shutoff", fault=job.error_code)


class FinishSource(OneStep):
    kind = FINISH_SOURCE_KIND
    steps = (FINISH_SOURCE,)
    deadline_setting = "CLOUDMGR_INSTANCE_ACTION_DEADLINE_SECONDS"

    def succeeded(self, job, host, result):
        if self.purpose(job) == "confirm":
            confirmed(migration_of(job))

    def settle(self, job):
        if self.purpose(job) == "confirm":
            migration = migration_of(job)
            states.finish(migration.instance_id, "confirm_resize", succeeded=False)
            states.migration_event(migration.pk, "confirm_failed", error_code=job.error_code[:64])


def confirmed(migration):
    """The resize stays: the source's place is given back and the quota holds the new size."""
    instance = migration.instance
    claims.keep_destination(migration)
    Instance.objects.filter(pk=instance.pk).update(previous_offering=None)
    claims.hold_size(instance, migration.new_offering)
    states.finish(instance.pk, "confirm_resize", succeeded=True, vm_state=migration.vm_state_before)
    states.migration_event(migration.pk, "confirmed")
    move_hooks.instance_usage_changed(instance, "resize confirmed")
