"""The query filters of every API list: ids narrow the caller's own list, numbers and times fit their columns.

Every list endpoint filters through `FilterBackend` (settings' DEFAULT_FILTER_BACKENDS),
whose filter sets are built on `FilterSet`; a filter set written by hand subclasses
`FilterSet` to get the same:

- a relation is filtered by the id's value alone (its format is still checked) on a
  queryset already scoped to the caller, never looked up: django-filter's default, a
  choice among every row of the related model, answered 400 for an id that exists
  nowhere and an empty list for another tenant's, which told whether it exists. Here
  both give the same empty list;
- a filter generated for an integer column takes only what that column holds, and a
  time filter refuses a UTC offset PostgreSQL cannot hold.

A refusal is a 400 `validation_error`, or `utc_offset_out_of_range` for such a time.
"""

import django_filters
from django.db import connection, models
from django_filters import rest_framework as drf_filters
from django_filters.fields import IsoDateTimeField

from apps.core.bounds import INT64_MAX, INT64_MIN, UTC_OFFSET_OUT_OF_RANGE, check_storable_time
from apps.core.errors import ValidationFailed

_INTEGER_FIELDS = (
    models.SmallIntegerField,
    models.IntegerField,
    models.BigIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
)


class StorableIsoDateTimeField(IsoDateTimeField):
    def clean(self, value):
        return check_storable_time(super().clean(value))


class IsoDateTimeFilter(drf_filters.IsoDateTimeFilter):
    field_class = StorableIsoDateTimeField


def _column_bounds(model_field):
    low, high = connection.ops.integer_field_range(model_field.get_internal_type())
    return {
        "min_value": INT64_MIN if low is None else low,
        "max_value": INT64_MAX if high is None else high,
    }


class FilterSet(drf_filters.FilterSet):
    FILTER_DEFAULTS = {
        **drf_filters.FilterSet.FILTER_DEFAULTS,
        models.DateTimeField: {"filter_class": IsoDateTimeFilter},
        **{
            kind: {"filter_class": drf_filters.NumberFilter, "extra": _column_bounds}
            for kind in _INTEGER_FIELDS
        },
    }

    @classmethod
    def filter_for_lookup(cls, field, lookup_type):
        if field.is_relation and not field.many_to_many and lookup_type == "exact":
            by_uuid = isinstance(field.target_field, models.UUIDField)
            return (django_filters.UUIDFilter if by_uuid else django_filters.NumberFilter), {}
        return super().filter_for_lookup(field, lookup_type)


class FilterBackend(drf_filters.DjangoFilterBackend):
    filterset_base = FilterSet

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            errors = filterset.errors.as_data()
            codes = {error.code for field_errors in errors.values() for error in field_errors}
            raise ValidationFailed(
                "The request has invalid fields.",
                code=UTC_OFFSET_OUT_OF_RANGE if codes == {UTC_OFFSET_OUT_OF_RANGE} else "validation_error",
                details={name: [e.message % (e.params or ()) for e in errs] for name, errs in errors.items()},
            )
        return filterset.qs
