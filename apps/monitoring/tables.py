"""The sample tables: one row per instance (or host) per interval, every series a column.

Each subject has three tables: raw samples (one per CLOUDMGR_METRICS_INTERVAL_SECONDS),
5-minute and hourly rollups (averages, with the number of raw samples behind each
row). Each table is range-partitioned by time (apps/monitoring/partitions.py),
so retention drops whole partitions instead of deleting rows.
"""

from dataclasses import dataclass

from django.conf import settings

from agent import protocol

HOUR, DAY = 3600, 86400


@dataclass(frozen=True)
class SampleTable:
    name: str
    subject: str  # the subject's column: instance_id or host_id
    series: tuple
    # None for raw samples (one per ingest interval); else the width of a rollup row.
    step_seconds: int | None
    partition_seconds: int
    retention_setting: str

    @property
    def columns(self):
        return (self.subject, "at", *(("samples",) if self.step_seconds else ()), *self.series)

    @property
    def retention_seconds(self):
        return getattr(settings, self.retention_setting)

    @property
    def resolution_seconds(self):
        return self.step_seconds or settings.CLOUDMGR_METRICS_INTERVAL_SECONDS


def _tables(subject_name, subject, series):
    base = f"monitoring_{subject_name}_sample"
    return (
        SampleTable(f"{base}_raw", subject, series, None, HOUR, "CLOUDMGR_METRICS_RAW_RETENTION_SECONDS"),
        SampleTable(f"{base}_5m", subject, series, 300, DAY, "CLOUDMGR_METRICS_5M_RETENTION_SECONDS"),
        SampleTable(f"{base}_1h", subject, series, HOUR, 30 * DAY, "CLOUDMGR_METRICS_1H_RETENTION_SECONDS"),
    )


INSTANCE_RAW, INSTANCE_5M, INSTANCE_1H = _tables("instance", "instance_id", protocol.INSTANCE_SERIES)
HOST_RAW, HOST_5M, HOST_1H = _tables("host", "host_id", protocol.HOST_SERIES)
INSTANCE_TABLES = (INSTANCE_RAW, INSTANCE_5M, INSTANCE_1H)
HOST_TABLES = (HOST_RAW, HOST_5M, HOST_1H)
ALL_TABLES = INSTANCE_TABLES + HOST_TABLES
