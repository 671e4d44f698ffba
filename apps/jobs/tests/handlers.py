"""Job handlers that exist only for tests, loaded into test controllers by apps/core/tests/run_controller.py.

`tests.wait_for_file` stands for a long job that holds something: it runs until
the file named in its payload exists (so a test decides when it ends, with no
sleeping), and its settle appends one line per call to the payload's
`settle_log`, so a test can count settlements across processes.
"""

import os
import time
from pathlib import Path

from apps.core.errors import Conflict
from apps.jobs.registry import job_handler

WAIT_FOR_FILE = "tests.wait_for_file"
RAISE_SERVICE_ERROR = "tests.raise_service_error"
CRASH = "tests.crash"
GIVE_UP_SECONDS = 120


def settle(job):
    if job.payload.get("settle_log"):
        with open(job.payload["settle_log"], "a") as log:
            log.write(f"{job.id} {os.getpid()}\n")


@job_handler(WAIT_FOR_FILE, settle=settle)
def wait_for_file(job, progress):
    progress(10, "waiting")
    release_file = Path(job.payload["release_file"])
    give_up = time.monotonic() + GIVE_UP_SECONDS
    while not release_file.exists():
        if time.monotonic() > give_up:
            raise TimeoutError(f"{release_file} never appeared")
        time.sleep(0.05)
    progress(90, "released")
    return {"ran_in": os.getpid()}


@job_handler(RAISE_SERVICE_ERROR, settle=settle)
def raise_service_error(job, progress):
    raise Conflict("The thing is busy.", code="thing_busy")


@job_handler(CRASH, settle=settle)
def crash(job, progress):
    raise RuntimeError("secret internals")
