"""The latest raw sample of each subject that reported recently, with columns of the caller's joins."""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

# Samples older than this many intervals are not "latest" any more (the subject stopped reporting).
LATEST_INTERVALS = 3


def latest_rows(table, columns, joins="", now=None, subject_ids=None):
    """Rows of (*columns, *table.series); `columns` and `joins` read the sample table as `s`.

    `subject_ids`: only these subjects (None: every one that reported).
    """
    since = (now or timezone.now()) - timedelta(
        seconds=LATEST_INTERVALS * settings.CLOUDMGR_METRICS_INTERVAL_SECONDS
    )
    only = f" AND s.{table.subject} = ANY(%s)" if subject_ids is not None else ""
    parameters = [since] if subject_ids is None else [since, list(subject_ids)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT ON (s.{table.subject}) {columns}, {', '.join('s.' + n for n in table.series)}"  # noqa: S608 (names from tables.py, values bound)
            f" FROM {table.name} s {joins} WHERE s.at >= %s{only} ORDER BY s.{table.subject}, s.at DESC",
            parameters,
        )
        return cursor.fetchall()
