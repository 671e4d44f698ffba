"""The pieces every move's host work is built from: its subject, its steps' payloads, its transfer tickets.

The subject of a move's job is its Migration, read with the instance, the hosts
and both offerings when a step is sent. Every payload names the instance and the
migration; a report's result must name them too (check_result).
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from agent import protocol, signing
from apps.infrastructure.hostwork import dispatch
from apps.infrastructure.hostwork.kinds import HostWork, Step, refused, work_for
from apps.infrastructure.task_key import signing_key

from .. import states
from ..models import Instance, Migration
from ..specs import instance_spec

# The instance transition each kind of move is.
TRANSITION = {
    Migration.COLD: "migrate",
    Migration.RESIZE: "resize",
    Migration.LIVE: "live_migrate",
    Migration.EVACUATION: "evacuate",
}
# The one-step kinds that finish or undo a move (undo.py).
DISCARD_TARGET = "compute.move.discard_target"
RESTORE_SOURCE = "compute.move.restore_source"
FINISH_SOURCE_KIND = "compute.move.finish_source"


def start(kind, host, migration, **payload):
    """A job of one of the moves' one-step kinds; the migration's progress is that job's from now on."""
    job = dispatch.start(
        work_for(kind),
        host=host,
        payload={**ids(migration), **payload},
        obj=migration.instance,
        subject=migration,
    )
    Migration.objects.filter(pk=migration.pk).update(job_id=job.pk)
    return job


def start_move(kind, host, migration, *, actor, action):
    """The job of a whole move, its first step on `host`, started by `actor` doing `action`."""
    instance = migration.instance
    job = dispatch.start(
        work_for(kind),
        host=host,
        payload=ids(migration),
        action=action,
        target=instance.target(),
        obj=instance,
        actor=actor,
        subject=load_migration(migration.pk),
    )
    Migration.objects.filter(pk=migration.pk).update(job_id=job.pk)
    return job


def failed(migration, fault_code, fault_message, **changes):
    """The move's transition ends in failure, the instance saying why."""
    states.finish(
        migration.instance_id,
        TRANSITION[migration.kind],
        succeeded=False,
        fault_code=fault_code[:64],
        fault_message=fault_message,
        **changes,
    )


def locked_instance(instance_id):
    """The instance, its row locked for a move to start, with what choosing its destination reads."""
    return (
        Instance.objects.select_for_update(of=("self",))
        .select_related("host", "offering", "project__domain", "image", "affinity_group")
        .get(pk=instance_id)
    )


def migration_of(job):
    return load_migration(job.payload["migration_id"])


def load_migration(migration_id):
    """A migration with everything its steps are built from."""
    return (
        Migration.objects.select_related(
            "instance__project",
            "instance__offering",
            "instance__host",
            "instance__image__kernel",
            "instance__image__ramdisk",
            "source__zone",
            "destination__zone",
            "old_offering",
            "new_offering",
        )
        .filter(pk=migration_id)
        .first()
    )


def on_source(job, migration):
    return migration.source


def on_destination(job, migration):
    return migration.destination


def ids(migration):
    return {"instance_id": str(migration.instance_id), "migration_id": str(migration.pk)}


def was_running(migration):
    return migration.vm_state_before == states.ACTIVE


def old_spec(migration):
    return instance_spec(migration.instance, migration.old_offering)


def new_spec(migration):
    return instance_spec(migration.instance, migration.new_offering)


def transfer_source(migration):
    source = migration.source
    return protocol.TransferSource(host=source.name, address=source.management_ip, port=source.transfer_port)


def tickets(job, migration):
    """One signed ticket per disk the source handed over: for this destination, once, for a short time."""
    expires = min(job.deadline, timezone.now() + timedelta(seconds=settings.CLOUDMGR_TRANSFER_TICKET_SECONDS))
    key = signing_key()
    return [
        signing.sign_ticket(
            key,
            protocol.TransferTicket(
                ticket_id=str(uuid.uuid4()),
                migration_id=str(migration.pk),
                source=migration.source.name,
                destination=migration.destination.name,
                file=protocol.HandedOverFile.from_dict(disk),
                expires_at=int(expires.timestamp()),
            ),
        )
        for disk in migration.handover.get("disks", [])
    ]


PREPARE = Step(
    task=protocol.PREPARE_MIGRATION,
    payload=lambda job, m: protocol.PrepareMigration(
        **ids(m), graceful_timeout_seconds=settings.CLOUDMGR_INSTANCE_STOP_TIMEOUT_SECONDS
    ),
    host=on_source,
)
RECEIVE = Step(
    task=protocol.RECEIVE_MIGRATION,
    payload=lambda job, m: protocol.ReceiveMigration(
        instance=new_spec(m),
        migration_id=str(m.pk),
        source=transfer_source(m),
        tickets=tickets(job, m),
        start=was_running(m),
    ),
    host=on_destination,
)
DISCARD = Step(
    task=protocol.DISCARD_MIGRATION_TARGET,
    payload=lambda job, m: protocol.DiscardMigrationTarget(
        **ids(m), keep_if_running=job.payload.get("keep_if_running", False)
    ),
    host=on_destination,
)
RESTORE = Step(
    task=protocol.RESTORE_MIGRATION_SOURCE,
    payload=lambda job, m: protocol.RestoreMigrationSource(
        instance=old_spec(m), migration_id=str(m.pk), start=was_running(m)
    ),
    host=on_source,
)
FINISH_SOURCE = Step(
    task=protocol.FINISH_MIGRATION_SOURCE,
    payload=lambda job, m: protocol.FinishMigrationSource(**ids(m), undefine=m.source_id != m.destination_id),
    host=on_source,
)


class MoveWork(HostWork):
    """A kind of host work about one migration."""

    def subject(self, job):
        return migration_of(job)

    def check_result(self, job, result):
        for field in ("instance_id", "migration_id"):
            named = getattr(result, field, None)
            if named is None and hasattr(result, "instance"):
                named = result.instance.instance_id if field == "instance_id" else None
            if named is not None and named != job.payload[field]:
                raise refused(f"The result of task {job.pk} is about another {field.removesuffix('_id')}.")
