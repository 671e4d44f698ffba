"""Live migration: the destination prepares, the source's libvirt moves the running guest, the destination
confirms it runs there.

Steps: PREPARE_LIVE_MIGRATION on the destination (its disks, and the source
expected at its migration gateway), LIVE_MIGRATE on the source (progress on the
job; aborted near the deadline, which leaves the guest running on the source),
FINISH_LIVE_MIGRATION on the destination. Once the source reports the migration
done, the guest runs on the destination: the instance is there.

A failure before that ends the instance's transition at once (its guest runs on
the source, as before) and asks the destination to discard its copy, keeping it
if the guest runs there after all (a migration whose report was lost), which
completes the move instead.
"""

from django.conf import settings

from agent import protocol

from .. import move_hooks, states
from ..models import Migration
from . import claims, outcomes
from .steps import MoveWork, Step, failed, migration_of, new_spec, on_destination, on_source

LIVE = "compute.move.live"


def _peer(migration):
    destination = migration.destination
    return protocol.MigrationPeer(
        host=destination.name,
        address=destination.management_ip,
        gateway_port=destination.migration_gateway_port,
    )


UNCONFIRMED = "The migrated guest could not be confirmed on its new host."
NOT_MIGRATED = "The live migration failed; the instance runs where it was."

PREPARE_LIVE = Step(
    task=protocol.PREPARE_LIVE_MIGRATION,
    payload=lambda job, m: protocol.PrepareLiveMigration(
        instance=new_spec(m), migration_id=str(m.pk), source_host=m.source.name
    ),
    host=on_destination,
)
MIGRATE = Step(
    task=protocol.LIVE_MIGRATE,
    payload=lambda job, m: protocol.LiveMigrate(
        instance=new_spec(m),
        migration_id=str(m.pk),
        destination=_peer(m),
        destination_data_dir=m.handover["data_dir"],
        max_downtime_ms=settings.CLOUDMGR_LIVE_MIGRATION_MAX_DOWNTIME_MS,
        bandwidth_mib_s=settings.CLOUDMGR_LIVE_MIGRATION_BANDWIDTH_MIB_S,
    ),
    host=on_source,
)
FINISH_LIVE = Step(
    task=protocol.FINISH_LIVE_MIGRATION,
    payload=lambda job, m: protocol.FinishLiveMigration(
        instance_id=str(m.instance_id), migration_id=str(m.pk)
    ),
    host=on_destination,
)


class LiveMigration(MoveWork):
    kind = LIVE
    steps = (PREPARE_LIVE, MIGRATE, FINISH_LIVE)
    deadline_setting = "CLOUDMGR_LIVE_MIGRATION_DEADLINE_SECONDS"

    def step_succeeded(self, job, host, result):
        migration = Migration.objects.get(pk=job.payload["migration_id"])
        if job.step == 0:
            handover = {**migration.handover, "data_dir": result.data_dir}
            Migration.objects.filter(pk=migration.pk).update(handover=handover)
        else:
            # libvirt persisted the guest there and undefined it here: the instance is there now, and so
            # are its ports (filtered there since the first step).
            claims.place_on(migration.instance_id, migration.destination)
            move_hooks.instance_moved(migration.instance, migration.source, migration.destination)

    def succeeded(self, job, host, result):
        outcomes.arrived(migration_of(job), host, result.instance.power_state, moved_already=True)

    def settle(self, job):
        migration = migration_of(job)
        # After the migration step, the source said the guest runs there and the destination could not
        # confirm it: it stays there. Before, the guest never left the source.
        there = job.step == 2
        failed(migration, job.error_code, UNCONFIRMED if there else NOT_MIGRATED)
        if there:
            claims.keep_destination(migration)
            states.migration_event(migration.pk, "moved", error_code=job.error_code[:64])
        else:
            outcomes.undo(migration, handed_over=True, error=(job.error_code, job.error_message))
