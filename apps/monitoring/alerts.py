"""Alerts: hosts down, hosts whose data disk is nearly full, too many failing jobs.

Each evaluation (periodic work, so one controller at a time, once per period)
finds the conditions that hold now. A condition without an open alert opens
one; an open alert whose condition no longer holds is resolved. Each alert is
e-mailed once: the mail is sent inside the transaction that marks it notified
(a compare-and-set), so a failed send is tried again at the next evaluation
and a sent one is never sent again. Thresholds are CLOUDMGR_ALERT_* settings.
"""

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from apps.core.policy import Principal
from apps.core.tree import PLATFORM, ROOT_DOMAIN_ID
from apps.identity.models import User
from apps.infrastructure.models import Host
from apps.jobs.models import Job

from .latest import latest_rows
from .models import Alert
from .policy_actions import ALERT_READ
from .tables import HOST_RAW

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Condition:
    kind: str
    subject: str
    subject_name: str
    message: str
    details: dict = field(default_factory=dict)


def hosts_down():
    return [
        Condition(Alert.HOST_DOWN, str(pk), name, f"Host {name} is down (no heartbeat).")
        for pk, name in Host.objects.filter(state=Host.DOWN, maintenance=False).values_list("pk", "name")
    ]


def disks_nearly_full(now):
    threshold = settings.CLOUDMGR_ALERT_HOST_DISK_PERCENT
    used, total = HOST_RAW.series.index("disk_used_mb") + 2, HOST_RAW.series.index("disk_total_mb") + 2
    rows = latest_rows(
        HOST_RAW, "s.host_id, h.name", f"JOIN {Host._meta.db_table} h ON h.id = s.host_id", now
    )
    found = []
    for row in rows:
        if row[total] and row[used] * 100 >= threshold * row[total]:
            percent = round(row[used] * 100 / row[total], 1)
            found.append(
                Condition(
                    Alert.HOST_DISK_FULL,
                    str(row[0]),
                    row[1],
                    f"Host {row[1]}: its data disk is {percent}% full.",
                    {"disk_used_mb": row[used], "disk_total_mb": row[total], "percent": percent},
                )
            )
    return found


def job_failure_rate(now):
    window = settings.CLOUDMGR_ALERT_JOB_FAILURE_WINDOW_SECONDS
    counts = Job.objects.filter(
        finished_at__gte=now - timedelta(seconds=window), state__in=[Job.SUCCEEDED, Job.FAILED]
    ).aggregate(total=Count("id"), failed=Count("id", filter=Q(state=Job.FAILED)))
    total, failed = counts["total"], counts["failed"]
    if total < settings.CLOUDMGR_ALERT_JOB_FAILURE_MIN_JOBS:
        return []
    if failed * 100 < settings.CLOUDMGR_ALERT_JOB_FAILURE_PERCENT * total:
        return []
    message = f"{failed} of the {total} jobs that finished in the last {window} s failed."
    return [Condition(Alert.JOB_FAILURES, Alert.CLOUD, "", message, {"failed": failed, "total": total})]


_OPEN_SQL = """
INSERT INTO monitoring_alert AS a
       (id, kind, subject, subject_name, message, details, opened_at, last_seen_at)
VALUES (gen_random_uuid(), %s, %s, %s, %s, %s::jsonb, %s, %s)
ON CONFLICT (kind, subject) WHERE resolved_at IS NULL
DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at, message = EXCLUDED.message, details = EXCLUDED.details
RETURNING (xmax = 0)
"""


def _record(conditions, now):
    """Open what is new, refresh what is open, resolve what no longer holds; (opened, resolved)."""
    opened = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for c in conditions:
            cursor.execute(
                _OPEN_SQL, [c.kind, c.subject, c.subject_name, c.message, json.dumps(c.details), now, now]
            )
            opened += cursor.fetchone()[0]
        holding = Q(pk__in=[])
        for c in conditions:
            holding |= Q(kind=c.kind, subject=c.subject)
        resolved = Alert.objects.filter(resolved_at__isnull=True).exclude(holding).update(resolved_at=now)
    return opened, resolved


def recipients():
    """CLOUDMGR_ALERT_EMAILS, or else the addresses of the active users who may read the alerts.

    Alerts name hosts, which only the platform's readers may learn: a role given on a
    sub-domain (even the cloud admin role) does not reach them, so only users with a
    role on ROOT are candidates, and each is asked the policy.
    """
    if settings.CLOUDMGR_ALERT_EMAILS:
        return list(settings.CLOUDMGR_ALERT_EMAILS)
    candidates = (
        User.objects.filter(is_active=True, assignments__domain_id=ROOT_DOMAIN_ID)
        .exclude(email="")
        .distinct()
    )
    return sorted({user.email for user in candidates if Principal(user).can(ALERT_READ, PLATFORM)})


def notify(now):
    """Mail every open alert not mailed yet, each once; how many were sent."""
    to = recipients()
    if not to:
        return 0
    sent = 0
    for alert in Alert.objects.filter(resolved_at__isnull=True, notified_at__isnull=True).order_by(
        "opened_at"
    ):
        try:
            sent += _mail(alert, to, now)
        except Exception:
            log.exception("the mail about alert %s was not sent; it is tried again next time", alert.pk)
    return sent


def _mail(alert, to, now):
    with transaction.atomic():
        if not Alert.objects.filter(pk=alert.pk, notified_at__isnull=True).update(notified_at=now):
            return 0
        subject = f"[cloudmgr] {alert.kind}: {alert.subject_name or alert.subject}"
        send_mail(subject, f"{alert.message}\n\nOpen since {alert.opened_at.isoformat()}.", None, to)
    return 1


def evaluate_alerts(now=None):
    """One evaluation; a line saying what changed (the periodic runner logs it)."""
    now = now or timezone.now()
    conditions = hosts_down() + disks_nearly_full(now) + job_failure_rate(now)
    opened, resolved = _record(conditions, now)
    sent = notify(now)
    changes = {"opened": opened, "resolved": resolved, "mailed": sent}
    return ", ".join(f"{n} {what}" for what, n in changes.items() if n)
