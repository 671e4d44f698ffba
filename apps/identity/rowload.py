"""Load a row and its joined rows with one hand-written statement, compiled once per process.

The authentication path runs on every request. Building the same ORM query
each time costs milliseconds of Python; this writes the SELECT once, prepares
it on each connection (planning it cost more than running it), and turns the
row back into model instances with `Model.from_db`.
"""

from django.db import DEFAULT_DB_ALIAS, connection

from apps.core.prepared import PreparedStatement


class Joined:
    """One model in the statement, under a table alias."""

    def __init__(self, model, alias):
        self.model = model
        self.alias = alias
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [field.attname for field in self.fields]
        self.pk_index = self.fields.index(model._meta.pk)

    @property
    def columns(self):
        return ", ".join(f'{self.alias}."{field.column}"' for field in self.fields)

    def build(self, values):
        """The instance, or None when a LEFT JOIN found no row."""
        if values[self.pk_index] is None:
            return None
        return self.model.from_db(DEFAULT_DB_ALIAS, self.attnames, list(values))


class RowLoader:
    """`SELECT <every joined model's columns>, <extra expressions> <from_where>`, prepared as `name`;
    `types` gives each named parameter of `from_where` its SQL type."""

    def __init__(self, name, joined, from_where, types, extras=()):
        self.joined = joined
        select = ", ".join([j.columns for j in joined] + list(extras))
        self.statement = PreparedStatement(name, f"SELECT {select} {from_where}", types)

    def load(self, params):
        """(instances in the order given, extra values) of the first row, or None."""
        with connection.cursor() as cursor:
            cursor.execute(*self.statement.query(params))
            row = cursor.fetchone()
        if row is None:
            return None
        instances, start = [], 0
        for joined in self.joined:
            end = start + len(joined.fields)
            instances.append(joined.build(row[start:end]))
            start = end
        return instances, list(row[start:])


def disabled_above_sql(path_column):
    """SQL that is true when the domain at path_column, or one above it, is disabled."""
    # path_column is a column name written in code, never input.
    return (
        f"EXISTS (SELECT 1 FROM identity_domain x WHERE NOT x.enabled AND {path_column} LIKE x.path || '%%')"  # noqa: S608
    )
