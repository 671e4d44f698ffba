"""Emptying the test database after a transactional test in milliseconds instead of seconds.

Django's TransactionTestCase empties the database after each test with one
TRUNCATE of every table, then writes the content types and permissions again
(post_migrate). PostgreSQL's TRUNCATE makes new files for each of ~70 tables
and their indexes: about 0.4 s on an idle 2-core machine, over a second on a
loaded one, after each of ~475 tests (live server, controller and agent
processes, threads with their own connections). A test leaves a few rows in a
few tables, and a DELETE of an empty or nearly empty table costs next to
nothing: emptying every table with DELETE takes about 10 ms.

What stays: the content types and permissions, which migrations wrote and
post_migrate would write again (a test never changes them). Tables with
triggers of their own (billing's guards refuse to delete a finalized invoice)
are TRUNCATEd, which fires no row trigger, and only when they hold rows.
The foreign keys are deferred, so the DELETEs may run in any order.
"""

from django.db import connections, transaction
from django.test import TransactionTestCase

KEPT_TABLES = frozenset({"django_content_type", "auth_permission"})

_django_fixture_teardown = TransactionTestCase._fixture_teardown


def empty_database(alias):
    """Delete every row a test can have written in the database of `alias`, in one transaction."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    tables = [
        table
        for table in connection.introspection.django_table_names(only_existing=True, include_views=False)
        if table not in KEPT_TABLES
    ]
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT relname FROM pg_trigger JOIN pg_class ON pg_class.oid = tgrelid"
            " WHERE NOT tgisinternal AND relname = ANY(%s)",
            [tables],
        )
        guarded = [row[0] for row in cursor.fetchall()]
        holding_rows = [table for table in guarded if _has_rows(cursor, quote(table))]
        if holding_rows:
            cursor.execute(f"TRUNCATE {', '.join(map(quote, holding_rows))} CASCADE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        emptied = [quote(table) for table in tables if table not in guarded]
        cursor.execute("".join(f"DELETE FROM {table};" for table in emptied))  # noqa: S608 (Django's tables)


def _has_rows(cursor, quoted_table):
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quoted_table})")  # noqa: S608 (a table of Django's)
    return cursor.fetchone()[0]


def _fixture_teardown(self):
    if self.serialized_rollback or self.available_apps is not None:
        # Both reload or re-create rows at the next setup, which expects Django's own flush.
        return _django_fixture_teardown(self)
    for alias in self._databases_names(include_mirrors=False):
        empty_database(alias)
    return None


def install():
    """Make every TransactionTestCase (pytest-django's `transactional_db`, `live_server`) empty the database
    this way."""
    TransactionTestCase._fixture_teardown = _fixture_teardown
