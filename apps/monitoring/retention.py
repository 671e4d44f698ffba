"""Retention: partitions ahead of the data are created, expired ones dropped, nothing not yet rolled up.

Each table keeps its rows for its CLOUDMGR_METRICS_*_RETENTION_SECONDS (at
least: a partition goes only once all of it has expired), and a rollup's
source keeps whatever its rollup has not consumed yet, whatever its retention.
"""

from datetime import timedelta

from django.utils import timezone

from . import partitions
from .rollup import ROLLUPS, done_until
from .tables import ALL_TABLES


def _cutoff(table, now):
    cutoff = now - timedelta(seconds=table.retention_seconds)
    for rollup in ROLLUPS:
        if rollup.source == table:
            consumed = done_until(rollup.target)
            if consumed is None:
                return None
            cutoff = min(cutoff, consumed)
    return cutoff


def apply_retention(now=None):
    """Create the coming partitions, drop the expired ones; a line saying what changed."""
    now = now or timezone.now()
    created = dropped = 0
    for table in ALL_TABLES:
        created += partitions.ensure_around(table, now)
        cutoff = _cutoff(table, now)
        if cutoff is not None:
            dropped += partitions.drop_before(table, cutoff)
    return f"{created} partitions created, {dropped} dropped" if created or dropped else ""
