"""Operations raced from separate processes, for concurrency tests and benches.

Each racer is its own Python interpreter (`python -m <module>`) with its own
PostgreSQL connection: threads of one interpreter would share one GIL and prove
less. The coordinator holds an advisory lock, the gate; every racer takes its job,
prepares what may happen before the gate, queues on the gate inside PostgreSQL,
and when all of them wait there the gate opens, so the raced operations reach
the database at the same moment.

A racing module's main calls `serve(prepare)`, where `prepare(job)` returns the
function that races; tests drive it with `Racers(count, url, module=...)`.
"""

import json
import os
import selectors
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[3]
STARTUP_TIMEOUT_SECONDS = 120
RACE_TIMEOUT_SECONDS = 120

_WAITING_AT_GATE_SQL = """
SELECT count(*) FROM pg_locks
 WHERE locktype = 'advisory' AND NOT granted AND classid = 0 AND objid = %s AND objsubid = 1
   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
# Row and table locks only: a racer still queued at the gate waits on an advisory lock.
_BLOCKED_ON_LOCKS_SQL = """
SELECT count(*) FROM pg_stat_activity
 WHERE wait_event_type = 'Lock' AND wait_event <> 'advisory' AND pid = ANY(%s)
"""


@dataclass
class RaceResult:
    outcomes: list
    seconds: float

    @property
    def successes(self):
        return [o for o in self.outcomes if o["ok"]]


class Racers:
    """`count` racer processes on the database at `url`; use as a context manager.

    Each runs `python -m <module>`, a module whose main calls `serve(prepare)`;
    `environment` adds variables to theirs, `result` is the RaceResult class to build.
    """

    def __init__(self, count, url, module, *, environment=None, result=RaceResult):
        env = {**os.environ, **(environment or {}), "CLOUDMGR_DATABASE_URL": url}
        self._result = result
        self._processes = [
            subprocess.Popen(
                [sys.executable, "-m", module],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
                cwd=REPOSITORY,
                text=True,
            )
            for _ in range(count)
        ]
        self.backend_pids = [hello["pid"] for hello in self._read_all(STARTUP_TIMEOUT_SECONDS)]
        self._running = []
        self._opened_at = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        for process in self._processes:
            if process.stdin and not process.stdin.closed:
                process.stdin.close()
        for process in self._processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stdout.close()

    def start(self, jobs, connection):
        """Hand one job to each racer (len(jobs) <= count) and open the gate once all wait at it.

        `connection` is the coordinator's Django connection; it holds the gate.
        """
        gate = int.from_bytes(os.urandom(4), "big") >> 1
        self._running = self._processes[: len(jobs)]
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [gate])
            try:
                for process, job in zip(self._running, jobs, strict=True):
                    process.stdin.write(json.dumps({**job, "gate": gate}) + "\n")
                    process.stdin.flush()
                _wait_for(cursor, _WAITING_AT_GATE_SQL, [gate], len(jobs), "racers waiting at the gate")
            finally:
                self._opened_at = time.perf_counter()
                cursor.execute("SELECT pg_advisory_unlock(%s)", [gate])

    def wait_until_blocked(self, connection, count):
        """Wait until `count` racers are blocked on a row or table lock held by someone else."""
        with connection.cursor() as cursor:
            _wait_for(cursor, _BLOCKED_ON_LOCKS_SQL, [self.backend_pids], count, "racers blocked on locks")

    def collect(self):
        outcomes = self._read_all(RACE_TIMEOUT_SECONDS, self._running)
        return self._result(outcomes, time.perf_counter() - self._opened_at)

    def run(self, jobs, connection):
        self.start(jobs, connection)
        return self.collect()

    def _read_all(self, timeout, processes=None):
        processes = processes or self._processes
        lines = {}
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            for index, process in enumerate(processes):
                selector.register(process.stdout, selectors.EVENT_READ, index)
            while len(lines) < len(processes):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    missing = len(processes) - len(lines)
                    raise TimeoutError(f"{missing} racer(s) did not answer in {timeout} s")
                for key, _ in selector.select(remaining):
                    line = key.fileobj.readline()
                    if not line:
                        raise RuntimeError(f"racer {key.data} exited (see its stderr above)")
                    lines[key.data] = json.loads(line)
                    selector.unregister(key.fileobj)
        return [lines[index] for index in range(len(processes))]


def _wait_for(cursor, sql, params, expected, what):
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while True:
        cursor.execute(sql, params)
        (seen,) = cursor.fetchone()
        if seen >= expected:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {seen} of {expected} {what}")
        time.sleep(0.005)


def serve(prepare):
    """The racer side: announce readiness, then answer each job line with one result line.

    `prepare(job)` does what may happen before the gate and returns the function
    that races; its return value is the answer, a ServiceError becomes a refusal.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudmgr.settings")
    import django

    django.setup()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    _say({"ready": True, "pid": pid})
    for line in sys.stdin:
        _say(_run(json.loads(line), prepare))


def _run(job, prepare):
    from django.db import connection

    from apps.core.errors import ServiceError

    gate = job.pop("gate")
    prepared = prepare(job)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock_shared(%s)", [gate])
    try:
        return prepared()
    except ServiceError as error:
        return {"ok": False, "code": error.code, "message": error.message, "details": error.details}
    except Exception:
        return {"ok": False, "code": "unexpected", "error": traceback.format_exc()}
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_shared(%s)", [gate])


def _say(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()
