"""Waiting in a request for a job to finish, without letting the waits take every HTTP thread.

A console-log request waits a moment for the host's answer so that the client
gets the text at once. While it waits it holds one of the controller's HTTP
threads; so at most CLOUDMGR_JOB_WAITERS requests of a controller wait at once
(a quarter of CLOUDMGR_HTTP_THREADS by default), and any other answers at once
with the job to poll. The bound is on this process's own threads, so it lives
in the process: it decides nothing about the job.
"""

import threading
import time

from django.conf import settings

from .models import Job

POLL_SECONDS = 0.1
_waiters = None
_waiters_lock = threading.Lock()


def _waiter_slots():
    global _waiters
    with _waiters_lock:
        if _waiters is None:
            _waiters = threading.BoundedSemaphore(settings.CLOUDMGR_JOB_WAITERS)
        return _waiters


def wait_for_job(job_id, seconds):
    """The job once it finished, or as it stands after `seconds` (one row read every tenth of a second).

    A job the broker did not take (its send after commit failed) is not waited for,
    nor is any job while every waiting slot is taken.
    """
    job = Job.objects.get(pk=job_id)
    if job.finished or job.dispatched_at is None:
        return job
    slots = _waiter_slots()
    if not slots.acquire(blocking=False):
        return job
    try:
        deadline = time.monotonic() + seconds
        while not job.finished and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            job = Job.objects.get(pk=job_id)
        return job
    finally:
        slots.release()
