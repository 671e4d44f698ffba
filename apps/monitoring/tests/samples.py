"""Building MetricsReports and reading the sample tables back, for monitoring's tests."""

import time
from datetime import timedelta

import time_machine
from django.db import connection
from django.utils import timezone

from agent import protocol
from apps.monitoring.ingest import store_report


def host_sample(**values):
    defaults = dict.fromkeys(protocol.HOST_SERIES, 1)
    defaults.update(memory_used_mb=1024, memory_total_mb=8192, disk_used_mb=100, disk_total_mb=1000)
    return protocol.HostSample(**{**defaults, **values})


def instance_sample(instance_id, **values):
    defaults = dict.fromkeys(protocol.INSTANCE_SERIES, 1)
    return protocol.InstanceSample(instance_id=str(instance_id), **{**defaults, **values})


def report(host_name, instances=(), sampled_at=None, **host_values):
    return protocol.MetricsReport(
        protocol_version=protocol.PROTOCOL_VERSION,
        host=host_name,
        sampled_at=int(time.time() if sampled_at is None else sampled_at),
        period_seconds=60,
        host_sample=host_sample(**host_values),
        instances=list(instances),
    )


def rows(table, *columns):
    """Every row of a sample table (all partitions), as tuples of `columns`, ordered by subject and time."""
    with connection.cursor() as cursor:
        selected = ", ".join(columns or (table.subject, "at"))
        cursor.execute(f"SELECT {selected} FROM {table.name} ORDER BY {table.subject}, at")  # noqa: S608
        return cursor.fetchall()


def store_at(host, moment, instances=(), **host_values):
    """Store a report of the host sampled at `moment`, the clock set there (a report must be recent)."""
    with time_machine.travel(moment, tick=False):
        return store_report(host, report(host.name, instances, sampled_at=moment.timestamp(), **host_values))


def store_minutes(host, minutes, samples, end=None):
    """A report a minute for `minutes` minutes up to `end` (default now); `samples(minute)` gives the
    minute's (instance samples, host values), minute 0 the oldest."""
    end = end or timezone.now()
    for minute in range(minutes):
        instances, host_values = samples(minute)
        store_at(host, end - timedelta(minutes=minutes - 1 - minute), instances, **host_values)
