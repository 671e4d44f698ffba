"""Instance creates raced from separate processes, for the concurrency tests.

Each racer is its own interpreter (`python -m apps.compute.tests.race`) with its
own PostgreSQL connection, so creates really run in parallel transactions. The
gate is the one apps/quotas/tests/race.py uses: the coordinator holds an
advisory lock, every racer prepares its create, then queues on the lock inside
PostgreSQL; once all of them wait there the lock is released and they run
`create_instance` at the same moment.
"""

import json
import os
import selectors
import subprocess
import sys
import time
import traceback
from pathlib import Path

from agent import protocol

REPOSITORY = Path(__file__).resolve().parents[3]
TIMEOUT_SECONDS = 120

_WAITING_AT_GATE_SQL = """
SELECT count(*) FROM pg_locks
 WHERE locktype = 'advisory' AND NOT granted AND classid = 0 AND objid = %s AND objsubid = 1
   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


def create_job(user, project, offering, image, **fields):
    return {
        "user": str(user.pk),
        "project": str(project.pk),
        "offering_id": str(offering.pk),
        "image_id": str(image.pk),
        **fields,
    }


class Racers:
    """`count` racer processes on the database at `url`; use as a context manager."""

    def __init__(self, count, url):
        # A signing key, and a broker nobody listens on: the creates commit and their spawn tasks
        # cannot be sent, which leaves them to the periodic dispatcher (not running here).
        env = {
            **os.environ,
            "CLOUDMGR_DATABASE_URL": url,
            "CLOUDMGR_TASK_SIGNING_KEY": protocol.private_key_to_pem(
                protocol.generate_private_key()
            ).decode(),
            "CLOUDMGR_BROKER_URL": "redis://127.0.0.1:9/0",
        }
        self._processes = [
            subprocess.Popen(
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
                cwd=REPOSITORY,
                text=True,
            )
            for _ in range(count)
        ]
        self._read(self._processes)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        for process in self._processes:
            process.stdin.close()
        for process in self._processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stdout.close()

    def run(self, jobs, connection):
        """Give each racer one job, open the gate when all wait at it; returns their outcomes."""
        gate = int.from_bytes(os.urandom(4), "big") >> 1
        running = self._processes[: len(jobs)]
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [gate])
            try:
                for process, job in zip(running, jobs, strict=True):
                    process.stdin.write(json.dumps({**job, "gate": gate}) + "\n")
                    process.stdin.flush()
                _wait_for_waiters(cursor, gate, len(jobs))
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [gate])
        return self._read(running)

    @staticmethod
    def _read(processes):
        lines = {}
        deadline = time.monotonic() + TIMEOUT_SECONDS
        with selectors.DefaultSelector() as selector:
            for index, process in enumerate(processes):
                selector.register(process.stdout, selectors.EVENT_READ, index)
            while len(lines) < len(processes):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(processes) - len(lines)} racer(s) did not answer")
                for key, _ in selector.select(remaining):
                    line = key.fileobj.readline()
                    if not line:
                        raise RuntimeError(f"racer {key.data} exited (see its stderr above)")
                    lines[key.data] = json.loads(line)
                    selector.unregister(key.fileobj)
        return [lines[index] for index in range(len(processes))]


def _wait_for_waiters(cursor, gate, expected):
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while True:
        cursor.execute(_WAITING_AT_GATE_SQL, [gate])
        if cursor.fetchone()[0] >= expected:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the racers did not all reach the gate")
        time.sleep(0.005)


def _serve():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudmgr.settings")
    import django

    django.setup()
    _say({"ready": True})
    for line in sys.stdin:
        _say(_run(json.loads(line)))


def _run(job):
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from apps.compute.services.instances import create_instance
    from apps.core.errors import ServiceError
    from apps.identity.actor import Actor
    from apps.identity.models import Project, User
    from apps.identity.policy import Principal

    # Racers outlive a test's database flush, which gives the content types new ids.
    ContentType.objects.clear_cache()
    gate = job.pop("gate")
    actor = Actor(Principal(User.objects.get(pk=job.pop("user"))))
    project = Project.objects.select_related("domain").get(pk=job.pop("project"))
    actor.principal.grants  # noqa: B018  (loaded before the gate: only the create races)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock_shared(%s)", [gate])
    try:
        instance, _job = create_instance(actor, project, name="raced", **job)
        return {"ok": True, "instance": str(instance.pk), "host": str(instance.host_id)}
    except ServiceError as error:
        return {"ok": False, "code": error.code, "details": error.details}
    except Exception:
        return {"ok": False, "code": "unexpected", "error": traceback.format_exc()}
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_shared(%s)", [gate])


def _say(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    _serve()
