"""Runs every registered periodic work once per period across all controllers.

Every controller runs this thread; on each tick it offers to run each work.
Two things in PostgreSQL decide who runs it, never anything in memory:

- a session advisory lock keyed by the work's name, taken with
  `pg_try_advisory_lock` and held for the whole run, so the same work never
  runs twice at once, not even when one run takes longer than the period; the
  database drops it by itself if the controller dies mid-run;
- a conditional UPSERT of the work's `PeriodicRun` row that claims the run
  only when the last one started at least a period ago (database time, so the
  controllers' clocks do not matter), so the work runs once per period, also
  across restarts.
"""

import hashlib
import logging

from django.conf import settings
from django.db import connection

from .background import DATABASE_OUTAGES, BackgroundLoop
from .registry import periodic_work

log = logging.getLogger(__name__)

_CLAIM_SQL = """
INSERT INTO jobs_periodicrun AS run (name, last_started_at, last_controller, runs)
VALUES (%(name)s, now(), %(controller)s, 1)
ON CONFLICT (name) DO UPDATE
   SET last_started_at = now(), last_controller = EXCLUDED.last_controller, runs = run.runs + 1
 WHERE run.last_started_at IS NULL
    OR run.last_started_at <= now() - %(period)s * interval '1 second'
RETURNING run.runs, run.last_started_at
"""

_FINISHED_SQL = "UPDATE jobs_periodicrun SET last_finished_at = now() WHERE name = %s"


def advisory_key(name):
    """A stable signed 64-bit key for the work's name (the same in every controller and release)."""
    digest = hashlib.blake2b(f"cloudmgr.periodic:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def run_if_due(work, controller):
    """Run the work if no one else is running it and its period has passed; True when it ran."""
    key = advisory_key(work.name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        if not cursor.fetchone()[0]:
            return False
        try:
            cursor.execute(
                _CLAIM_SQL, {"name": work.name, "controller": controller, "period": work.period_seconds}
            )
            claimed = cursor.fetchone()
            if claimed is None:
                return False
            runs, started_at = claimed
            log.debug(
                "periodic %s run %d started at %s by %s", work.name, runs, started_at.isoformat(), controller
            )
            try:
                outcome = work.fn()
            finally:
                cursor.execute(_FINISHED_SQL, [work.name])
            # Quiet when there was nothing to do: some works run every few seconds.
            log.log(
                logging.INFO if outcome else logging.DEBUG, "periodic %s run %d: %s", work.name, runs, outcome
            )
            return True
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


class PeriodicRunner(BackgroundLoop):
    def __init__(self, controller, stopping):
        super().__init__(f"{controller}/periodic", stopping)
        self.controller = controller

    def step(self):
        for work in periodic_work():
            if self.stopping.is_set():
                break
            try:
                run_if_due(work, self.controller)
            except DATABASE_OUTAGES:
                raise
            except Exception:
                # A failing work is logged and tried again next period; the others still run.
                log.exception("periodic %s failed", work.name)
        return settings.CLOUDMGR_PERIODIC_TICK_SECONDS
