"""Downsampling and retention under a controlled clock: averages per bucket, once, and bounded tables."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.db import connection

from apps.monitoring import partitions
from apps.monitoring.retention import apply_retention
from apps.monitoring.rollup import run_rollups
from apps.monitoring.tables import HOST_1H, HOST_5M, INSTANCE_1H, INSTANCE_5M, INSTANCE_RAW

from .samples import instance_sample, rows, store_minutes

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def ingest_minutes(host, instance, start, minutes):
    """One report a minute, the instance's CPU equal to the minute's index."""
    store_minutes(
        host,
        minutes,
        lambda minute: (
            [instance_sample(instance.pk, cpu_millicores=minute, memory_used_mb=100)],
            {"cpu_millicores": minute},
        ),
        end=start + timedelta(minutes=minutes - 1),
    )


def roll_up_at(moment):
    with time_machine.travel(moment, tick=False):
        return run_rollups()


def test_raw_samples_become_five_minute_then_hourly_averages_once_their_buckets_are_complete(host, instance):
    ingest_minutes(host, instance, START, 130)

    assert roll_up_at(START + timedelta(minutes=130))

    five = rows(INSTANCE_5M, "at", "samples", "cpu_millicores")
    assert len(five) == 24  # 00:00 to 01:55; 02:00-02:05 may still get late samples
    assert five[0] == (START, 5, 2)  # the average of minutes 0..4
    assert five[13] == (START + timedelta(minutes=65), 5, 67)
    hourly = rows(INSTANCE_1H, "at", "samples", "cpu_millicores", "memory_used_mb")
    assert hourly == [(START, 60, 30, 100), (START + timedelta(hours=1), 60, 90, 100)]
    assert len(rows(HOST_5M)) == 24
    assert len(rows(HOST_1H)) == 2


def test_rolling_up_again_writes_nothing(host, instance):
    ingest_minutes(host, instance, START, 70)
    later = START + timedelta(minutes=80)
    roll_up_at(later)
    before = rows(INSTANCE_5M, "instance_id", "at", "samples", "cpu_millicores")

    assert roll_up_at(later) == ""
    assert rows(INSTANCE_5M, "instance_id", "at", "samples", "cpu_millicores") == before


def test_retention_drops_expired_partitions_but_keeps_what_is_not_rolled_up_yet(host, instance, settings):
    settings.CLOUDMGR_METRICS_RAW_RETENTION_SECONDS = 3600
    ingest_minutes(host, instance, START, 60)
    two_days_later = START + timedelta(days=2)

    with time_machine.travel(two_days_later, tick=False):
        apply_retention()
    assert len(rows(INSTANCE_RAW)) == 60

    roll_up_at(two_days_later)
    with time_machine.travel(two_days_later, tick=False):
        apply_retention()
    assert rows(INSTANCE_RAW) == []
    assert len(rows(INSTANCE_5M)) == 12
    assert all(start >= START.timestamp() + 86400 for start in partitions.existing(INSTANCE_RAW))


def insert_day(instance_ids, day):
    """A day of raw samples, one a minute per instance, written directly (the ingest path is tested above)."""
    partitions.ensure(INSTANCE_RAW, day, day + timedelta(days=1))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {INSTANCE_RAW.name} ({', '.join(INSTANCE_RAW.columns)})"  # noqa: S608
            f" SELECT i, t, {', '.join(['1'] * len(INSTANCE_RAW.series))}"
            " FROM unnest(%s::uuid[]) i, generate_series(%s::timestamptz, %s::timestamptz, '1 minute') t",
            [instance_ids, day, day + timedelta(days=1) - timedelta(minutes=1)],
        )


def test_a_month_of_samples_leaves_tables_bounded_by_their_retention(host, instance, project):
    ids = [instance.pk]
    for day in range(31):
        moment = START + timedelta(days=day)
        with time_machine.travel(moment, tick=False):
            apply_retention()
        insert_day(ids, moment)
        for hour in range(0, 24, 6):
            with time_machine.travel(moment + timedelta(hours=hour + 6), tick=False):
                run_rollups()
                apply_retention()

    raw, five, hourly = (len(rows(t)) for t in (INSTANCE_RAW, INSTANCE_5M, INSTANCE_1H))
    assert raw <= 60 * (6 + 2)  # the retention plus the partition not yet wholly expired
    assert five <= 12 * 24 * (3 + 1)
    assert 24 * 30 <= hourly <= 24 * 31
    assert raw + five + hourly <= 31 * 1440 / 10
