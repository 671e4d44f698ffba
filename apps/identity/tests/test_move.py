"""Moving a project to another domain: its usage moves along both domain chains, or nothing moves."""

import pytest
from django.core.management.base import CommandError

from apps.audit.models import AuditEvent
from apps.core.actor import Actor
from apps.identity.models import Domain, Project
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory
from apps.quotas import services
from apps.quotas.recalc import recalculate

from .commands import call

SYSTEM = Actor.system()


def used(scope, resource="instances"):
    return services.usage_of(scope)[resource][1]


def chain_used(domain, resource="instances"):
    """Usage of `domain` and every domain above it, ROOT last."""
    found = []
    while domain is not None:
        found.append(used(domain, resource))
        domain = domain.parent
    return found


@pytest.fixture
def trees(root):
    """acme/eng holding project web (3 instances, 6 vcpus), and an empty globex/labs/x."""
    acme = DomainFactory(name="acme")
    eng = DomainFactory(name="eng", parent=acme)
    globex = DomainFactory(name="globex")
    labs = DomainFactory(name="labs", parent=globex)
    x = DomainFactory(name="x", parent=labs)
    web = ProjectFactory(name="web", domain=eng)
    services.claim(web, {"instances": 3, "vcpus": 6}, UserFactory(domain=eng))
    return {"acme": acme, "eng": eng, "globex": globex, "labs": labs, "x": x, "web": web}


def test_a_moved_project_takes_its_usage_from_the_old_chain_to_the_new(trees, admin_api):
    web, x = trees["web"], trees["x"]

    response = admin_api.post(f"/api/v1/projects/{web.pk}/move/", {"domain_id": str(x.pk)}, format="json")

    assert response.status_code == 200, response.data
    assert response.data["domain_id"] == str(x.pk)
    assert chain_used(x) == [3, 3, 3, 3]
    assert chain_used(x, "vcpus") == [6, 6, 6, 6]
    assert chain_used(trees["eng"]) == [0, 0, 3]
    assert used(web) == 3
    assert recalculate().clean
    event = AuditEvent.objects.get(action="identity.project.move")
    assert (event.outcome, event.object_id) == ("success", str(web.pk))
    assert event.details == {"from": str(trees["eng"].pk), "to": str(x.pk)}


def test_a_move_without_room_is_refused_naming_the_targets_limit_and_nothing_moves(trees, admin_api):
    web, labs = trees["web"], trees["labs"]
    services.claim(ProjectFactory(domain=trees["x"]), {"instances": 1}, UserFactory())
    services.set_limit(SYSTEM, labs, "instances", 3)

    response = admin_api.post(
        f"/api/v1/projects/{web.pk}/move/", {"domain_id": str(trees["x"].pk)}, format="json"
    )

    assert response.status_code == 409
    error = response.data["error"]
    assert error["code"] == "quota_exceeded"
    assert error["details"] == {
        "resource": "instances",
        "scope": "domain",
        "scope_id": str(labs.pk),
        "scope_name": "labs",
        "limit": 3,
        "used": 1,
        "requested": 3,
    }
    # The message is also the audit event's, which the project's members read: it names no domain.
    assert (
        error["message"]
        == "Quota exceeded for instances: a domain above project 'web' has no room for 3 more."
    )
    assert Project.objects.get(pk=web.pk).domain_id == trees["eng"].pk
    assert chain_used(trees["x"]) == [1, 1, 1, 4]
    assert chain_used(trees["x"], "vcpus") == [0, 0, 0, 6]
    assert chain_used(trees["eng"]) == [3, 3, 4]
    assert recalculate().clean
    assert AuditEvent.objects.using("audit").get(action="identity.project.move").outcome == "failure"


def test_a_full_common_ancestor_does_not_stop_a_move_below_it(trees, admin_api):
    web, acme = trees["web"], trees["acme"]
    ops = DomainFactory(name="ops", parent=acme)
    services.set_limit(SYSTEM, acme, "instances", 3)

    response = admin_api.post(f"/api/v1/projects/{web.pk}/move/", {"domain_id": str(ops.pk)}, format="json")

    assert response.status_code == 200
    assert chain_used(ops) == [3, 3, 3]
    assert used(trees["eng"]) == 0


def test_moveproject_moves_a_project_from_the_command_line(trees):
    printed = call("moveproject", "acme/eng:web", "--to", "globex/labs/x")

    assert printed == "project web moved to x\n"
    assert Project.objects.get(pk=trees["web"].pk).domain == trees["x"]
    assert chain_used(trees["x"]) == [3, 3, 3, 3]
    assert chain_used(trees["eng"]) == [0, 0, 3]


def test_moveproject_without_room_exits_with_one_line_naming_the_limit(trees):
    services.set_limit(SYSTEM, trees["globex"], "vcpus", 5)

    with pytest.raises(CommandError) as refused:
        call("moveproject", "acme/eng:web", "--to", "globex/labs/x")

    assert str(refused.value) == (
        "quota_exceeded: Quota exceeded for vcpus: a domain above project 'web' has no room for 6 more."
    )
    assert Project.objects.get(pk=trees["web"].pk).domain == trees["eng"]
    assert chain_used(trees["x"], "vcpus") == [0, 0, 0, 6]


def test_a_move_onto_a_taken_name_is_refused_and_nothing_moves(trees, admin_api):
    ProjectFactory(name="web", domain=trees["x"])

    response = admin_api.post(
        f"/api/v1/projects/{trees['web'].pk}/move/", {"domain_id": str(trees["x"].pk)}, format="json"
    )

    assert (response.status_code, response.data["error"]["code"]) == (409, "already_exists")
    assert chain_used(trees["x"]) == [0, 0, 0, 3]
    assert Domain.objects.get(pk=trees["eng"].pk).projects.get().name == "web"
