"""Time partitions of the sample tables: created ahead of the data, dropped whole when expired.

A partition covers [start, start + width) with `start` aligned on the width
since the Unix epoch, and is named `<table>_p<start>`. Dropping a partition is
instant and leaves nothing for VACUUM, where deleting the same rows costs time
and bloat (bench/metrics_ingest.py measures both). DDL takes a short lock on
the parent table, so it waits at most LOCK_TIMEOUT and is tried again later
rather than queueing the writers behind a long reader.
"""

import hashlib
import re
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction

LOCK_TIMEOUT = "2s"
_PARTITION = re.compile(r"^(?P<table>.+)_p(?P<start>\d+)$")


def _epoch(moment):
    return int(moment.timestamp())


def _moment(epoch):
    return datetime.fromtimestamp(epoch, UTC)


def partition_name(table, start):
    return f"{table.name}_p{start}"


def _ddl_lock_key(table):
    digest = hashlib.blake2b(f"cloudmgr.partitions:{table.name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def existing(table):
    """Start (epoch seconds) of each partition of `table`, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [table.name],
        )
        names = [row[0] for row in cursor.fetchall()]
    return sorted(int(found["start"]) for found in map(_PARTITION.match, names) if found)


def oldest_start(table):
    """Where the table's data can begin: its oldest partition's start, or None without any."""
    starts = existing(table)
    return _moment(starts[0]) if starts else None


def ensure(table, start, end):
    """Create the missing partitions holding [start, end); several controllers may race."""
    width = table.partition_seconds
    wanted = range(_epoch(start) // width * width, max(_epoch(end), _epoch(start) + 1), width)
    missing = sorted(set(wanted) - set(existing(table)))
    if not missing:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ddl_lock_key(table)])
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        for partition_start in missing:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {partition_name(table, partition_start)}"
                f" PARTITION OF {table.name} FOR VALUES FROM (%s) TO (%s)",
                [_moment(partition_start), _moment(partition_start + width)],
            )
    return len(missing)


def drop_before(table, cutoff):
    """Drop every partition wholly before `cutoff`; how many were dropped."""
    width = table.partition_seconds
    expired = [start for start in existing(table) if start + width <= _epoch(cutoff)]
    for start in expired:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            cursor.execute(f"DROP TABLE IF EXISTS {partition_name(table, start)}")
    return len(expired)


def ensure_around(table, moment, ahead=2):
    """The partition holding `moment` and the `ahead` next ones."""
    return ensure(table, moment, moment + timedelta(seconds=table.partition_seconds * ahead))
