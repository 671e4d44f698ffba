"""Tenant isolation, checked on every route that names an object, as found by the URL resolver.

For each such route the registry (apps/core/tests/isolation.py, filled by each
app's tests/isolation.py) makes an object of tenant B. A member of tenant A
(with an unscoped and with a project-scoped token) and an admin of A's domain
then try every method the route answers on it: each must be a 404 that gives
nothing of B away, and the object must be unchanged. Afterwards a cloud admin
makes the same requests and must succeed, which proves the URL and body reach
the object, so a 404 cannot come from a wrong URL. A route without a registry
entry fails the run, naming the route.

Every API list is also asked, through each of its id filters (`?project=`,
`?user=`, `?host=`…, apps/core/tests/list_filters.py), for tenant B's ids and
for an id that exists nowhere: the two answers must be the same, or the filter
tells tenant A that B's object exists.

Each actor carries both a bearer token and a logged-in session, so routes of
the API and of the web pages are requested as the same user.
"""

import json
from urllib.parse import urlencode

import pytest
from django.test import override_settings

from apps.conftest import login
from apps.core.tests import isolation
from apps.core.tests.list_filters import OtherTenantsObjects, filter_problems, id_filters, list_routes
from apps.core.tests.routes import METHODS, detail_routes

ACTORS = {
    "project_member": lambda home: (home.member, {}),
    "project_member_with_project_token": lambda home: (home.member, {"project_id": home.project.pk}),
    "domain_admin": lambda home: (home.admin, {}),
}
PLATFORM_READ_STATUSES = (200, 404)
PLATFORM_WRITE_STATUSES = (403, 404)
# What a user gets from a method only a signed host may use.
HOST_ONLY_REFUSALS = (401, 404)


def pytest_generate_tests(metafunc):
    """One test per (route, case, actor); `route` for per-tenant routes, `platform_route` for the rest."""
    for argument, kind in (("route", isolation.PER_TENANT), ("platform_route", isolation.PLATFORM)):
        if argument in metafunc.fixturenames:
            metafunc.parametrize((argument, "entry", "actor"), cases_of(kind))
    if "list_route" in metafunc.fixturenames:
        metafunc.parametrize(
            ("list_route", "actor"),
            [
                pytest.param(route, actor, id=f"{route.label}/{actor}")
                for route in list_routes()
                if id_filters(route)
                for actor in ACTORS
            ],
        )


def cases_of(kind):
    registered = isolation.entries_by_route()
    return [
        pytest.param(route, entry, actor, id=f"{route.label}/{entry.name}/{actor}")
        for route in detail_routes()
        for entry in registered.get(route.key, [])
        if entry.kind == kind
        for actor in ACTORS
    ]


def missing_entries(urlconf=None):
    registered = isolation.entries_by_route()
    return sorted({f"{r.key} ({r.text})" for r in detail_routes(urlconf) if r.key not in registered})


@pytest.fixture
def tenants(root):
    return isolation.build_tenants()


def client_of(user, **scope):
    client = login(user, **scope)
    client.force_login(user)
    return client


def request(client, route, method, url, body):
    """API routes get the body as JSON, web pages as a submitted form."""
    if method in ("get", "delete"):
        return client.generic(method.upper(), url)
    if route.is_rest:
        return client.generic(method.upper(), url, json.dumps(body), content_type="application/json")
    return client.generic(
        method.upper(), url, urlencode(body, doseq=True), content_type="application/x-www-form-urlencoded"
    )


def succeeded(response):
    """2xx, or the redirect a web form answers with; a redirect to sign in (it carries ?next=) is not."""
    if 200 <= response.status_code < 300:
        return True
    return 300 <= response.status_code < 400 and "next=" not in response.get("Location", "")


def snapshot(obj):
    return type(obj)._base_manager.filter(pk=obj.pk).values().first()


def methods_of(route):
    """The methods to try; for a view that does not declare them, all, and a 405 means 'not here'."""
    return route.methods if route.methods is not None else METHODS


def not_answered(route, response):
    return route.methods is None and response.status_code == 405


def leaks(response, secrets, url, body):
    """Identifiers of tenant B in a response, other than those the request itself carried."""
    text = response.content.decode(errors="replace")
    asked = url + json.dumps(body, default=str)
    return [secret for secret in secrets if secret in text and secret not in asked]


def refusal_problems(route, case, client, secrets, allowed):
    """Try every method as an outsider; `allowed(method)` lists the acceptable statuses."""
    problems = []
    url = route.url(case.kwargs)
    before = snapshot(case.obj)
    for method in methods_of(route):
        response = request(client, route, method, url, case.body)
        if not_answered(route, response):
            continue
        where = f"{method.upper()} {url}"
        if response.status_code not in allowed(method):
            problems.append(f"{where} answered {response.status_code}, expected one of {allowed(method)}")
        elif response.status_code == 404 and _error_code(response) not in (None, "not_found"):
            problems.append(f"{where} answered 404 with error code {_error_code(response)!r}")
        problems += [f"{where} gave away {secret!r}" for secret in leaks(response, secrets, url, case.body)]
    if snapshot(case.obj) != before:
        problems.append(f"{url}: the object changed: {before} -> {snapshot(case.obj)}")
    return problems


def owner_problems(route, case, owner):
    """The same requests by a cloud admin must succeed (reads first, the delete last)."""
    problems = []
    url = route.url(case.kwargs)
    answered = 0
    for method in methods_of(route):
        if method.upper() in case.host_only_methods:
            continue
        response = request(owner, route, method, url, case.body)
        if not_answered(route, response):
            continue
        answered += 1
        if not succeeded(response):
            problems.append(
                f"the cloud admin's {method.upper()} {url} answered {response.status_code}"
                f" {response.content[:300]!r}: this case does not reach its object"
            )
    # A route only hosts may use (an agent's signed GET) answers no method of the owner's.
    if not answered and not case.host_only_methods:
        problems.append(f"{url} answered no method at all")
    return problems


