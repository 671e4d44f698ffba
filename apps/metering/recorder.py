"""Record usage events inside the caller's transaction: one statement per call, no read before it.

Compute, images and networks call these in the transaction of each state
change that costs something, so an event exists exactly when its change
committed. The project's domain path is taken by the INSERT itself from the
project row, so the caller needs nothing loaded and the path is the one in
force when the change happened.

    record(INSTANCE, RUNNING, resource_id=i.pk, resource_name=i.name, project_id=i.project_id,
           offering_id=i.offering_id, offering_name=offering.name)

    # when only ids are at hand: the rows of a queryset, each column named as below
    record_rows(INSTANCE, STOPPED, Instance.objects.filter(pk=pk).values(
        "project_id", "offering_id", resource_id=F("id"), resource_name=F("name"),
        offering_name=F("offering__name")))
"""

from django.db import connection
from django.utils import timezone

from .events import required_columns

_COLUMNS = ("resource_id", "resource_name", "offering_id", "offering_name", "size_bytes", "project_id")
_DEFAULTS = {"resource_name": "''", "offering_name": "''", "offering_id": "NULL", "size_bytes": "NULL"}

# One statement writes the event and its outbox row for the billing rollup.
_INSERT = """
WITH event AS (
    INSERT INTO metering_usageevent
           (occurred_at, resource_type, event_type, resource_id, resource_name, project_id, domain_path,
            offering_id, offering_name, size_bytes)
    SELECT %s, %s, %s, {resource_id}, {resource_name}, p.id, d.path, {offering_id}, {offering_name},
           {size_bytes}
      FROM {source}
      JOIN identity_project p ON p.id = {project_id}
      JOIN identity_domain d ON d.id = p.domain_id
    RETURNING id, occurred_at, resource_type, resource_id
)
INSERT INTO metering_pendingevent (event_id, occurred_at, resource_type, resource_id)
SELECT id, occurred_at, resource_type, resource_id FROM event
"""


class UnknownProject(LookupError):
    """The event names a project that does not exist: the caller's transaction must not commit."""


def record(
    resource_type,
    event_type,
    *,
    resource_id,
    project_id,
    resource_name="",
    offering_id=None,
    offering_name="",
    size_bytes=None,
    at=None,
):
    """Record that the resource is now `event_type` (events.py), as of `at` (default: now)."""
    values = {
        "resource_id": resource_id,
        "resource_name": resource_name[:255],
        "offering_id": offering_id,
        "offering_name": offering_name[:64],
        "size_bytes": size_bytes,
        "project_id": project_id,
    }
    missing = [column for column in required_columns(resource_type, event_type) if values[column] is None]
    if missing or (size_bytes is not None and size_bytes < 0):
        raise ValueError(f"{resource_type} {event_type} needs {missing or 'a size of at least 0'}")
    sql = _INSERT.format(source="(SELECT 1) AS source", **dict.fromkeys(_COLUMNS, "%s"))
    with connection.cursor() as cursor:
        cursor.execute(sql, [at or timezone.now(), resource_type, event_type, *values.values()])
        if cursor.rowcount != 1:
            raise UnknownProject(f"usage event for project {project_id}, which does not exist")


def record_rows(resource_type, event_type, rows, *, at=None):
    """Record the event for every row of `rows`, a `.values(...)` queryset naming its columns as
    resource_id, project_id and optionally resource_name, offering_id, offering_name, size_bytes.

    Returns how many events were recorded (one per row).
    """
    names = {*rows.query.values_select, *rows.query.annotation_select}
    needed = {"resource_id", "project_id", *required_columns(resource_type, event_type)}
    if not needed <= names <= set(_COLUMNS):
        raise ValueError(f"rows must name {sorted(needed)} (and only {_COLUMNS}), not {sorted(names)}")
    query, params = rows.query.sql_with_params()
    columns = {name: f"source.{name}" if name in names else _DEFAULTS[name] for name in _COLUMNS}
    sql = _INSERT.format(source=f"({query}) AS source", **columns)
    with connection.cursor() as cursor:
        cursor.execute(sql, [at or timezone.now(), resource_type, event_type, *params])
        return cursor.rowcount


def record_project_move(project_id, from_path, to_path, *, at=None):
    """Record that the project leaves `from_path` for `to_path` (identity's project_moving signal)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO metering_projectmove (project_id, moved_at, from_path, to_path, rolled_up)"
            " VALUES (%s, %s, %s, %s, false)",
            [project_id, at or timezone.now(), from_path, to_path],
        )
