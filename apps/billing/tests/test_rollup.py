"""The rollup turns events into hourly records: exactly, idempotently, and correctly for late events."""

import uuid

import pytest

from apps.billing.models import OpenResource, UsageRecord
from apps.billing.rollup import roll_up, rolled_until

from .usage import at, instance_deleted, instance_running, instance_stopped


def records():
    return sorted(
        (r.subject.resource_id, r.hour.isoformat(), r.seconds, r.subject.offering_name)
        for r in UsageRecord.objects.select_related("subject")
    )


def hours_of(instance):
    return {
        r.hour.strftime("%d %H:%M"): r.seconds
        for r in UsageRecord.objects.filter(subject__resource_id=instance).order_by("hour")
    }


def test_a_running_instance_is_counted_to_the_second_in_each_hour(project, small):
    vm = uuid.uuid4()
    instance_running("2026-11-03 10:15:30.900", vm, project, small)
    instance_stopped("2026-11-03 12:45:00", vm, project)

    outcome = roll_up(at("2026-11-03 14:20"))

    assert hours_of(vm) == {"03 10:00": 2670, "03 11:00": 3600, "03 12:00": 2700}
    assert outcome.rolled_until == at("2026-11-03 14:00")
    assert not OpenResource.objects.exists()


def test_running_the_rollup_again_changes_nothing(project, small):
    vm = uuid.uuid4()
    instance_running("2026-11-03 10:15:00", vm, project, small)
    roll_up(at("2026-11-03 13:00"))
    first = records()

    again = roll_up(at("2026-11-03 13:59"))

    assert records() == first
    assert (again.events, again.touched) == (0, {})


def test_a_resource_still_running_is_counted_on_through_the_next_runs(project, small):
    vm = uuid.uuid4()
    instance_running("2026-11-03 10:30:00", vm, project, small)
    roll_up(at("2026-11-03 12:00"))
    roll_up(at("2026-11-03 13:05"))

    assert hours_of(vm) == {"03 10:00": 1800, "03 11:00": 3600, "03 12:00": 3600}
    assert rolled_until() == at("2026-11-03 13:00")


def test_an_event_that_commits_after_its_hour_was_rolled_up_is_counted_again_from_its_hour(project, small):
    vm = uuid.uuid4()
    instance_running("2026-11-03 10:00:00", vm, project, small)
    roll_up(at("2026-11-03 14:00"))
    # The stop's transaction began at 11:30 but committed only now.
    instance_stopped("2026-11-03 11:30:00", vm, project)

    outcome = roll_up(at("2026-11-03 14:10"))

    assert hours_of(vm) == {"03 10:00": 3600, "03 11:00": 1800}
    assert outcome.touched == {project.pk: at("2026-11-03 11:00")}


def test_events_in_the_current_hour_wait_for_it_to_end(project, small):
    vm = uuid.uuid4()
    instance_running("2026-11-03 10:20:00", vm, project, small)
    instance_deleted("2026-11-03 11:10:00", vm, project)

    roll_up(at("2026-11-03 11:30"))
    assert hours_of(vm) == {"03 10:00": 2400}
    roll_up(at("2026-11-03 12:00"))
    assert hours_of(vm) == {"03 10:00": 2400, "03 11:00": 600}


@pytest.mark.parametrize("chunk_hours", [1, 5, 24])
def test_the_size_of_the_chunks_does_not_change_the_records(project, small, large, settings, chunk_hours):
    settings.CLOUDMGR_BILLING_ROLLUP_CHUNK_HOURS = chunk_hours
    vm = uuid.uuid4()
    instance_running("2026-11-01 00:10:00", vm, project, small)
    instance_stopped("2026-11-01 09:59:59", vm, project)
    instance_running("2026-11-01 10:00:01", vm, project, large)
    instance_deleted("2026-11-02 07:00:00", vm, project)

    roll_up(at("2026-11-03 00:00"))

    hours = hours_of(vm)
    assert len(hours) == 31
    assert sum(hours.values()) == 31 * 3600 - 600 - 2
    assert (hours["01 09:00"], hours["01 10:00"]) == (3599, 3599)
