"""A controller job worker: takes jobs of the controller queue and runs their handlers.

Each worker is a thread with its own database connection. It takes the oldest
runnable job with `SELECT … FOR UPDATE SKIP LOCKED` (so several workers and
controllers never take the same job), runs the registered handler with a
progress callback, and finishes the job with a compare-and-set update that
names the worker: a job released or failed by the sweeper in the meantime is
left as it is.
"""

import logging
import time

from django.conf import settings
from django.db import connections

from apps.core.errors import ServiceError

from . import services
from .background import DATABASE_OUTAGES, BackgroundLoop
from .registry import handler_for

log = logging.getLogger(__name__)

FINISH_ATTEMPTS = 5


class JobWorker(BackgroundLoop):
    def __init__(self, worker_name, stopping):
        super().__init__(worker_name, stopping)
        self.worker_name = worker_name

    def step(self):
        job = services.take_next(self.worker_name)
        if job is None:
            return settings.CLOUDMGR_JOB_POLL_SECONDS
        if self.stopping.is_set():
            # Taken while the controller began to stop: leave it to another controller.
            services.release(self.worker_name)
            return 0
        self.run_job(job)
        return 0

    def run_job(self, job):
        """Run a job this worker has taken and record how it ended."""
        handler = handler_for(job.kind)
        if handler is None or handler.run is None:
            log.error("job %s: no handler for kind %r", job.id, job.kind)
            self._finish(
                services.fail, job.id, "unknown_job_kind", f"No handler for jobs of kind {job.kind}."
            )
            return
        log.info("job %s (%s) started by %s", job.id, job.kind, self.worker_name)
        try:
            result = handler.run(job, self._progress_reporter(job))
        except ServiceError as error:
            log.info("job %s (%s) failed: %s: %s", job.id, job.kind, error.code, error.message)
            self._finish(services.fail, job.id, error.code, error.message)
        except Exception as error:
            log.exception("job %s (%s) crashed", job.id, job.kind)
            # The message reaches tenants: name the error class, keep its text (which may hold
            # internals) in the controller log.
            message = f"The job failed unexpectedly ({type(error).__name__}); see the controller log."
            self._finish(services.fail, job.id, "internal_error", message)
        else:
            log.info("job %s (%s) succeeded", job.id, job.kind)
            self._finish(services.succeed, job.id, result)

    def _progress_reporter(self, job):
        def progress(percent, message=""):
            services.report_progress(job.id, percent, message, taken_by=self.worker_name)

        return progress

    def _finish(self, finish, *args):
        """Record the outcome, waiting out a short database outage rather than losing it."""
        delay, attempt = 0.5, 1
        while True:
            try:
                return finish(*args, taken_by=self.worker_name)
            except DATABASE_OUTAGES as error:
                connections.close_all()
                if attempt == FINISH_ATTEMPTS:
                    # The job stays taken: shutdown releases it, or the sweeper fails it at its deadline.
                    log.error("job %s: could not record its outcome: %s", args[0], error)
                    return 0
            time.sleep(delay)
            delay, attempt = delay * 2, attempt + 1
