"""The usage rollup: usage events become hourly usage records, each hour counted exactly once.

The records of a resource are a function of its events alone, so the rollup
does not add to what it wrote before: it recomputes a resource's hours from a
known point. One run works in chunks of hours (CLOUDMGR_BILLING_ROLLUP_CHUNK_HOURS),
each one transaction under a transaction-level advisory lock:

1. it takes (deletes) the pending rows of the events not yet rolled up that
   happened before the chunk's end (one that commits meanwhile stays pending
   for the next run), and marks the project moves likewise;
2. the resources to (re)compute are those with such events (from the hour of
   their earliest), those still metered at the watermark (from the watermark),
   and those of a project that moved (from the hour of the move);
3. their records from that hour on are deleted (only a late event, one that
   committed after its hour was rolled up, finds any) and written again from
   the state before that hour and the events since, cut at every hour and at
   every project move, billed to the domain path the project had then;
4. the set of resources still metered is updated, and the watermark moves to
   the chunk's end.

So a second run at the same time waits for the lock and then finds nothing to
do; a crash rolls back the chunk it was in and the next run redoes it; an event
that arrives late recomputes its resource's hours. Only whole hours before the
current one are rolled up.

Times are counted in whole seconds: every event's time is truncated to its second.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.jobs.periodic_runner import advisory_key
from apps.metering.events import metered_pairs

from .periods import whole_hour

_LOCK = advisory_key("billing.rollup.chunk")

_PENDING = """
CREATE TEMP TABLE rollup_new_events (event_id bigint, resource_type varchar(16), resource_id uuid,
                                     occurred_at timestamptz);
WITH taken AS (
    DELETE FROM metering_pendingevent WHERE occurred_at < %(until)s
    RETURNING event_id, resource_type, resource_id, occurred_at
)
INSERT INTO rollup_new_events SELECT * FROM taken;
CREATE TEMP TABLE rollup_new_moves AS
SELECT id, project_id, moved_at FROM metering_projectmove WHERE NOT rolled_up AND moved_at < %(until)s;
"""

_DIRTY = """
CREATE TEMP TABLE rollup_dirty AS
SELECT resource_type, resource_id, min(from_hour) AS from_hour
  FROM (
        SELECT resource_type, resource_id, date_trunc('hour', occurred_at, 'UTC') FROM rollup_new_events
        UNION ALL
        SELECT resource_type, resource_id, %(since)s::timestamptz
          FROM billing_openresource WHERE %(since)s::timestamptz < %(until)s::timestamptz
        UNION ALL
        SELECT e.resource_type, e.resource_id, date_trunc('hour', m.moved_at, 'UTC')
          FROM rollup_new_moves m JOIN metering_usageevent e ON e.project_id = m.project_id
       ) AS dirty (resource_type, resource_id, from_hour)
 GROUP BY resource_type, resource_id;
ANALYZE rollup_dirty;
"""

# Records exist only before the watermark: only resources recomputed from earlier have any to drop.
_FORGET = """
WITH gone AS (
    DELETE FROM billing_usagerecord r
     USING billing_usagesubject s, rollup_dirty d
     WHERE d.from_hour < %(since)s
       AND s.resource_type = d.resource_type AND s.resource_id = d.resource_id
       AND r.subject_id = s.id AND r.hour >= d.from_hour
    RETURNING s.project_id, r.hour
)
SELECT project_id, min(hour) FROM gone GROUP BY project_id
"""

_EVENT_COLUMNS = """e.id, e.occurred_at, e.event_type, e.resource_name, e.project_id, e.domain_path,
       e.offering_id, e.offering_name, e.size_bytes"""

# Per resource: its state when the recomputed hours begin, then every event until the chunk's end.
# From the watermark on, that state is the open resource's latest event (or nothing: not metered)
# and the events are exactly the ones just taken; a resource recomputed from an earlier hour (a late
# event) looks both up in the event table.
_TIMELINE = f"""
CREATE TEMP TABLE rollup_timeline AS
SELECT d.resource_type, d.resource_id, d.from_hour, {_EVENT_COLUMNS}
  FROM rollup_dirty d
  JOIN (SELECT resource_type, resource_id, event_id FROM billing_openresource
        UNION ALL
        SELECT resource_type, resource_id, event_id FROM rollup_new_events) AS known
    ON known.resource_type = d.resource_type AND known.resource_id = d.resource_id
  JOIN metering_usageevent e ON e.id = known.event_id
 WHERE d.from_hour >= %(since)s
