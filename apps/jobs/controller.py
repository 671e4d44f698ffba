"""The controller process: HTTP server, job workers and periodic runner, as threads of one process.

`manage.py runcontroller` builds a `Controller` and runs it until SIGTERM or
SIGINT. Stopping is graceful and bounded by CLOUDMGR_SHUTDOWN_GRACE_SECONDS:
the listening socket closes at once and requests in flight finish, the job
workers take no new job and their running handlers get the rest of the grace,
then every job still taken is released to pending so another controller runs
it, and the process exits 0.
"""

import logging
import os
import signal
import socket
import threading
import time

from cheroot import wsgi
from django.conf import settings
from django.db import Error as DatabaseFailure
from django.db import connections

from apps.core.slow_clients import paced
from apps.jobs import services as jobs
from apps.jobs.periodic_runner import PeriodicRunner
from apps.jobs.worker import JobWorker
from cloudmgr.wsgi import application

log = logging.getLogger(__name__)

# How long past the grace cheroot may take to close sockets it had to cut short.
HTTP_STOP_MARGIN_SECONDS = 2.0


def parse_listen(value):
    """'HOST:PORT' or '[IPV6]:PORT' as (host, port); port 0 takes any free port."""
    host, _, port = value.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    return host, int(port)


def process_identity(name=""):
    """A name unique to this process: the controller's name if any, the host and the pid."""
    where = f"{socket.gethostname()}:{os.getpid()}"
    return f"{name}@{where}" if name else where


def _remaining(deadline):
    return max(0.0, deadline - time.monotonic())


class Controller:
    def __init__(self, address, name=""):
        self.identity = process_identity(name)
        self.stop_requested = threading.Event()
        self.stopping = threading.Event()
        self.server = wsgi.Server(
            address,
            paced(application),
            numthreads=settings.CLOUDMGR_HTTP_THREADS,
            server_name="cloudmgr",
            timeout=settings.CLOUDMGR_HTTP_IDLE_TIMEOUT_SECONDS,
            shutdown_timeout=settings.CLOUDMGR_SHUTDOWN_GRACE_SECONDS,
        )
        self.workers = [
            JobWorker(f"{self.identity}/job-{number}", self.stopping)
            for number in range(1, settings.CLOUDMGR_JOB_WORKERS + 1)
        ]
        self.periodic = PeriodicRunner(self.identity, self.stopping)

    def bind(self):
        """Open the listening socket; raises OSError when the address is taken or invalid."""
        self.server.prepare()

    def run(self):
        """Serve until asked to stop, then stop gracefully; False when the HTTP server died instead."""
        host, port = self.server.bind_addr[:2]
        log.info(
            "controller %s listening on http://%s:%d (%d HTTP threads, %d job workers)",
            self.identity,
            f"[{host}]" if ":" in host else host,
            port,
            settings.CLOUDMGR_HTTP_THREADS,
            len(self.workers),
        )
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        serving = threading.Thread(target=self.server.serve, name="http", daemon=True)
        serving.start()
        for thread in (*self.workers, self.periodic):
            thread.start()
        # A timed wait: the main thread must come back to run the signal handler.
        while not self.stop_requested.wait(1.0) and serving.is_alive():
            pass
        asked = self.stop_requested.is_set()
        if not asked:
            log.error("the HTTP server stopped on its own; stopping the controller")
        self.shutdown()
        return asked

    def _on_signal(self, signum, frame):
        if self.stop_requested.is_set():
            log.warning("%s received again: already stopping", signal.Signals(signum).name)
        else:
            log.info("%s received", signal.Signals(signum).name)
        self.stop_requested.set()

    def shutdown(self):
        grace = settings.CLOUDMGR_SHUTDOWN_GRACE_SECONDS
        deadline = time.monotonic() + grace
        log.info("stopping: no new connections or jobs; up to %.1f s for requests and jobs in flight", grace)
        self.stopping.set()
        http_stop = threading.Thread(target=self.server.stop, name="http-stop", daemon=True)
        http_stop.start()
        http_stop.join(_remaining(deadline) + HTTP_STOP_MARGIN_SECONDS)
        for thread in (*self.workers, self.periodic):
            thread.join(_remaining(deadline))
        self._release_taken_jobs()
        connections.close_all()
        log.info("controller %s stopped", self.identity)
        self._exit_if_stuck()

    def _release_taken_jobs(self):
        for worker in self.workers:
            try:
                released = jobs.release(worker.worker_name)
            except DatabaseFailure as error:
                log.error(
                    "could not release the jobs of %s (the sweeper will fail them): %s", worker.name, error
                )
                continue
            if released:
                log.info("released %d unfinished job(s) of %s back to pending", released, worker.name)

    @staticmethod
    def _exit_if_stuck():
        """A request handler stuck past the grace must not keep the process alive."""
        me = threading.current_thread()
        stuck = [t.name for t in threading.enumerate() if t is not me and t.is_alive() and not t.daemon]
        if stuck:
            log.warning("exiting with threads still busy past the grace: %s", ", ".join(stuck))
            logging.shutdown()
            os._exit(0)
