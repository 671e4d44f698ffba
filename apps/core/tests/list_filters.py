"""The API's list routes and the id filters each takes, read from the views, for the filter-leak check.

An id filter is a query parameter on a relation (`?project=`, `?host=`) or on a
UUID column (`?project_id=`). apps/core/tests/test_isolation.py asks each list
for another tenant's id and for an id that exists nowhere: the answers must be
the same, whatever the app and however the view builds its filters.
"""

import uuid
from dataclasses import dataclass

from django.db import models, transaction
from django_filters.utils import get_model_field

from apps.identity.models import Domain, Project, User

from .routes import all_routes


@dataclass(frozen=True)
class IdFilter:
    name: str
    # The model the ids are of; None for a bare UUID column (any of the other tenant's ids is tried).
    related: type | None


def list_routes(urlconf=None):
    return [
        route
        for route in all_routes(urlconf)
        if not route.identifier_kwargs
        and (getattr(route.callback, "actions", None) or {}).get("get") == "list"
    ]


def id_filters(route):
    view_class = route.callback.cls
    model = view_class.serializer_class.Meta.model
    view = view_class(**route.callback.initkwargs)
    found = []
    for backend in view_class.filter_backends:
        if not hasattr(backend, "get_filterset_class"):
            continue
        filterset = backend().get_filterset_class(view, model._default_manager.all())
        for name, declared in (filterset.base_filters if filterset else {}).items():
            field = get_model_field(model, declared.field_name)
            if field is not None and field.is_relation:
                found.append(IdFilter(name, field.related_model))
            elif isinstance(field, models.UUIDField):
                found.append(IdFilter(name, None))
    return found


class OtherTenantsObjects:
    """Objects of tenant B to name in filters: its identity objects, or what the isolation cases make."""

    def __init__(self, tenants, entries):
        self.other = tenants.other
        self.tenants = tenants
        self.entries = list(entries)
        self.made = []

    def identity(self):
        return {
            Domain: [self.other.domain],
            Project: [self.other.project],
            User: [self.other.member, self.other.admin],
        }

    def ids_of(self, model):
        """Ids of B's objects of `model` (any of B's ids for None), or [] when no case makes one."""
        identity = self.identity()
        if model is None:
            return [str(obj.pk) for objs in identity.values() for obj in objs]
        if model in identity:
            return [str(obj.pk) for obj in identity[model]]
        return [str(obj.pk) for obj in self._made_of(model)[:1]]

    def _made_of(self, model):
        """B's objects of `model` made so far, or made now by the first case that makes one.

        Cases of routes named after the model are tried first; each case runs at most once, in a
        savepoint, since two cases may make objects that cannot exist together.
        """
        found = [obj for obj in self.made if isinstance(obj, model)]
        name = model._meta.model_name
        self.entries.sort(key=lambda entry: name not in entry.route_key.replace("-", ""))
        while not found and self.entries:
            entry = self.entries.pop(0)
            try:
                with transaction.atomic():
                    obj = entry.make(self.tenants).obj
            except Exception:  # noqa: S112 (a case that cannot run beside another one made nothing)
                continue
            self.made.append(obj)
            found = [obj] if isinstance(obj, model) else []
        return found


def answer(client, url, name, value):
    """(status, body) of the list filtered by `value`, the value itself blanked out of the body."""
    response = client.get(url, {name: value})
    return response.status_code, response.content.decode(errors="replace").replace(value, "<id>")


def filter_problems(route, client, others):
    """Filters of the list whose answer for one of B's ids differs from the answer for an unknown id."""
    url = route.url({})
    problems = []
    for id_filter in id_filters(route):
        ids = others.ids_of(id_filter.related)
        if not ids:
            problems.append(f"?{id_filter.name}=: no isolation case makes a {id_filter.related.__name__}")
        unknown = answer(client, url, id_filter.name, str(uuid.uuid4()))
        for other_id in ids:
            given = answer(client, url, id_filter.name, other_id)
            if given != unknown:
                problems.append(
                    f"GET {url}?{id_filter.name}=<tenant B's {id_filter.related or 'id'}> answered"
                    f" {given[0]} {given[1][:200]!r}, an unknown id {unknown[0]} {unknown[1][:200]!r}"
                )
    return problems
