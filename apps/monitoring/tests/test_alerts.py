"""Alerts: opened when their condition holds, mailed once, resolved when it clears."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.core import policy
from apps.identity.tests.factories import DomainFactory, UserFactory, grant
from apps.infrastructure.models import Host
from apps.infrastructure.tests.factories import HostFactory
from apps.jobs.models import Job
from apps.jobs.services import create_job
from apps.monitoring.alerts import evaluate_alerts
from apps.monitoring.ingest import store_report
from apps.monitoring.models import Alert

from .samples import report


@pytest.fixture(autouse=True)
def _recipients(settings):
    settings.CLOUDMGR_ALERT_EMAILS = ["ops@example.test"]


def open_alerts():
    return sorted(Alert.objects.filter(resolved_at__isnull=True).values_list("kind", "subject_name"))


def test_a_host_going_down_is_alerted_and_mailed_once_then_resolved_when_it_returns(root):
    host = HostFactory(name="down-1", state=Host.DOWN)

    evaluate_alerts()
    evaluate_alerts()

    assert open_alerts() == [(Alert.HOST_DOWN, "down-1")]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@example.test"]
    assert "down-1" in mail.outbox[0].subject
    Host.objects.filter(pk=host.pk).update(state=Host.UP)
    evaluate_alerts()
    assert open_alerts() == []
    assert Alert.objects.get().resolved_at is not None
    Host.objects.filter(pk=host.pk).update(state=Host.DOWN)
    evaluate_alerts()
    assert len(mail.outbox) == 2  # a new alert, a new mail


def test_a_host_in_maintenance_is_not_alerted_when_down(root):
    HostFactory(name="resting", state=Host.DOWN, maintenance=True)
    evaluate_alerts()
    assert open_alerts() == []


def test_a_nearly_full_data_disk_is_alerted_from_the_latest_host_sample(agent, host, settings):
    settings.CLOUDMGR_ALERT_HOST_DISK_PERCENT = 90
    agent.heartbeat()
    store_report(host, report(host.name, disk_used_mb=950, disk_total_mb=1000))

    evaluate_alerts()

    (alert,) = Alert.objects.all()
    assert (alert.kind, alert.subject) == (Alert.HOST_DISK_FULL, str(host.pk))
    assert alert.details["percent"] == 95.0
    assert len(mail.outbox) == 1


def finish(count, state):
    for _ in range(count):
        job = create_job("test.alerts")
        Job.objects.filter(pk=job.pk).update(state=state, finished_at=timezone.now())


def test_many_failing_jobs_raise_one_cloud_wide_alert(root, settings):
    settings.CLOUDMGR_ALERT_JOB_FAILURE_MIN_JOBS = 4
    settings.CLOUDMGR_ALERT_JOB_FAILURE_PERCENT = 50
    finish(2, Job.SUCCEEDED)
    finish(1, Job.FAILED)
    evaluate_alerts()
    assert open_alerts() == []

    finish(2, Job.FAILED)
    evaluate_alerts()
    assert open_alerts() == [(Alert.JOB_FAILURES, "")]
    assert Alert.objects.get().details == {"failed": 3, "total": 5}


def test_old_failures_do_not_count(root, settings):
    settings.CLOUDMGR_ALERT_JOB_FAILURE_MIN_JOBS = 1
    finish(3, Job.FAILED)
    Job.objects.update(finished_at=timezone.now() - timedelta(hours=2))
    evaluate_alerts()
    assert open_alerts() == []


def test_a_mail_that_cannot_be_sent_is_tried_again_next_time(root, settings):
    HostFactory(name="down-2", state=Host.DOWN)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1

    evaluate_alerts()
    assert Alert.objects.get().notified_at is None

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    evaluate_alerts()
    assert Alert.objects.get().notified_at is not None
    assert len(mail.outbox) == 1


def test_without_configured_addresses_the_cloud_admins_are_mailed(cloud_admin, settings):
    settings.CLOUDMGR_ALERT_EMAILS = []
    cloud_admin.email = "admin@example.test"
    cloud_admin.save()
    HostFactory(name="down-3", state=Host.DOWN)

    evaluate_alerts()

    assert mail.outbox[0].to == ["admin@example.test"]


def test_the_cloud_admin_role_given_on_a_sub_domain_is_not_mailed_the_platforms_alerts(cloud_admin, settings):
    """Alerts name hosts: only those who may read them on the platform get them, whatever the role."""
    settings.CLOUDMGR_ALERT_EMAILS = []
    cloud_admin.email = "admin@example.test"
    cloud_admin.save()
    sub_domain = DomainFactory()
    local_admin = UserFactory(domain=sub_domain, email="local@example.test")
    grant(local_admin, policy.CLOUD_ADMIN, sub_domain)
    HostFactory(name="down-4", state=Host.DOWN)

    evaluate_alerts()

    assert [message.to for message in mail.outbox] == [["admin@example.test"]]
