"""Periodic work and jobs in real controller processes, mostly two at once on one database.

The controllers are `runcontroller` processes (apps/core/tests/controllers.py);
the tests below that need a job handler load apps/jobs/tests/handlers.py into
them through the test entry point, so the product carries no test code.
"""

import re
from collections import defaultdict
from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from django.db import connection
from django.db.models.functions import Now

from apps.core.tests.controllers import wait_until
from apps.jobs import services
from apps.jobs.models import Job, PeriodicRun
from apps.jobs.tests import handlers

pytestmark = pytest.mark.processes

TEST_HANDLERS = ["apps.jobs.tests.handlers"]
PERIOD_SECONDS = 1
# Every periodic work this app's settings know about, each with a one-second period.
ONE_SECOND_PERIODS = {
    "identity.purge_expired_tokens": "CLOUDMGR_PERIOD_PURGE_TOKENS",
    "identity.purge_login_failures": "CLOUDMGR_PERIOD_PURGE_LOGIN_FAILURES",
    "audit.purge_old_events": "CLOUDMGR_PERIOD_PURGE_AUDIT",
    "jobs.sweep_overdue": "CLOUDMGR_PERIOD_SWEEP_JOBS",
}
FAST_PERIODS = {variable: str(PERIOD_SECONDS) for variable in ONE_SECOND_PERIODS.values()}
_RUN_STARTED = re.compile(r"periodic (\S+) run (\d+) started at (\S+) by (\S+)")


def runs_in_logs(*controllers):
    """{work name: [(run number, database time it started, controller)]} from the controllers' logs."""
    runs = defaultdict(list)
    for controller in controllers:
        for name, number, started_at, by in _RUN_STARTED.findall(controller.log()):
            runs[name].append((int(number), datetime.fromisoformat(started_at), by))
    return {name: sorted(found) for name, found in runs.items()}


def runs_counted():
    return dict(PeriodicRun.objects.filter(name__in=ONE_SECOND_PERIODS).values_list("name", "runs"))


def job_states(jobs):
    return {job.state for job in Job.objects.filter(id__in=[job.id for job in jobs])}


def test_periodic_work_runs_once_per_period_with_two_controllers_running(start_controller):
    environment = {**FAST_PERIODS, "CLOUDMGR_PERIODIC_TICK_SECONDS": "0.1"}
    first = start_controller("first", environment=environment)
    second = start_controller("second", environment=environment)
    # Counted from when both run: the first controller may have run some works alone meanwhile.
    both_running = runs_counted()
    wait_until(
        lambda: all(
            runs_counted().get(name, 0) >= both_running.get(name, 0) + 4 for name in ONE_SECOND_PERIODS
        ),
        timeout=60,
        what="every work to run four more times",
    )
    assert first.stop() == 0
    assert second.stop() == 0

    runs = runs_in_logs(first, second)
    for name in ONE_SECOND_PERIODS:
        numbers = [number for number, _, _ in runs[name]]
        # Every run the database counted was run by exactly one controller.
        assert numbers == list(range(1, PeriodicRun.objects.get(name=name).runs + 1)), name
        starts = [started_at for _, started_at, _ in runs[name]]
        gaps = [later - earlier for earlier, later in pairwise(starts)]
        assert min(gaps) >= timedelta(seconds=PERIOD_SECONDS), (name, runs[name])
    assert {by.split("@")[0] for found in runs.values() for _, _, by in found} <= {"first", "second"}


def test_a_controller_keeps_running_jobs_and_periodic_work_after_its_database_connections_are_cut(
    start_controller, tmp_path
):
    release = tmp_path / "release"
    release.touch()
    payload = {"release_file": str(release)}
    environment = {"PGAPPNAME": "controller-cut", **FAST_PERIODS}
    controller = start_controller("cut", test_modules=TEST_HANDLERS, environment=environment)
    before = services.create_job(handlers.WAIT_FOR_FILE, payload=payload)
    wait_until(lambda: Job.objects.get(id=before.id).finished, what="a job to run before the cut")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
            ["controller-cut"],
        )
        assert cursor.fetchone()[0] > 0
    sweeps = runs_counted().get("jobs.sweep_overdue", 0)
    after = services.create_job(handlers.WAIT_FOR_FILE, payload=payload)

    wait_until(lambda: Job.objects.get(id=after.id).finished, what="a job to run after the cut")
    assert Job.objects.get(id=after.id).state == Job.SUCCEEDED
    wait_until(lambda: runs_counted()["jobs.sweep_overdue"] > sweeps, what="periodic work after the cut")
    wait_until(lambda: controller.healthz() == 200, what="/healthz after the cut")
    assert controller.stop() == 0
    assert "database unavailable" in controller.log()


