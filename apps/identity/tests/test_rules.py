"""Permission rules live in the database: a cloud admin edits them and the next request obeys."""

import pytest

from apps.audit.models import AuditEvent
from apps.conftest import login
from apps.core import policy
from apps.identity.models import Rule
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant


@pytest.fixture
def reader(root):
    project = ProjectFactory(name="web")
    user = UserFactory(domain=project.domain)
    grant(user, policy.PROJECT_READER, project)
    return user, project


def test_a_rule_removed_then_added_is_obeyed_on_the_very_next_request(reader, admin_api):
    user, project = reader
    api = login(user)
    url = f"/api/v1/projects/{project.pk}/"
    assert api.get(url).status_code == 200
    read_rule = Rule.objects.get(role__name=policy.PROJECT_READER, action=f"@{policy.READ}")

    assert admin_api.delete(f"/api/v1/rules/{read_rule.pk}/").status_code == 204
    assert api.get(url).status_code == 404
    assert api.get("/api/v1/projects/").data["results"] == []

    added = admin_api.post(
        "/api/v1/rules/", {"role": policy.PROJECT_READER, "action": "identity.project.*"}, format="json"
    )
    assert added.status_code == 201, added.data
    assert api.get(url).status_code == 200
    assert api.get("/api/v1/quotas/").data["results"] == []
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="identity.rule.")] == [
        "identity.rule.create",
        "identity.rule.delete",
    ]


def test_removing_a_default_rule_takes_the_power_away_at_once(root, admin_api):
    acme = DomainFactory(name="acme")
    admin = UserFactory(domain=acme)
    grant(admin, policy.DOMAIN_ADMIN, acme)
    api = login(admin)
    body = {"name": "p1", "domain_id": str(acme.pk)}
    assert api.post("/api/v1/projects/", body, format="json").status_code == 201
    rule = Rule.objects.get(role__name=policy.DOMAIN_ADMIN, action=f"@{policy.ADMINISTER}")

    assert admin_api.delete(f"/api/v1/rules/{rule.pk}/").status_code == 204

    response = api.post("/api/v1/projects/", {**body, "name": "p2"}, format="json")
    assert (response.status_code, response.data["error"]["code"]) == (403, "permission_denied")
    assert api.get(f"/api/v1/domains/{acme.pk}/").status_code == 200


@pytest.mark.parametrize("pattern", ["identity.nothing.*", "@nonsense", "compute-typo"])
def test_a_pattern_matching_no_action_is_refused_with_400_unknown_action(root, admin_api, pattern):
    body = {"role": policy.PROJECT_READER, "action": pattern}

    response = admin_api.post("/api/v1/rules/", body, format="json")

    assert response.status_code == 400
    assert response.data["error"]["code"] == "unknown_action"
    assert "@read, @use, @administer, @platform" in response.data["error"]["message"]
    assert response.data["error"]["details"] == {"action": [f"'{pattern}' matches no action."]}
    assert list(Rule.objects.filter(role__name=policy.PROJECT_READER).values_list("action", flat=True)) == [
        "@read"
    ]


def test_only_cloud_admins_edit_rules(reader, root):
    acme = DomainFactory()
    admin = UserFactory(domain=acme)
    grant(admin, policy.DOMAIN_ADMIN, acme)
    rule = Rule.objects.get(role__name=policy.PROJECT_READER)
    body = {"role": policy.DOMAIN_ADMIN, "action": "*"}

    for api in (login(admin), login(reader[0])):
        assert api.post("/api/v1/rules/", body, format="json").status_code == 403
        assert api.delete(f"/api/v1/rules/{rule.pk}/").status_code == 403
    assert Rule.objects.filter(pk=rule.pk).exists()
