"""A rollup that fails half-way loses and doubles nothing: the next run ends where a clean one would."""

import random
import uuid
from datetime import timedelta

import pytest
from django.db import connection

from apps.billing.models import UsageRecord
from apps.billing.periods import whole_hour
from apps.billing.rollup import roll_up, rolled_until
from apps.metering import events as e
from apps.metering.models import UsageEvent

from . import usage as u
from .reference import expected_seconds, recorded_seconds
from .usage import at

START = at("2026-11-01 00:00")


def a_few_days_of_instances(project, offering, instances=6, days=3, seed=7):
    rng = random.Random(seed)
    for _ in range(instances):
        vm = uuid.uuid4()
        moments = sorted(START + timedelta(seconds=rng.uniform(0, days * 86400)) for _ in range(4 * days))
        for index, moment in enumerate(moments):
            if index % 2 == 0:
                u.instance_running(moment, vm, project, offering)
            else:
                u.instance_stopped(moment, vm, project)


class Crash(Exception):
    pass


def crash_in_chunk(number, statement_start):
    """An execute wrapper that raises when the `number`th chunk reaches the statement."""
    seen = {"chunks": 0}

    def wrapper(execute, sql, params, many, context):
        if sql.lstrip().startswith("SELECT pg_advisory_xact_lock"):
            seen["chunks"] += 1
        if seen["chunks"] == number and sql.lstrip().startswith(statement_start):
            raise Crash(f"killed in chunk {number} before {statement_start!r}")
        return execute(sql, params, many, context)

    return wrapper


@pytest.mark.parametrize(
    "statement",
    ["INSERT INTO billing_usagesubject", "DELETE FROM billing_openresource", "UPDATE metering_projectmove"],
)
def test_a_rollup_that_dies_in_the_middle_of_a_chunk_leaves_the_chunks_before_and_redoes_the_rest(
    project, small, settings, statement
):
    settings.CLOUDMGR_BILLING_ROLLUP_CHUNK_HOURS = 12
    a_few_days_of_instances(project, small)
    until = at("2026-11-04 00:00")

    first_hour = whole_hour(UsageEvent.objects.earliest("occurred_at").occurred_at)

    with pytest.raises(Crash), connection.execute_wrapper(crash_in_chunk(3, statement)):
        roll_up(until)
    # Two chunks of 12 hours were done before the third died.
    assert rolled_until() == first_hour + timedelta(hours=24)
    assert max(UsageRecord.objects.values_list("hour", flat=True)) < rolled_until()

    roll_up(until)
    assert recorded_seconds() == expected_seconds(until)


def test_events_late_by_hours_and_runs_repeated_end_with_the_same_records_as_one_clean_run(
    project, small, large
):
    vm, image = uuid.uuid4(), uuid.uuid4()
    u.instance_running("2026-11-01 06:10:00", vm, project, small)
    u.stored("2026-11-01 07:00:00", e.IMAGE, image, project, 3 * 1024**3)
    roll_up(at("2026-11-01 12:00"))
    roll_up(at("2026-11-01 12:00"))
    # Committed only now, about hours already rolled up (a long transaction, a slow clock).
    u.instance_stopped("2026-11-01 08:20:00", vm, project)
    u.instance_running("2026-11-01 09:40:00", vm, project, large)
    u.storage_deleted("2026-11-01 10:00:00", e.IMAGE, image, project)
    roll_up(at("2026-11-01 15:00"))
    roll_up(at("2026-11-01 15:30"))

    assert recorded_seconds() == expected_seconds(at("2026-11-01 15:00"))
    offerings = set(
        UsageRecord.objects.filter(subject__resource_id=vm).values_list("subject__offering_name", flat=True)
    )
    assert offerings == {small.name, large.name}