UNION ALL
SELECT d.resource_type, d.resource_id, d.from_hour, e.*
  FROM rollup_dirty d
 CROSS JOIN LATERAL (
       (SELECT {_EVENT_COLUMNS}
          FROM metering_usageevent e
         WHERE e.resource_type = d.resource_type AND e.resource_id = d.resource_id
           AND e.occurred_at < d.from_hour
         ORDER BY e.occurred_at DESC, e.id DESC
         LIMIT 1)
       UNION ALL
       (SELECT {_EVENT_COLUMNS}
          FROM metering_usageevent e
         WHERE e.resource_type = d.resource_type AND e.resource_id = d.resource_id
           AND e.occurred_at >= d.from_hour AND e.occurred_at < %(until)s)
 ) AS e
 WHERE d.from_hour < %(since)s;
ANALYZE rollup_timeline;
"""  # noqa: S608 (SQL written in code, values passed as parameters)

_SUBJECT = (
    "resource_type, resource_id, resource_name, project_id, domain_path, offering_id, offering_name, quantity"
)
# A subject is found by one column, a digest of all of its own (see UsageSubject.key).
# The row's text form quotes every field, so no two different subjects share it.
_SUBJECT_KEY = f"md5(ROW({_SUBJECT})::text)::uuid"

# Metered spans, each billed where its project was then: a span of a project that moved is cut at
# the moves, and each part placed by the move history (the path in the event is what the project
# had when the event was recorded).
_SPANS = f"""
CREATE TEMP TABLE rollup_spans AS
WITH spans AS (
    SELECT t.*,
           greatest(date_trunc('second', t.occurred_at), t.from_hour) AS starts,
           coalesce(lead(date_trunc('second', t.occurred_at)) OVER w, %(until)s) AS ends
      FROM rollup_timeline t
    WINDOW w AS (PARTITION BY t.resource_type, t.resource_id ORDER BY t.occurred_at, t.id)
), metered AS (
    SELECT s.*,
           CASE WHEN s.size_bytes IS NULL THEN 1
                ELSE (s.size_bytes + 1073741823) / 1073741824 END AS quantity,
           s.project_id IN (SELECT project_id FROM metering_projectmove) AS moved
      FROM spans s
     WHERE (s.resource_type, s.event_type) IN %(metered)s AND s.ends > s.starts
), cut AS (
    SELECT m.*, c.at,
           coalesce(lead(c.at) OVER (PARTITION BY m.resource_type, m.resource_id, m.starts ORDER BY c.at),
                    m.ends) AS part_ends
      FROM metered m
     CROSS JOIN LATERAL (
           SELECT m.starts AS at
           UNION
           SELECT date_trunc('second', pm.moved_at) FROM metering_projectmove pm
            WHERE pm.project_id = m.project_id
              AND date_trunc('second', pm.moved_at) > m.starts AND date_trunc('second', pm.moved_at) < m.ends
     ) AS c
     WHERE m.moved
)
SELECT placed.*, {_SUBJECT_KEY} AS subject_key
  FROM (
    SELECT {_SUBJECT}, starts, ends FROM metered WHERE NOT moved AND quantity > 0
    UNION ALL
    SELECT resource_type, resource_id, resource_name, project_id,
           coalesce(
               (SELECT pm.to_path FROM metering_projectmove pm
                 WHERE pm.project_id = cut.project_id AND date_trunc('second', pm.moved_at) <= cut.at
                 ORDER BY pm.moved_at DESC, pm.id DESC LIMIT 1),
               (SELECT pm.from_path FROM metering_projectmove pm
                 WHERE pm.project_id = cut.project_id AND date_trunc('second', pm.moved_at) > cut.at
                 ORDER BY pm.moved_at, pm.id LIMIT 1)),
           offering_id, offering_name, quantity, at, part_ends
      FROM cut WHERE quantity > 0
       ) AS placed ({_SUBJECT}, starts, ends);
ANALYZE rollup_spans;
"""  # noqa: S608 (SQL written in code, values passed as parameters)

# The last statement's row count is the number of hourly records written.
_WRITE = f"""
INSERT INTO billing_usagesubject (key, {_SUBJECT})
SELECT DISTINCT ON (subject_key) subject_key, {_SUBJECT} FROM rollup_spans
    ON CONFLICT (key) DO NOTHING;
INSERT INTO billing_usagerecord (subject_id, hour, seconds)
SELECT s.id, to_timestamp(h.hour), sum(least(h.hour + 3600, p.ends_s) - greatest(h.hour, p.starts_s))
  FROM (SELECT subject_key, extract(epoch FROM starts)::bigint AS starts_s,
               extract(epoch FROM ends)::bigint AS ends_s
          FROM rollup_spans) AS p
  JOIN billing_usagesubject s ON s.key = p.subject_key
 CROSS JOIN LATERAL generate_series(p.starts_s - p.starts_s %% 3600, p.ends_s - 1, 3600) AS h (hour)
 GROUP BY s.id, h.hour
 ORDER BY h.hour, s.id;
