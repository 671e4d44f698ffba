"""Audit retention: events older than CLOUDMGR_AUDIT_RETENTION_DAYS are deleted."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from apps.jobs.registry import periodic

from .models import AuditEvent


@periodic("audit.purge_old_events")
def purge_old_events():
    cutoff = timezone.now() - timedelta(days=settings.CLOUDMGR_AUDIT_RETENTION_DAYS)
    deleted, _ = AuditEvent.objects.filter(timestamp__lt=cutoff).delete()
    return deleted
