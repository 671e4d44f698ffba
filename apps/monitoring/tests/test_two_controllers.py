"""Rollups and alerts under two real controllers: each rollup window is written by one controller once,
each alert opened and mailed once."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.core.tests.controllers import wait_until
from apps.infrastructure.models import Host
from apps.infrastructure.tests.factories import HostFactory
from apps.monitoring import partitions
from apps.monitoring.models import Alert
from apps.monitoring.rollup import MAX_SPAN, done_until
from apps.monitoring.tables import INSTANCE_1H, INSTANCE_5M, INSTANCE_RAW

from .samples import rows

pytestmark = pytest.mark.processes

DAYS = 3
_COVERED = re.compile(rf"{INSTANCE_5M.name} \[(\S+), (\S+)\)")


def insert_raw(instance_id, start, end):
    partitions.ensure(INSTANCE_RAW, start, end)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {INSTANCE_RAW.name} ({', '.join(INSTANCE_RAW.columns)})"  # noqa: S608
            f" SELECT %s, t, {', '.join(['1'] * len(INSTANCE_RAW.series))}"
            " FROM generate_series(%s::timestamptz, %s::timestamptz, '1 minute') t",
            [instance_id, start, end - timedelta(minutes=1)],
        )


def test_each_rollup_window_and_each_alert_happen_once_across_two_controllers(
    start_controller, tmp_path, root
):
    end = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    start = end - timedelta(days=DAYS)
    instance_id = "6f0e5a4c-1b2d-4e3f-8a9b-0c1d2e3f4a5b"
    insert_raw(instance_id, start, end)
    HostFactory(name="silent-host", state=Host.DOWN)
    mail = tmp_path / "mail"
    environment = {
        "CLOUDMGR_PERIOD_METRICS_ROLLUP": "1",
        "CLOUDMGR_PERIOD_METRICS_RETENTION": "1",
        # Past midnight the first day's 5-minute partition would be older than the default 3 days and
        # dropped: this test counts what the rollups wrote, not what retention keeps.
        "CLOUDMGR_METRICS_5M_RETENTION_SECONDS": str(30 * 86400),
        "CLOUDMGR_PERIOD_ALERTS": "1",
        "CLOUDMGR_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "CLOUDMGR_EMAIL_FILE_PATH": str(mail),
        "CLOUDMGR_ALERT_EMAILS": "ops@example.test",
    }
    controllers = [start_controller(name, environment=environment) for name in ("first", "second")]

    wait_until(lambda: (done_until(INSTANCE_5M) or start) >= end, 60, "the rollups to catch up")
    wait_until(
        lambda: done_until(INSTANCE_1H) is not None and done_until(INSTANCE_1H) >= end, 60, "hourly rows"
    )
    wait_until(lambda: Alert.objects.filter(notified_at__isnull=False).exists(), 60, "the alert's mail")
    for controller in controllers:
        controller.stop()

    windows = sorted(w for c in controllers for w in _COVERED.findall(c.log()))
    assert len(windows) >= DAYS * timedelta(days=1) / MAX_SPAN  # several runs, by whichever controller
    assert [w[0] for w in windows[1:]] == [w[1] for w in windows[:-1]]  # contiguous, never twice
    assert len(rows(INSTANCE_5M)) == DAYS * 288
    assert {r[0] for r in rows(INSTANCE_5M, "samples")} == {5}
    assert len(rows(INSTANCE_1H)) == DAYS * 24
    assert Alert.objects.filter(kind=Alert.HOST_DOWN).count() == 1
    messages = [p.read_text() for p in mail.iterdir()]
    assert sum(text.count("Subject: [cloudmgr] host_down: silent-host") for text in messages) == 1
