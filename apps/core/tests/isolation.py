"""The tenant-isolation registry: how to make another tenant's object for every detail route.

apps/core/tests/test_isolation.py takes every URL pattern that carries an
object identifier from the resolver and requests it as a user of tenant A
against an object of tenant B. For that it needs, per route, a way to make
such an object. Each app declares its routes in its own `tests/isolation.py`
(found automatically), next to its other tests:

    from apps.core.tests.isolation import Case, per_tenant, platform

    @per_tenant("api:project-detail")
    def another_tenants_project(tenants):
        return Case.of(tenants.other.project, body={"description": "taken over"})

    @platform("api:role-detail", reason="Roles are the catalogue every tenant picks from.")
    def a_custom_role(tenants):
        ...

`per_tenant`: the object belongs to tenant B, so A gets 404 for every method
the route answers. `platform`: the route serves a cloud-wide catalogue that is
not per tenant; A may read it but must not see B's data in it nor change it.
A route may have several cases (one function each), e.g. a project's and a
domain's quota row. The route key is the namespaced URL name, or the route
text for a pattern without a name.

`body` is what POST, PUT and PATCH send: make it a change the owner could
really make, because the test then makes the same request as a cloud admin and
requires it to succeed, which proves the URL and body reach the object.
"""

import importlib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings

from apps.core import policy
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant

PER_TENANT, PLATFORM = "per-tenant", "platform"


@dataclass(frozen=True)
class Case:
    """An object of tenant B (or a platform object), the route's kwargs that name it, a write body."""

    obj: object
    kwargs: dict
    body: dict = field(default_factory=dict)
    # Methods only a host's signed request may use (agent endpoints): users are refused with
    # 401 or 404 and the cloud admin cannot use them either; host-to-host isolation of these
    # methods is tested with the endpoint itself.
    host_only_methods: tuple = ()

    @classmethod
    def of(cls, obj, body=None, kwarg="pk"):
        """The usual case: the route names the object by its primary key."""
        return cls(obj, {kwarg: obj.pk}, body or {})


@dataclass(frozen=True)
class Entry:
    route_key: str
    kind: str
    make: object
    reason: str = ""

    @property
    def name(self):
        return self.make.__name__


@dataclass(frozen=True)
class Tenant:
    """A domain with a project, a member of the project and an admin of the domain."""

    domain: object
    project: object
    member: object
    admin: object

    def identifiers(self):
        """Strings that would give this tenant's data away if another tenant saw them."""
        values = []
        for obj in (self.domain, self.project):
            values += [str(obj.pk), obj.name]
        for user in (self.member, self.admin):
            values += [str(user.pk), user.username]
        return values


@dataclass(frozen=True)
class Tenants:
    """`home` is the tenant making the requests, `other` the one owning the objects."""

    home: Tenant
    other: Tenant


def _tenant(parent, label):
    domain = DomainFactory(parent=parent, name=f"domain-of-tenant-{label}")
    project = ProjectFactory(domain=domain, name=f"project-of-tenant-{label}")
    member = UserFactory(domain=domain, username=f"member-of-tenant-{label}")
    admin = UserFactory(domain=domain, username=f"admin-of-tenant-{label}")
    grant(member, policy.PROJECT_MEMBER, project)
    grant(admin, policy.DOMAIN_ADMIN, domain)
    return Tenant(domain, project, member, admin)


def build_tenants():
    """Two sibling domains under a common parent, so neither is above the other."""
    parent = DomainFactory(name="parent-of-both-tenants")
    return Tenants(home=_tenant(parent, "a"), other=_tenant(parent, "b"))


_entries = []


def _register(route_key, kind, reason=""):
    def register(make):
        _entries.append(Entry(route_key, kind, make, reason))
        return make

    return register


def per_tenant(*route_keys):
    """Register a maker of another tenant's object for one or more routes."""

    def register(make):
        for key in route_keys:
            _register(key, PER_TENANT)(make)
        return make

    return register


def platform(*route_keys, reason):
    """Declare routes that serve a cloud-wide catalogue, saying why they are not per tenant."""
    if not reason.strip():
        raise ValueError("a platform route needs the reason it is not per tenant")

    def register(make):
        for key in route_keys:
            _register(key, PLATFORM, reason)(make)
        return make

    return register


def discover():
    """Import the tests/isolation.py of every app of this project (imports run once)."""
    for config in apps.get_app_configs():
        if not Path(config.path).is_relative_to(settings.BASE_DIR / "apps"):
            continue
        if importlib.util.find_spec(f"{config.name}.tests") is None:
            continue
        module = f"{config.name}.tests.isolation"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)


def entries():
    discover()
    return list(_entries)


def entries_by_route():
    grouped = {}
    for entry in entries():
        grouped.setdefault(entry.route_key, []).append(entry)
    return grouped
