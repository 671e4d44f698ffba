"""Alerts, scrape tokens and rollup progress. The sample tables themselves are partitioned tables
written in SQL (apps/monitoring/tables.py, migration 0001), read and written by SQL only."""

import uuid

from django.db import models
from django.db.models import Q

from apps.core.tree import PLATFORM


class Alert(models.Model):
    """Something an operator must look at, open from when it is seen until it is no longer seen.

    At most one alert of a kind is open per subject (a host, or the cloud); it is
    e-mailed once (`notified_at`), and resolved when the condition clears.
    """

    HOST_DOWN, HOST_DISK_FULL, JOB_FAILURES = "host_down", "host_disk_nearly_full", "job_failure_rate"
    KINDS = [(k, k) for k in (HOST_DOWN, HOST_DISK_FULL, JOB_FAILURES)]
    TITLES = {
        HOST_DOWN: "Host down",
        HOST_DISK_FULL: "Host disk nearly full",
        JOB_FAILURES: "Job failure rate",
    }
    HOST_KINDS = (HOST_DOWN, HOST_DISK_FULL)
    CLOUD = "cloud"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32, choices=KINDS)
    # The host's id, or "cloud" for a cloud-wide alert.
    subject = models.CharField(max_length=64)
    subject_name = models.CharField(max_length=255, blank=True, default="")
    message = models.CharField(max_length=1024)
    details = models.JSONField(default=dict, blank=True)
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"], condition=Q(resolved_at__isnull=True), name="alert_one_open"
            )
        ]

    def __str__(self):
        return f"{self.kind} {self.subject_name or self.subject}"

    def target(self):
        return PLATFORM

    @property
    def title(self):
        return self.TITLES[self.kind]

    @property
    def host_id(self):
        """The host an alert is about (None for a cloud-wide one)."""
        return self.subject if self.kind in self.HOST_KINDS else None


class ScrapeToken(models.Model):
    """A secret that lets Prometheus read /metrics; only its SHA-256 is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=64, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class RollupProgress(models.Model):
    """How far a rollup has gone: every bucket of its target table before `done_until` is written."""

    target = models.CharField(max_length=63, primary_key=True)
    done_until = models.DateTimeField()
