"""The job worker's step, in this process: take a job, run its handler, record how it ended."""

import threading

import pytest

from apps.jobs import services
from apps.jobs.models import Job
from apps.jobs.tests import handlers
from apps.jobs.worker import JobWorker


@pytest.fixture
def worker():
    return JobWorker("test-host:1/job-1", threading.Event())


@pytest.fixture
def settle_log(tmp_path):
    return tmp_path / "settled"


def settlements(settle_log):
    return settle_log.read_text().splitlines() if settle_log.exists() else []


def test_a_job_runs_its_handler_reports_progress_and_succeeds(db, worker, tmp_path):
    release = tmp_path / "go"
    release.touch()
    job = services.create_job(handlers.WAIT_FOR_FILE, payload={"release_file": str(release)})
    worker.step()
    job.refresh_from_db()
    assert (job.state, job.progress, job.taken_by) == (Job.SUCCEEDED, 100, worker.worker_name)
    assert job.result == {"ran_in": handlers.os.getpid()}


def test_a_worker_with_nothing_to_do_asks_to_wait_before_polling_again(db, worker, settings):
    settings.CLOUDMGR_JOB_POLL_SECONDS = 0.25
    assert worker.step() == 0.25


def test_a_job_of_an_unknown_kind_fails_with_a_stable_code(db, worker):
    job = services.create_job("no.such.kind")
    worker.step()
    job.refresh_from_db()
    assert (job.state, job.error_code) == (Job.FAILED, "unknown_job_kind")


def test_a_service_error_fails_the_job_with_its_code_and_settles_it_once(db, worker, settle_log):
    job = services.create_job(handlers.RAISE_SERVICE_ERROR, payload={"settle_log": str(settle_log)})
    worker.step()
    job.refresh_from_db()
    assert (job.state, job.error_code, job.error_message) == (Job.FAILED, "thing_busy", "The thing is busy.")
    assert settlements(settle_log) == [f"{job.id} {handlers.os.getpid()}"]


def test_a_crashing_handler_fails_the_job_without_showing_its_internals(db, worker, settle_log):
    job = services.create_job(handlers.CRASH, payload={"settle_log": str(settle_log)})
    worker.step()
    job.refresh_from_db()
    assert (job.state, job.error_code) == (Job.FAILED, "internal_error")
    assert "RuntimeError" in job.error_message
    assert "secret" not in job.error_message
    assert len(settlements(settle_log)) == 1


def test_a_worker_that_lost_its_job_does_not_overwrite_it(db, worker, tmp_path):
    release = tmp_path / "go"
    release.touch()
    job = services.create_job(handlers.WAIT_FOR_FILE, payload={"release_file": str(release)})
    taken = services.take_next(worker.worker_name)
    services.release(worker.worker_name)
    services.take_next("other-host:2/job-1")
    worker.run_job(taken)
    job.refresh_from_db()
    assert (job.state, job.taken_by) == (Job.RUNNING, "other-host:2/job-1")
    assert job.progress == 0


def test_a_job_taken_while_the_controller_stops_is_given_back(db, worker, tmp_path):
    job = services.create_job(handlers.WAIT_FOR_FILE, payload={"release_file": str(tmp_path / "x")})
    worker.stopping.set()
    worker.step()
    job.refresh_from_db()
    assert (job.state, job.taken_by, job.attempts) == (Job.PENDING, "", 1)
