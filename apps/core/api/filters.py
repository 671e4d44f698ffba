"""The query filters of every API list: an id narrows the caller's own list, it is never looked up.

django-filter's default for a relation is a choice among every row of the
related model: an id that exists nowhere answered 400, another tenant's id an
empty list, so the answer told whether the other tenant's object exists. Here a
relation is filtered by the id's value alone (its format is still checked) on a
queryset already scoped to the caller, so an unknown id and an id the caller may
not see give the same empty list. Every list uses this: the API's default
filter backend builds its filters on IdFilterSet, and explicit filter sets
derive from it.
"""

import django_filters
from django.db import models
from django_filters.rest_framework import DjangoFilterBackend


class IdFilterSet(django_filters.FilterSet):
    @classmethod
    def filter_for_lookup(cls, field, lookup_type):
        if field.is_relation and not field.many_to_many and lookup_type == "exact":
            by_uuid = isinstance(field.target_field, models.UUIDField)
            return (django_filters.UUIDFilter if by_uuid else django_filters.NumberFilter), {}
        return super().filter_for_lookup(field, lookup_type)


class IdFilterBackend(DjangoFilterBackend):
    filterset_base = IdFilterSet
