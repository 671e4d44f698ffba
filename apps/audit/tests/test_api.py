"""Reading the audit log through /api/v1/audit-events/: admins filter it, tenants see their project's."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.conftest import login
from apps.core import policy
from apps.core.actor import Actor
from apps.identity.services.projects import update_project
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant
from apps.quotas import services

URL = "/api/v1/audit-events/"

# Failures commit on their own connection; the API reads on the default one.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def history(root, admin_api):
    """Changes in two tenants' projects and their domains, one refused, one week-old event."""
    acme, globex = DomainFactory(name="acme"), DomainFactory(name="globex")
    web, shop = ProjectFactory(name="web", domain=acme), ProjectFactory(name="shop", domain=globex)
    member, admin = UserFactory(username="mia", domain=acme), UserFactory(username="dan", domain=acme)
    grant(member, policy.PROJECT_MEMBER, web)
    grant(admin, policy.DOMAIN_ADMIN, acme)
    for project in (web, shop):
        admin_api.patch(f"/api/v1/projects/{project.pk}/", {"description": "changed"}, format="json")
        services.set_limit(Actor.system(), project, "instances", 5)
    admin_api.patch(f"/api/v1/domains/{acme.pk}/", {"description": "changed"}, format="json")
    login(member).patch(f"/api/v1/projects/{web.pk}/", {"name": "mine"}, format="json")
    update_project(Actor.system(), web, description="a week ago")
    AuditEvent.objects.filter(details__changes__description="a week ago").update(
        timestamp=timezone.now() - timedelta(days=7)
    )
    return {"web": web, "shop": shop, "acme": acme, "member": member, "admin": admin}


def listed(api, **filters):
    response = api.get(URL, filters)
    assert response.status_code == 200, response.data
    return [(e["action"], e["object_repr"], e["outcome"]) for e in response.data["results"]]


def test_admins_filter_by_action_outcome_actor_and_time(history, admin_api, cloud_admin):
    assert listed(admin_api, action="quotas.quota.update") == [
        ("quotas.quota.update", "shop", "success"),
        ("quotas.quota.update", "web", "success"),
    ]
    assert listed(admin_api, outcome="failure") == [("identity.project.update", "web", "failure")]
    assert listed(admin_api, actor="mia") == [
        ("identity.project.update", "web", "failure"),
        ("identity.token.create", "mia", "success"),
    ]
    assert len(listed(admin_api, actor_id=str(cloud_admin.pk))) == 4  # its login and three changes
    assert listed(admin_api, action_prefix="identity.domain.") == [
        ("identity.domain.update", "acme", "success")
    ]
    week_ago = timezone.now() - timedelta(days=7)
    assert listed(admin_api, until=(week_ago + timedelta(hours=1)).isoformat()) == [
        ("identity.project.update", "web", "success")
    ]
    assert (
        len(listed(admin_api, since=(week_ago + timedelta(hours=1)).isoformat()))
        == AuditEvent.objects.count() - 1
    )


def test_a_tenant_sees_only_its_own_projects_entries(history):
    events = login(history["member"]).get(URL).data["results"]

    assert {e["project_id"] for e in events} == {str(history["web"].pk)}
    assert sorted((e["action"], e["outcome"]) for e in events) == [
        ("identity.project.update", "failure"),
        ("identity.project.update", "success"),
        ("identity.project.update", "success"),
        ("quotas.quota.update", "success"),
    ]
    shop_event = AuditEvent.objects.filter(project_id=history["shop"].pk).first()
    assert login(history["member"]).get(f"{URL}{shop_event.pk}/").status_code == 404


def test_a_domain_admin_sees_its_subtree_and_not_another_domains(history):
    events = listed(login(history["admin"]))

    assert ("identity.project.update", "web", "failure") in events
    assert ("quotas.quota.update", "web", "success") in events
    assert not {"shop", "globex"} & {repr_ for _, repr_, _ in events}
    assert ("identity.domain.update", "acme", "success") not in events


def test_the_audit_log_cannot_be_written_through_the_api(history, admin_api):
    event = AuditEvent.objects.first()

    assert admin_api.post(URL, {"action": "forged"}, format="json").status_code == 405
    assert admin_api.delete(f"{URL}{event.pk}/").status_code == 405
    assert admin_api.patch(f"{URL}{event.pk}/", {"outcome": "success"}, format="json").status_code == 405
