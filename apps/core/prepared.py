"""Server-side prepared statements for the large hand-written statements on the request path.

psycopg2 sends every query as text with its values inlined, so PostgreSQL plans
each execution afresh. For the CTE statements that load a token, find a port's
network, insert a port with its addresses and claim quota, planning cost more
than executing (bench/ip_allocation.py measured about 3.3 ms of planning
against 2.4 ms of execution per port create). A `PreparedStatement` is
prepared once per database connection (`PREPARE`), then run with `EXECUTE`:
PostgreSQL keeps the parsed statement and, once it judges a generic plan as
good as the custom ones, stops planning it at all.

A prepared statement lives as long as its connection, whatever the
transactions around it do (a rollback keeps it), so what is prepared is
recorded per connection. This needs session-level connections to PostgreSQL:
Django's own, or a pooler in session mode (docs/operations.md).
"""

import re
import weakref

from django.db import connection

_NAMED = re.compile(r"%\((\w+)\)s")
# Two statements under one name would meet on a connection as "prepared statement already exists".
_NAMES = set()


class PreparedStatement:
    """`sql`, whose parameters are all named (`%(name)s`), prepared as `name` with `types`
    ({parameter: SQL type}, every parameter once) on each connection that runs it."""

    def __init__(self, name, sql, types):
        if name in _NAMES:
            raise ValueError(f"a statement is prepared as {name} already")
        _NAMES.add(name)
        order = list(dict.fromkeys(_NAMED.findall(sql)))
        if sorted(order) != sorted(types):
            raise ValueError(f"{name}: the types must name exactly the parameters {order}")
        numbered = _NAMED.sub(lambda match: f"${order.index(match.group(1)) + 1}", sql)
        signature = ", ".join(types[parameter] for parameter in order)
        # PREPARE runs without parameters, so psycopg2 leaves its text alone: '%%' must be '%' already.
        self._prepare = f"PREPARE {name} ({signature}) AS {numbered.replace('%%', '%')}"
        # Values arrive as literals; a list is ARRAY['…'], text[] until it is cast to the parameter's type.
        casts = ", ".join(f"%s::{types[parameter]}" for parameter in order)
        self._execute = f"EXECUTE {name} ({casts})"
        self.name = name
        self._order = order
        self._prepared_on = weakref.WeakKeyDictionary()

    def query(self, params):
        """(sql, params) that run the statement with `params` ({name: value}) on this thread's connection,
        for `cursor.execute` or `Model.objects.raw`; the statement is prepared there first if it is not."""
        connection.ensure_connection()
        database_connection = connection.connection
        if database_connection not in self._prepared_on:
            with connection.cursor() as cursor:
                cursor.execute(self._prepare)
            self._prepared_on[database_connection] = True
        return self._execute, [params[parameter] for parameter in self._order]
