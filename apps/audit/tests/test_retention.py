"""Audit retention: the periodic purge deletes events older than CLOUDMGR_AUDIT_RETENTION_DAYS."""

from datetime import timedelta

from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.jobs.registry import periodic_work


def event_aged(days):
    event = AuditEvent.objects.create(
        actor_name="x", interface="api", action=f"probe.{days}", outcome="success"
    )
    AuditEvent.objects.filter(pk=event.pk).update(timestamp=timezone.now() - timedelta(days=days))
    return event


def test_the_periodic_purge_deletes_only_events_past_the_retention(db, settings):
    settings.CLOUDMGR_AUDIT_RETENTION_DAYS = 30
    for days in (0, 29, 31, 400):
        event_aged(days)
    purge = {work.name: work for work in periodic_work()}["audit.purge_old_events"]

    assert purge.fn() == 2

    assert sorted(AuditEvent.objects.values_list("action", flat=True)) == ["probe.0", "probe.29"]
    assert purge.period_seconds == settings.CLOUDMGR_PERIODS["audit.purge_old_events"]