def _error_code(response):
    if "json" not in response.get("Content-Type", ""):
        return None
    try:
        return json.loads(response.content).get("error", {}).get("code")
    except (ValueError, AttributeError):
        return None


def report(route, entry, actor, problems):
    return f"{route.label} ({route.text}), case {entry.name}, as {actor}:\n" + "\n".join(problems)


def outsider(tenants, actor):
    user, scope = ACTORS[actor](tenants.home)
    return client_of(user, **scope)


def test_another_tenants_object_is_a_404_for_every_method(route, entry, actor, tenants, cloud_admin):
    case = entry.make(tenants)
    client = outsider(tenants, actor)

    def allowed(method):
        return HOST_ONLY_REFUSALS if method.upper() in case.host_only_methods else (404,)

    problems = refusal_problems(route, case, client, tenants.other.identifiers(), allowed)
    problems += owner_problems(route, case, client_of(cloud_admin))
    assert not problems, report(route, entry, actor, problems)


def test_a_platform_route_shows_no_tenant_data_and_refuses_changes(
    platform_route, entry, actor, tenants, cloud_admin
):
    route = platform_route
    case = entry.make(tenants)
    client = outsider(tenants, actor)

    def allowed(method):
        return PLATFORM_READ_STATUSES if method == "get" else PLATFORM_WRITE_STATUSES

    problems = refusal_problems(route, case, client, tenants.other.identifiers(), allowed)
    problems += owner_problems(route, case, client_of(cloud_admin))
    assert not problems, report(route, entry, actor, problems)


def test_an_id_filter_answers_the_same_for_another_tenants_id_and_an_unknown_one(list_route, actor, tenants):
    others = OtherTenantsObjects(tenants, isolation.entries())
    problems = filter_problems(list_route, outsider(tenants, actor), others)
    assert not problems, f"{list_route.label} as {actor}:\n" + "\n".join(problems)


def test_every_route_that_names_an_object_has_an_isolation_entry():
    missing = missing_entries()
    assert not missing, (
        "These routes take an object identifier but no tests/isolation.py says how to make another"
        " tenant's object for them (or declares them platform routes):\n" + "\n".join(missing)
    )


def test_every_isolation_entry_names_a_route_that_exists():
    keys = {route.key for route in detail_routes()}
    stale = sorted({f"{e.route_key} ({e.name})" for e in isolation.entries() if e.route_key not in keys})
    assert not stale, "Isolation entries for routes that no longer exist:\n" + "\n".join(stale)


def test_no_route_is_declared_both_per_tenant_and_platform():
    mixed = sorted(
        key for key, found in isolation.entries_by_route().items() if len({e.kind for e in found}) > 1
    )
    assert not mixed, f"Routes declared both per-tenant and platform: {mixed}"


# The checks above must be able to fail: run them against a deliberately leaky URL configuration.
LEAKY_URLS = "apps.core.tests.leaky_urls"


def leaky(key):
    return next(route for route in detail_routes(LEAKY_URLS) if route.key == key)


@pytest.mark.parametrize(
    ("key", "kwarg", "write", "not_served"),
    [
        ("leaky:project-detail", "pk", "PATCH", ("DELETE", "POST")),
        ("leaky-project-page", "project_id", "POST", ("DELETE", "PUT", "PATCH")),
    ],
)
def test_the_check_catches_a_route_that_shows_and_changes_another_tenants_object(
    key, kwarg, write, not_served, tenants, settings
):
    settings.ROOT_URLCONF = LEAKY_URLS
    project = tenants.other.project
    case = isolation.Case(project, {kwarg: project.pk}, body={"description": "taken over"})
    client = outsider(tenants, "project_member")
    problems = refusal_problems(leaky(key), case, client, tenants.other.identifiers(), lambda m: (404,))
    assert any(p.startswith("GET ") and "answered 200" in p for p in problems), problems
    assert any(p.startswith(f"{write} ") and "answered 200" in p for p in problems), problems
    assert any("gave away 'project-of-tenant-b'" in p for p in problems), problems
    assert any("the object changed" in p for p in problems), problems
    assert not [p for p in problems if p.startswith(not_served)], "methods the route does not serve"


def test_the_check_catches_a_list_whose_filter_looks_ids_up_among_every_tenants_objects(tenants):
    route = next(r for r in list_routes(LEAKY_URLS) if r.key == "leaky:filtered-project-list")
    others = OtherTenantsObjects(tenants, [])
    with override_settings(ROOT_URLCONF=LEAKY_URLS):
        problems = filter_problems(route, outsider(tenants, "project_member"), others)
    assert [p.split(" answered")[0] for p in problems] == [
        "GET /leaky/filtered-projects/?domain=<tenant B's <class 'apps.identity.models.Domain'>>"
    ]


def test_a_case_whose_url_reaches_no_object_is_flagged(tenants, cloud_admin):
    route = next(r for r in detail_routes() if r.label == "api:project-detail")
    case = isolation.Case(tenants.other.project, {"pk": tenants.home.domain.pk})
    assert owner_problems(route, case, client_of(cloud_admin))


def test_a_route_without_an_isolation_entry_is_named():
    missing = [route for route in missing_entries(LEAKY_URLS) if route.startswith("leaky")]
    assert missing == [
        "leaky-project-page (leaky/pages/<uuid:project_id>/)",
        "leaky/unregistered/<int:pk>/ (leaky/unregistered/<int:pk>/)",
        "leaky:project-detail (leaky/^projects/(?P<pk>[^/.]+)/$)",
    ]
