"""Downsampling: raw samples into 5-minute rows, 5-minute rows into hourly ones.

Each rollup averages the series of its source over its target's buckets (the
5-minute and hourly rows weigh each source row by the raw samples behind it)
and moves its `RollupProgress` mark in the same transaction: a bucket is
written once, re-running does nothing (the rows' primary key, and the mark),
and a crash in the middle leaves the mark where the last commit put it.

A bucket is rolled up only once no more samples can arrive for it: raw samples
are accepted up to MAX_SAMPLE_SKEW_SECONDS late, and an hourly bucket waits
for its 5-minute rows. The periodic runner runs this on one controller at a
time (advisory lock), once per period.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from . import partitions
from .ingest import MAX_SAMPLE_SKEW_SECONDS
from .models import RollupProgress
from .tables import HOST_1H, HOST_5M, HOST_RAW, INSTANCE_1H, INSTANCE_5M, INSTANCE_RAW

# One run rolls up at most this much, so a run after a long stop stays short; the next catches up.
MAX_SPAN = timedelta(days=1)


@dataclass(frozen=True)
class Rollup:
    source: object
    target: object
    # The rollup whose progress bounds this one (hourly rows wait for the 5-minute ones).
    after: object = None

    def select_sql(self):
        step = self.target.step_seconds
        weight = "samples" if self.source.step_seconds else "1"
        averages = ", ".join(
            f"round(sum({name} * {weight})::numeric / sum({weight}))" for name in self.target.series
        )
        return (
            f"INSERT INTO {self.target.name} ({', '.join(self.target.columns)})"  # noqa: S608 (names from tables.py, values bound)
            f" SELECT {self.target.subject}, date_bin('{step} seconds', at, TIMESTAMPTZ '1970-01-01'),"
            f" sum({weight}), {averages}"
            f" FROM {self.source.name} WHERE at >= %s AND at < %s GROUP BY 1, 2"
            " ON CONFLICT DO NOTHING"
        )


_INSTANCE_5M = Rollup(INSTANCE_RAW, INSTANCE_5M)
_HOST_5M = Rollup(HOST_RAW, HOST_5M)
ROLLUPS = (
    _INSTANCE_5M,
    Rollup(INSTANCE_5M, INSTANCE_1H, after=_INSTANCE_5M),
    _HOST_5M,
    Rollup(HOST_5M, HOST_1H, after=_HOST_5M),
)


def _floor(moment, seconds):
    return datetime.fromtimestamp(int(moment.timestamp()) // seconds * seconds, UTC)


def done_until(table):
    mark = RollupProgress.objects.filter(target=table.name).first()
    return mark.done_until if mark else None


def _complete_until(rollup, now):
    """Where the source holds only finished buckets."""
    if rollup.after is not None:
        return done_until(rollup.after.target)
    return now - timedelta(seconds=MAX_SAMPLE_SKEW_SECONDS + rollup.source.resolution_seconds)


def roll(rollup, now):
    """Roll up what is ready; the (start, end) it covered, or None when nothing was ready."""
    step = rollup.target.step_seconds
    complete = _complete_until(rollup, now)
    start = done_until(rollup.target) or partitions.oldest_start(rollup.source)
    if complete is None or start is None:
        return None
    start = _floor(start, step)
    end = min(_floor(complete, step), start + MAX_SPAN)
    if end <= start:
        return None
    partitions.ensure(rollup.target, start, end)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(rollup.select_sql(), [start, end])
        RollupProgress.objects.update_or_create(target=rollup.target.name, defaults={"done_until": end})
    return start, end


def run_rollups(now=None):
    """Every rollup, in order; a line saying what each covered (the periodic runner logs it)."""
    now = now or timezone.now()
    covered = []
    for rollup in ROLLUPS:
        span = roll(rollup, now)
        if span is not None:
            covered.append(f"{rollup.target.name} [{span[0].isoformat()}, {span[1].isoformat()})")
    return "; ".join(covered)
