"""A job row is the durable record of one long operation, and the queue entry that runs it."""

import uuid

from django.db import models
from django.db.models import Q

from . import words


class Job(models.Model):
    PENDING, RUNNING, SUCCEEDED, FAILED = "pending", "running", "succeeded", "failed"
    STATES = [(s, s) for s in (PENDING, RUNNING, SUCCEEDED, FAILED)]
    CONTROLLER = "controller"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=64)
    # The policy action the job carries out: its result is shown only to those who may perform it.
    action = models.CharField(max_length=128, blank=True, default="")
    # "controller" for the controller's own workers, "host.<name>" for an agent queue.
    queue = models.CharField(max_length=200, default=CONTROLLER)
    state = models.CharField(max_length=16, choices=STATES, default=PENDING)
    payload = models.JSONField(default=dict, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    progress_message = models.CharField(max_length=255, blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.CharField(max_length=1024, blank=True, default="")
    object_type = models.CharField(max_length=64, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    # Where the job belongs, for the policy (same meaning as on audit events).
    domain_path = models.CharField(max_length=2048, blank=True, default="")
    project_id = models.UUIDField(null=True, blank=True, db_index=True)
    created_by_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    run_after = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    taken_by = models.CharField(max_length=128, blank=True, default="")
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # Host work runs in steps (apps.infrastructure.hostwork): the step in flight, counted from 0, the id
    # its task was sent under (the job's own id for the first step), which the host's reports name, and
    # when a later step became due (the first is due from created_at).
    step = models.PositiveSmallIntegerField(default=0)
    task_id = models.UUIDField(unique=True, editable=False)
    step_began_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["queue", "created_at"],
                name="job_pending",
                condition=Q(state="pending"),
            ),
            models.Index(
                fields=["deadline"],
                name="job_unfinished_deadline",
                condition=Q(state__in=["pending", "running"]),
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.id} ({self.state})"

    def save(self, *args, **kwargs):
        if self.task_id is None:
            self.task_id = self.id
        super().save(*args, **kwargs)

    @property
    def finished(self):
        return self.state in (self.SUCCEEDED, self.FAILED)

    @property
    def title(self):
        """What pages call the job: "Launch", not compute.instance.spawn (apps.jobs.words)."""
        return words.title_of(self.kind)

    @property
    def hint(self):
        """What pages say about the job while it runs, or "" (apps.jobs.words)."""
        return words.hint_for(self)


class PeriodicRun(models.Model):
    """When each piece of periodic work last ran, cluster-wide."""

    name = models.CharField(max_length=100, primary_key=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_controller = models.CharField(max_length=128, blank=True, default="")
    runs = models.PositiveBigIntegerField(default=0)
