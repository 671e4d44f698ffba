"""The series of one instance, one host or the whole cloud over a window, for charts: from PostgreSQL,
or from Prometheus when CLOUDMGR_PROMETHEUS_URL is set.

The window chooses the resolution: the last hour from raw samples, the last
day from 5-minute rows, the last week from hourly ones. The cloud's series are
every host's added up, interval by interval. The answer is columnar (one list
of times, one list of values per series), the shape charts draw.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from agent import protocol
from apps.core.errors import ValidationFailed

from . import prometheus
from .tables import HOST_TABLES, INSTANCE_TABLES

# window -> (seconds, index of the table in INSTANCE_TABLES / HOST_TABLES)
WINDOWS = {"hour": (3600, 0), "day": (86400, 1), "week": (7 * 86400, 2)}


def parse_window(value):
    if value not in WINDOWS:
        raise ValidationFailed(f"window must be one of {', '.join(WINDOWS)}.", code="bad_window")
    return value


def _from_database(table, subject_id, since):
    """One subject's rows; with subject_id None, every subject's added up per interval."""
    if subject_id is None:
        columns = ", ".join(f"sum({name})" for name in table.series)
        condition, parameters = "at >= %s GROUP BY at", [since]
    else:
        columns = ", ".join(table.series)
        condition, parameters = f"{table.subject} = %s AND at >= %s", [subject_id, since]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT extract(epoch FROM at)::bigint, {columns} FROM {table.name}"  # noqa: S608 (names from tables.py, values bound)
            f" WHERE {condition} ORDER BY at",
            parameters,
        )
        rows = cursor.fetchall()
    return {
        "timestamps": [row[0] for row in rows],
        "series": {name: [row[i + 1] for row in rows] for i, name in enumerate(table.series)},
    }


def _read(tables, prometheus_series, selector, subject_id, window, now):
    seconds, index = WINDOWS[parse_window(window)]
    table = tables[index]
    since = (now or timezone.now()) - timedelta(seconds=seconds)
    if settings.CLOUDMGR_PROMETHEUS_URL:
        found = prometheus.query_series(prometheus_series, selector, since, now, table.resolution_seconds)
        source = "prometheus"
    else:
        found = _from_database(table, subject_id, since)
        source = "database"
    return {"window": window, "resolution_seconds": table.resolution_seconds, "source": source, **found}


def instance_series(instance, window, now=None):
    selector = {protocol.PROMETHEUS_INSTANCE_LABEL: str(instance.pk)}
    # Only what was scraped from the instance's own host: another host cannot speak for it.
    selector[protocol.PROMETHEUS_HOST_LABEL] = instance.host.name if instance.host_id else ""
    found = _read(INSTANCE_TABLES, protocol.PROMETHEUS_INSTANCE_SERIES, selector, instance.pk, window, now)
    subject = {"type": "instance", "id": str(instance.pk), "vcpus": instance.vcpus, "ram_mb": instance.ram_mb}
    return {"subject": subject, **found}


def host_series(host, window, now=None):
    selector = {protocol.PROMETHEUS_HOST_LABEL: host.name}
    found = _read(HOST_TABLES, protocol.PROMETHEUS_HOST_SERIES, selector, host.pk, window, now)
    subject = {
        "type": "host",
        "id": str(host.pk),
        "name": host.name,
        "cpus": host.cpus,
        "ram_mb": host.ram_mb,
    }
    return {"subject": subject, **found}


def cloud_series(window, now=None):
    """Every host's series added up per interval (Prometheus: summed over every scraped host)."""
    found = _read(HOST_TABLES, protocol.PROMETHEUS_HOST_SERIES, {}, None, window, now)
    return {"subject": {"type": "cloud"}, **found}
