"""What PostgreSQL's columns can hold, for every number and time a request brings in.

A number a client sends must fit the column it ends up in, and a time must
carry a UTC offset PostgreSQL accepts; otherwise the database refuses the
statement and the client gets a 500 instead of a 400. The API's serializers
and filters and the portal's forms take their bounds from here:

    serializers.IntegerField(**column_bounds(Image, "min_disk_gb"))
    forms.IntegerField(**column_bounds(QuotaUsage, "limit", min_value=UNLIMITED))

`column_bounds` reads the range of the model field's column from the database
backend, so a field declared by hand gets the same limits a ModelSerializer
derives on its own.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import connection

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# PostgreSQL refuses a time zone displacement of 16 hours or more ("time zone displacement out of range").
MAX_UTC_OFFSET = timedelta(hours=16) - timedelta(seconds=1)
UTC_OFFSET_OUT_OF_RANGE = "utc_offset_out_of_range"


def column_range(model, name):
    """(lowest, highest) integer the column of `model.name` holds."""
    field = model._meta.get_field(name)
    return connection.ops.integer_field_range(field.get_internal_type())


def column_bounds(model, name, *, min_value=None, max_value=None):
    """min_value/max_value keyword arguments for a form or serializer field stored in `model.name`.

    A narrower bound given here wins; a wider one is cut to what the column holds.
    """
    low, high = column_range(model, name)
    if low is None:
        low = INT64_MIN
    if high is None:
        high = INT64_MAX
    return {
        "min_value": low if min_value is None else max(low, min_value),
        "max_value": high if max_value is None else min(high, max_value),
    }


def check_storable_time(value):
    """Refuse a datetime whose UTC offset PostgreSQL cannot hold (Python allows up to 24 hours)."""
    if value is None or value.tzinfo is None:
        return value
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise ValidationError(
            "The UTC offset must be between -15:59 and +15:59.", code=UTC_OFFSET_OUT_OF_RANGE
        )
    return value
