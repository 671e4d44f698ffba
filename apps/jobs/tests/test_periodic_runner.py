"""The periodic runner in this process: when a work is due, the lock that keeps it single, failures.

Two real controllers running the same work are in test_two_controllers.py.
"""

import threading
from datetime import timedelta

import psycopg2
import pytest
from django.db import connection
from django.db.models import F

from apps.jobs import registry
from apps.jobs.models import PeriodicRun
from apps.jobs.periodic_runner import PeriodicRunner, advisory_key, run_if_due
from apps.jobs.registry import PeriodicWork


class Counting:
    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.calls


@pytest.fixture
def counted(settings):
    settings.CLOUDMGR_PERIODS = {**settings.CLOUDMGR_PERIODS, "tests.counted": 3600}
    return PeriodicWork("tests.counted", Counting())


def test_a_due_work_runs_once_and_not_again_within_its_period(db, counted):
    assert run_if_due(counted, "controller-a")
    assert not run_if_due(counted, "controller-b")
    assert counted.fn.calls == 1
    run = PeriodicRun.objects.get(name="tests.counted")
    assert (run.runs, run.last_controller) == (1, "controller-a")
    assert run.last_finished_at >= run.last_started_at


def test_a_work_runs_again_once_its_period_has_passed(db, counted):
    run_if_due(counted, "controller-a")
    PeriodicRun.objects.filter(name="tests.counted").update(
        last_started_at=F("last_started_at") - timedelta(seconds=3601)
    )
    assert run_if_due(counted, "controller-b")
    run = PeriodicRun.objects.get(name="tests.counted")
    assert (run.runs, run.last_controller, counted.fn.calls) == (2, "controller-b", 2)


def test_a_work_someone_else_is_running_is_skipped(db, counted):
    key = advisory_key("tests.counted")
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
            assert not run_if_due(counted, "controller-a")
            assert counted.fn.calls == 0
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    finally:
        other.close()
    assert run_if_due(counted, "controller-a")


def test_the_lock_key_of_a_work_is_the_same_in_every_process_and_release():
    assert advisory_key("jobs.sweep_overdue") == -6148600382729624069


def test_a_failing_work_does_not_keep_the_others_from_running(db, settings, monkeypatch):
    settings.CLOUDMGR_PERIODS = {**settings.CLOUDMGR_PERIODS, "tests.broken": 3600, "tests.counted": 3600}
    counted = Counting()

    def broken():
        raise RuntimeError("broken work")

    monkeypatch.setattr(registry, "_periodic", {})
    registry.periodic("tests.broken")(broken)
    registry.periodic("tests.counted")(counted)
    PeriodicRunner("controller-a", threading.Event()).step()
    assert counted.calls == 1
    assert PeriodicRun.objects.get(name="tests.broken").last_finished_at is not None