def test_a_stopping_controller_lets_a_running_job_finish_within_the_grace(start_controller, tmp_path):
    release = tmp_path / "release"
    job = services.create_job(handlers.WAIT_FOR_FILE, payload={"release_file": str(release)})
    controller = start_controller("only", test_modules=TEST_HANDLERS)
    wait_until(
        lambda: Job.objects.filter(id=job.id, state=Job.RUNNING, progress=10).exists(),
        what="the controller to start the job",
    )
    controller.terminate()
    wait_until(lambda: "stopping:" in controller.log(), what="the controller to begin stopping")
    release.touch()
    assert controller.stop() == 0
    job.refresh_from_db()
    assert (job.state, job.attempts, job.result) == (Job.SUCCEEDED, 1, {"ran_in": controller.pid})


def test_a_job_of_a_controller_stopped_by_sigterm_goes_back_to_pending_and_another_runs_it(
    start_controller, tmp_path
):
    release = tmp_path / "release"
    job = services.create_job(handlers.WAIT_FOR_FILE, payload={"release_file": str(release)})
    first = start_controller(
        "first", test_modules=TEST_HANDLERS, environment={"CLOUDMGR_SHUTDOWN_GRACE_SECONDS": "1"}
    )
    wait_until(
        lambda: Job.objects.filter(id=job.id, state=Job.RUNNING, progress=10).exists(),
        what="the first controller to start the job",
    )
    assert Job.objects.get(id=job.id).taken_by.startswith("first@")

    assert first.stop() == 0
    job.refresh_from_db()
    assert (job.state, job.taken_by, job.attempts) == (Job.PENDING, "", 1)
    assert "released 1 unfinished job(s)" in first.log()

    release.touch()
    second = start_controller("second", test_modules=TEST_HANDLERS)
    wait_until(lambda: Job.objects.get(id=job.id).finished, what="the second controller to run the job")
    job.refresh_from_db()
    assert (job.state, job.attempts, job.result) == (Job.SUCCEEDED, 2, {"ran_in": second.pid})
    assert job.taken_by.startswith("second@")
    assert second.stop() == 0


def test_the_sweeper_fails_each_overdue_job_once_and_settles_it_once_with_two_controllers(
    start_controller, tmp_path
):
    release, settle_log = tmp_path / "release", tmp_path / "settled"
    payload = {"release_file": str(release), "settle_log": str(settle_log)}
    jobs = [services.create_job(handlers.WAIT_FOR_FILE, payload=payload) for _ in range(8)]
    environment = {"CLOUDMGR_PERIOD_SWEEP_JOBS": "1", "CLOUDMGR_PERIODIC_TICK_SECONDS": "0.1"}
    first = start_controller("first", test_modules=TEST_HANDLERS, environment=environment)
    second = start_controller("second", test_modules=TEST_HANDLERS, environment=environment)
    # Two workers in each controller: four jobs run (and hang), four wait.
    wait_until(
        lambda: Job.objects.filter(state=Job.RUNNING).count() == 4, what="both controllers to take jobs"
    )
    assert {job.taken_by.split("@")[0] for job in Job.objects.filter(state=Job.RUNNING)} == {
        "first",
        "second",
    }

    Job.objects.update(deadline=Now())  # every deadline passes, for running and waiting jobs alike
    wait_until(lambda: job_states(jobs) == {Job.FAILED}, timeout=60, what="the sweeper to fail every job")
    release.touch()  # the hung handlers now return; their late success must change nothing
    assert first.stop() == 0
    assert second.stop() == 0

    for job in Job.objects.filter(id__in=[job.id for job in jobs]):
        assert (job.state, job.error_code) == (Job.FAILED, "deadline_exceeded")
    settled = [line.split()[0] for line in settle_log.read_text().splitlines()]
    assert sorted(settled) == sorted(str(job.id) for job in jobs)
