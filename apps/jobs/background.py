"""A background thread of the controller that keeps working through database outages.

The job workers and the periodic runner are loops of small steps. This base
runs the steps until asked to stop, backs off and reconnects when the database
is unreachable, and closes the thread's own database connections on exit.
"""

import logging
import threading

from django.db import close_old_connections, connections
from django.db.utils import InterfaceError, OperationalError

log = logging.getLogger(__name__)

# Errors that mean "the database is not reachable right now", not a bug.
DATABASE_OUTAGES = (OperationalError, InterfaceError)
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0


def one_line(error):
    """libpq's messages span lines; a log entry should not."""
    return " ".join(str(error).split())


class BackgroundLoop(threading.Thread):
    """Calls `step()` until `stopping` is set; `step()` returns how long to wait before the next one."""

    def __init__(self, name, stopping):
        # Daemon: a handler still running when the shutdown grace is over must not keep the process alive.
        super().__init__(name=name, daemon=True)
        self.stopping = stopping

    def step(self):
        raise NotImplementedError

    def run(self):
        backoff = FIRST_BACKOFF_SECONDS
        try:
            while not self.stopping.is_set():
                close_old_connections()
                try:
                    pause = self.step()
                except DATABASE_OUTAGES as error:
                    log.warning(
                        "%s: database unavailable (%s); retrying in %.1f s",
                        self.name,
                        one_line(error),
                        backoff,
                    )
                    connections.close_all()
                    pause, backoff = backoff, min(backoff * 2, MAX_BACKOFF_SECONDS)
                except Exception:
                    log.exception("%s: unexpected error; retrying in %.1f s", self.name, backoff)
                    pause, backoff = backoff, min(backoff * 2, MAX_BACKOFF_SECONDS)
                else:
                    backoff = FIRST_BACKOFF_SECONDS
                if pause:
                    self.stopping.wait(pause)
        finally:
            connections.close_all()
