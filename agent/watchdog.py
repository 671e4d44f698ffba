"""Deadlines for operations, which Celery's thread pool cannot give (it ignores task time limits).

Each operation runs in its own daemon thread; the worker thread waits for it
until the task's signed expiry. An operation still running then is abandoned:
the task fails with ``timeout`` and the worker thread is free for the next
task. Python cannot kill a thread, so the abandoned one may still finish later;
it keeps the instance's lock until then, and ``stuck`` counts such threads (it
is reported in the heartbeat). So that an abandoned operation does no harm when
it goes on, it checks its ``Deadline`` before every step it cannot take back.
"""

import threading
import time

from . import protocol
from .errors import AgentError

# An operation's own deadline ends this long before the task's expiry, so an operation that passes
# its last check has finished before the watchdog stops waiting for it.
OPERATION_MARGIN_SECONDS = 0.5


class Deadline:
    """When an operation must be over: checked by the operation itself, even in an abandoned thread."""

    def __init__(self, expires_at, clock=time.time):
        self.at = expires_at - OPERATION_MARGIN_SECONDS
        self.clock = clock

    @property
    def passed(self):
        return self.clock() >= self.at

    def check(self, step):
        """Raise AgentError(timeout) if the deadline has passed, before ``step`` is taken."""
        if self.passed:
            raise AgentError(protocol.ERR_TIMEOUT, f"the task's deadline passed before {step}")


class Watchdog:
    def __init__(self, clock=time.time):
        self.clock = clock
        self._stuck = 0
        self._lock = threading.Lock()

    @property
    def stuck(self):
        with self._lock:
            return self._stuck

    def run(self, function, deadline, name):
        """``function()``'s result, or AgentError(timeout) once the wall clock reaches ``deadline``."""
        remaining = deadline - self.clock()
        if remaining <= 0:
            raise AgentError(protocol.ERR_TIMEOUT, f"{name}: the deadline has passed")
        outcome = {}
        finished = threading.Event()
        state = {"abandoned": False}

        def body():
            try:
                outcome["value"] = function()
            except BaseException as exc:  # handed back to the waiting thread
                outcome["error"] = exc
            finally:
                with self._lock:
                    finished.set()
                    if state["abandoned"]:
                        self._stuck -= 1

        threading.Thread(target=body, name=f"op-{name}", daemon=True).start()
        if not finished.wait(remaining):
            with self._lock:
                if not finished.is_set():
                    state["abandoned"] = True
                    self._stuck += 1
            if state["abandoned"]:
                raise AgentError(protocol.ERR_TIMEOUT, f"{name} did not finish before the task's deadline")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]
