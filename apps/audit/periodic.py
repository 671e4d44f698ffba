"""Audit retention: events older than CLOUDMGR_AUDIT_RETENTION_DAYS are deleted."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import AuditEvent


def purge_old_events():
    cutoff = timezone.now() - timedelta(days=settings.CLOUDMGR_AUDIT_RETENTION_DAYS)
    deleted, _ = AuditEvent.objects.filter(timestamp__lt=cutoff).delete()
    return deleted
