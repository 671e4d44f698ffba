"""Row locks the networks services take beyond Django's `select_for_update`, and constraint names.

`FOR KEY SHARE` is what a row that others will point at needs: it keeps the row
from being deleted (a delete takes `FOR UPDATE` and waits) while any number
of other transactions use it at the same time. A port being made holds its
network, subnets and security groups this way, so a concurrent delete of any
of them either waits and then sees the port, or wins and the port is refused
cleanly, never half-made and never with a foreign-key error.
"""

from django.db import IntegrityError, connection, transaction


def for_key_share(queryset):
    """The rows of `queryset` (no select_related), each locked FOR KEY SHARE until the transaction ends."""
    sql, params = queryset.query.sql_with_params()
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    return list(queryset.model.objects.raw(f"{sql} FOR KEY SHARE OF {table}", params))


def violated_constraint(error):
    """The name of the constraint an IntegrityError broke, or '' when PostgreSQL did not say."""
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) or ""


def save_or_refuse(obj, refusals):
    """Insert or update `obj` in a savepoint; a broken constraint named in `refusals` raises its error."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as error:
        refusal = refusals.get(violated_constraint(error))
        if refusal is None:
            raise
        raise refusal from error
    return obj
