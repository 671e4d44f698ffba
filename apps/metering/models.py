"""Usage events and project moves: the raw facts billing is computed from.

Rows have no foreign keys: they outlive the resources, projects and domains
they describe, and they carry everything billing needs (the project's domain
path at the time, the offering, the size), so billing never reads another app
to price them. They are written by apps/metering/recorder.py only, each in the
transaction of the state change it describes, and never changed afterwards.

Each event also leaves a `PendingEvent` row, written by the same statement:
the billing rollup takes (deletes) those it counts, so the event table itself
is only ever appended to.
"""

from django.db import models
from django.db.models import Q

from .events import LIFECYCLES


class MeteredResource(models.Model):
    """The columns that say which resource is metered and where: an event's, and billing's records'."""

    resource_type = models.CharField(max_length=16, choices=[(t, t) for t in LIFECYCLES])
    resource_id = models.UUIDField()
    resource_name = models.CharField(max_length=255, blank=True, default="")
    project_id = models.UUIDField()
    # The project's domain path when the usage happened: it stays billable there.
    domain_path = models.CharField(max_length=2048)
    # Instances: the offering they ran with.
    offering_id = models.UUIDField(null=True, blank=True)
    offering_name = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        abstract = True


class UsageEvent(MeteredResource):
    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField()
    event_type = models.CharField(max_length=16)
    size_bytes = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["resource_type", "resource_id", "occurred_at", "id"], name="usage_event_timeline"
            ),
            models.Index(fields=["project_id"], name="usage_event_project"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(size_bytes__isnull=True) | Q(size_bytes__gte=0), name="usage_event_size_valid"
            )
        ]

    def __str__(self):
        return f"{self.resource_type} {self.resource_id} {self.event_type} at {self.occurred_at.isoformat()}"


class PendingEvent(models.Model):
    """An event the billing rollup has not counted yet (its outbox): deleted when it is counted."""

    # The UsageEvent's id (no foreign key: events are never deleted, and a check per row costs).
    event_id = models.BigIntegerField(primary_key=True)
    occurred_at = models.DateTimeField()
    resource_type = models.CharField(max_length=16)
    resource_id = models.UUIDField()

    class Meta:
        indexes = [models.Index(fields=["occurred_at"], name="pending_event_time")]


class ProjectMove(models.Model):
    """A project changed domains: from then on its resources' usage is billable to the new place."""

    id = models.BigAutoField(primary_key=True)
    project_id = models.UUIDField()
    moved_at = models.DateTimeField()
    from_path = models.CharField(max_length=2048)
    to_path = models.CharField(max_length=2048)
    rolled_up = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["project_id", "moved_at"], name="project_move_timeline"),
            models.Index(fields=["moved_at"], name="project_move_pending", condition=Q(rolled_up=False)),
        ]

    def __str__(self):
        return f"project {self.project_id} moved at {self.moved_at.isoformat()}"
