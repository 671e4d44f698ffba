"""Cold migration and resize: the source hands the disks over, the destination receives them.

Steps: PREPARE on the source (stop the guest, move its files aside, report the
disks' sizes), then RECEIVE on the destination (fetch with signed tickets, the
source hashing as it sends, check the checksums and the disks, define, start if
it ran; report the checksums it verified, which the migration records). The
guest runs on the destination once the second step succeeded
(outcomes.arrived): a cold migration is over, a resize rests in `resized`
until it is confirmed or reverted (undo.py).

A failure settles into undoing it (outcomes.undo): the destination discards
what it made (if RECEIVE was sent), then the source takes its copy back.
"""

from ..models import Migration
from . import outcomes
from .steps import PREPARE, RECEIVE, MoveWork, migration_of

COLD = "compute.move.cold"
RESIZE = "compute.move.resize"


class HandOver(MoveWork):
    steps = (PREPARE, RECEIVE)
    deadline_setting = "CLOUDMGR_MIGRATION_DEADLINE_SECONDS"

    def step_succeeded(self, job, host, result):
        """The source handed its disks over: the destination's step is built from what it reported."""
        _record_disks(job, result.disks)

    def succeeded(self, job, host, result):
        """The disks arrived, their checksums verified: the migration records those."""
        _record_disks(job, result.disks)
        outcomes.arrived(migration_of(job), host, result.instance.power_state)

    def settle(self, job):
        outcomes.undo(migration_of(job), handed_over=job.step > 0, error=(job.error_code, job.error_message))


def _record_disks(job, disks):
    migration = Migration.objects.get(pk=job.payload["migration_id"])
    handover = {**migration.handover, "disks": [disk.to_dict() for disk in disks]}
    Migration.objects.filter(pk=migration.pk).update(handover=handover)


class ColdMigration(HandOver):
    kind = COLD


class Resize(HandOver):
    kind = RESIZE
