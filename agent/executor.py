"""Running one task envelope: verify, deduplicate, lock, run under the watchdog, report.

A task about an instance this host has deleted does nothing (see agent.journal):
the delete's tombstone is written under the instance's lock, once the delete succeeded.

Independent of Celery, so that the whole path is testable in-process; the
Celery tasks in agent.worker only hand their envelope to ``TaskExecutor.execute``.
"""

import logging
import threading
import time

from . import protocol, signing
from .errors import AgentError
from .watchdog import Deadline

log = logging.getLogger(__name__)

PROGRESS_MIN_INTERVAL_SECONDS = 1.0
# Waiting for a busy instance ends this long before the deadline, so the task reports instance_busy
# rather than racing the watchdog's timeout.
LOCK_WAIT_MARGIN_SECONDS = 0.5


def lock_key(payload):
    if isinstance(payload, protocol.InstanceTask):
        return payload.instance_id
    instance = getattr(payload, "instance", None)
    return instance.instance_id if instance is not None else None


class KeyedLocks:
    def __init__(self):
        self._locks = {}
        self._guard = threading.Lock()

    def acquire(self, key, timeout):
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        return lock if lock.acquire(timeout=max(timeout, 0)) else None


class TaskExecutor:
    def __init__(self, host, public_keys, operations, reporter, journal, watchdog, clock=time.time):
        self.host = host
        self.public_keys = list(public_keys)
        self.operations = operations
        self.reporter = reporter
        self.journal = journal
        self.watchdog = watchdog
        self.clock = clock
        self.locks = KeyedLocks()
        self._in_flight = set()
        self._in_flight_guard = threading.Lock()

    def _report(self, verified, state, **fields):
        return protocol.TaskReport(
            protocol_version=protocol.PROTOCOL_VERSION,
            host=self.host,
            task_id=verified.task_id,
            task=verified.task,
            state=state,
            sent_at=int(self.clock()),
            **fields,
        )

    def execute(self, task_name, envelope):
        """Handle one delivery of a task; returns a short summary (Celery ignores it)."""
        try:
            verified = signing.verify_task(
                envelope, public_keys=self.public_keys, host=self.host, task=task_name, now=self.clock()
            )
        except protocol.TaskRefused as exc:
            return self._refused(task_name, envelope, exc)
        recorded = self.journal.get(verified.task_id)
        if recorded is not None:
            log.info("task %s already finished (%s): reporting it again", verified.task_id, recorded.state)
            self.reporter.send(recorded)
            return {"task_id": verified.task_id, "state": recorded.state, "redelivered": True}
        with self._in_flight_guard:
            if verified.task_id in self._in_flight:
                return {"task_id": verified.task_id, "state": "running", "redelivered": True}
            self._in_flight.add(verified.task_id)
        try:
            return self._run(verified)
        finally:
            with self._in_flight_guard:
                self._in_flight.discard(verified.task_id)

    def _refused(self, task_name, envelope, exc):
        log.warning("refused a %s task: %s (%s)", task_name, exc, exc.code)
        if exc.code == "expired":
            # The signature and host were verified before the expiry: the task id is genuine.
            verified = signing.VerifiedTask(task_name, envelope["task_id"], self.host, 0, 0, None)
            error = protocol.TaskError(protocol.ERR_TASK_EXPIRED, str(exc))
            self.reporter.send(self._report(verified, "failed", error=error), durable=False)
        return {"refused": exc.code}

    def _run(self, verified):
        self.reporter.send(self._report(verified, "running"), durable=False)
        try:
            result = self.watchdog.run(
                lambda: self._locked(verified), verified.expires_at, f"{verified.task}:{verified.task_id}"
            )
            report = self._report(verified, "succeeded", progress=100, result=result.to_dict())
        except AgentError as exc:
            log.warning("task %s %s failed: %s (%s)", verified.task, verified.task_id, exc.message, exc.code)
            report = self._report(verified, "failed", error=exc.as_task_error())
        except Exception as exc:
            log.exception("task %s %s crashed", verified.task, verified.task_id)
            error = protocol.TaskError(protocol.ERR_INTERNAL, f"{type(exc).__name__}: {exc}"[:1000])
            report = self._report(verified, "failed", error=error)
        self.journal.record(report)
        self.reporter.send(report)
        return {"task_id": verified.task_id, "state": report.state}

    def _locked(self, verified):
        key = lock_key(verified.payload)
        lock = None
        if key is not None:
            # A task whose payload names an instance runs alone on that instance.
            lock = self.locks.acquire(key, verified.expires_at - self.clock() - LOCK_WAIT_MARGIN_SECONDS)
            if lock is None:
                raise AgentError(protocol.ERR_INSTANCE_BUSY, f"instance {key} is busy with another task")
        try:
            if (
                key is not None
                and verified.task != protocol.DELETE_INSTANCE
                and self.journal.was_deleted(key)
            ):
                raise AgentError(protocol.ERR_INSTANCE_DELETED, f"instance {key} was deleted on this host")
            result = self.operations.run(
                verified.task,
                verified.payload,
                self._progress_reporter(verified),
                Deadline(verified.expires_at, self.clock),
            )
            if verified.task == protocol.DELETE_INSTANCE:
                self.journal.record_deleted(key)
            return result
        finally:
            if lock is not None:
                lock.release()

    def _progress_reporter(self, verified):
        last = {"at": 0.0, "percent": -1}

        def progress(percent, message=""):
            now = time.monotonic()
            if percent == last["percent"] or now - last["at"] < PROGRESS_MIN_INTERVAL_SECONDS:
                return
            last.update(at=now, percent=percent)
            report = self._report(
                verified, "progress", progress=min(max(percent, 0), 99), message=message[:200]
            )
            self.reporter.send(report, durable=False)

        return progress