"""  # noqa: S608 (SQL written in code, values passed as parameters)

_TOUCHED = "SELECT project_id, min(date_trunc('hour', starts, 'UTC')) FROM rollup_spans GROUP BY project_id"

_REOPEN = """
DELETE FROM billing_openresource o
 USING rollup_dirty d
 WHERE o.resource_type = d.resource_type AND o.resource_id = d.resource_id;
INSERT INTO billing_openresource (resource_type, resource_id, event_id)
SELECT resource_type, resource_id, id
  FROM (SELECT DISTINCT ON (resource_type, resource_id) resource_type, resource_id, id, event_type
          FROM rollup_timeline
         ORDER BY resource_type, resource_id, occurred_at DESC, id DESC) AS latest
 WHERE (resource_type, event_type) IN %(metered)s;
"""

_MARK = """
UPDATE metering_projectmove m SET rolled_up = true FROM rollup_new_moves n WHERE m.id = n.id;
UPDATE billing_billingstate SET rolled_until = %(until)s, updated_at = %(now)s WHERE id = 1;
DROP TABLE rollup_new_events, rollup_new_moves, rollup_dirty, rollup_timeline, rollup_spans;
"""


@dataclass
class Rollup:
    """What a run did: the watermark it reached, and for each project whose records changed, the
    earliest hour that changed (the invoices to draft again)."""

    rolled_until: object = None
    chunks: int = 0
    events: int = 0
    records: int = 0
    touched: dict = field(default_factory=dict)

    def touch(self, project_id, hour):
        earliest = self.touched.get(project_id)
        self.touched[project_id] = hour if earliest is None else min(earliest, hour)

    def __str__(self):
        until = self.rolled_until.isoformat() if self.rolled_until else "nothing yet"
        return (
            f"rolled up until {until}: {self.events} event(s) in {self.chunks} chunk(s), "
            f"{self.records} hourly record(s) written, {len(self.touched)} project(s) changed"
        )


def roll_up(until=None):
    """Roll usage up to the last whole hour before `until` (default: now). Safe to run at any time,
    from any number of processes at once."""
    target = whole_hour(until or timezone.now())
    outcome = Rollup()
    while True:
        reached = _roll_chunk(target, outcome)
        outcome.rolled_until = reached
        if reached >= target:
            return outcome


def _roll_chunk(target, outcome):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        # The planner's guess for generate_series makes the spans look costly enough to JIT-compile,
        # which takes seconds for a statement that runs in milliseconds; a day of hourly records of
        # many resources is grouped in memory, by sorting them in the order they are appended
        # (hashing them first, then sorting, costs a tenth more).
        cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '256MB'; SET LOCAL enable_hashagg = off")
        since = _watermark(cursor, target)
        chunk = timedelta(hours=settings.CLOUDMGR_BILLING_ROLLUP_CHUNK_HOURS)
        params = {
            "since": since,
            "until": max(since, min(target, since + chunk)),
            "now": timezone.now(),
            "metered": tuple(metered_pairs()),
        }
        cursor.execute(_PENDING, params)
        cursor.execute("SELECT count(*) FROM rollup_new_events")
        outcome.events += cursor.fetchone()[0]
        cursor.execute(_DIRTY, params)
        cursor.execute(_FORGET, params)
        for project_id, hour in cursor.fetchall():
            outcome.touch(project_id, hour)
        cursor.execute(_TIMELINE, params)
        cursor.execute(_SPANS, params)
        cursor.execute(_TOUCHED)
        for project_id, hour in cursor.fetchall():
            outcome.touch(project_id, hour)
        cursor.execute(_WRITE, params)
        outcome.records += cursor.rowcount
        cursor.execute(_REOPEN, params)
        cursor.execute(_MARK, params)
        outcome.chunks += 1
        return params["until"]


def _watermark(cursor, target):
    """Where the last run stopped; before the first, the hour of the earliest event (or `target`)."""
    cursor.execute(
        "INSERT INTO billing_billingstate (id, prices_version, drafted_prices_version) VALUES (1, 0, 0)"
        " ON CONFLICT DO NOTHING"
    )
    cursor.execute("SELECT rolled_until FROM billing_billingstate WHERE id = 1")
    rolled_until = cursor.fetchone()[0]
    if rolled_until is not None:
        return rolled_until
    cursor.execute("SELECT min(occurred_at) FROM metering_pendingevent")
    first = cursor.fetchone()[0]
    return target if first is None else min(whole_hour(first), target)


def rolled_until():
    """The watermark: every hour before it is rolled up (None before the first run)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolled_until FROM billing_billingstate WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None
