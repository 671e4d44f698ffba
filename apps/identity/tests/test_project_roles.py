"""Project members use their project, readers only read it, and neither sees another tenant's."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.conftest import login
from apps.core import policy
from apps.core.errors import NotFound
from apps.identity.selectors import visible_project
from apps.identity.services import tokens
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant
from apps.quotas.models import QuotaUsage

ROLES = [policy.PROJECT_MEMBER, policy.PROJECT_READER]


@pytest.fixture
def tenants(root):
    mine, theirs = ProjectFactory(name="mine"), ProjectFactory(name="theirs", domain=DomainFactory())
    return mine, theirs


def holder_of(role_name, project):
    user = UserFactory(domain=project.domain)
    grant(user, role_name, project)
    return user


@pytest.fixture
def use_action(monkeypatch):
    """A `use` action such as resource apps register (the foundation has none), for this test only."""
    name = "tests.widget.create"
    monkeypatch.setattr(
        policy, "_actions", {**policy.registered_actions(), name: (policy.USE, "Make a widget")}
    )
    return name


@pytest.mark.parametrize("role_name", ROLES)
def test_members_and_readers_read_their_project_and_get_404_for_another_tenants(tenants, role_name):
    mine, theirs = tenants
    api = login(holder_of(role_name, mine))
    their_quota = QuotaUsage.objects.get(project=theirs, resource="instances")

    assert [p["name"] for p in api.get("/api/v1/projects/").data["results"]] == ["mine"]
    assert api.get(f"/api/v1/projects/{mine.pk}/").status_code == 200
    assert api.get(f"/api/v1/projects/{theirs.pk}/").status_code == 404
    assert api.get(f"/api/v1/quotas/{their_quota.pk}/").status_code == 404
    assert api.get(f"/api/v1/quotas/?project={theirs.pk}").data["results"] == []
    assert {q["scope_id"] for q in api.get("/api/v1/quotas/").data["results"]} == {str(mine.pk)}
    assert api.get(f"/api/v1/domains/{mine.domain_id}/").status_code == 404


@pytest.mark.parametrize("role_name", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "projects/{project}/", {"name": "renamed"}),
        ("patch", "projects/{project}/", {"enabled": False}),
        ("delete", "projects/{project}/", None),
        ("patch", "quotas/{quota}/", {"limit": 1000}),
    ],
)
def test_administering_their_own_project_is_refused_with_403(tenants, role_name, method, path, body):
    mine, _ = tenants
    quota = QuotaUsage.objects.get(project=mine, resource="instances")
    api = login(holder_of(role_name, mine))

    response = getattr(api, method)(
        "/api/v1/" + path.format(project=mine.pk, quota=quota.pk), body, format="json"
    )

    assert (response.status_code, response.data["error"]["code"]) == (403, "permission_denied")
    mine.refresh_from_db()
    quota.refresh_from_db()
    assert (mine.name, mine.enabled, quota.limit) == ("mine", True, 20)


def test_members_use_their_project_and_readers_only_read_it(tenants, use_action):
    mine, theirs = tenants
    member = policy.Principal(holder_of(policy.PROJECT_MEMBER, mine))
    reader = policy.Principal(holder_of(policy.PROJECT_READER, mine))

    assert member.can(use_action, mine.target())
    assert not member.can(use_action, theirs.target())
    assert not reader.can(use_action, mine.target())
    assert reader.can("identity.project.read", mine.target())
    for principal in (member, reader):
        assert not principal.can("identity.project.update", mine.admin_target())
        assert not principal.can("identity.project.read", theirs.target())


def test_a_project_scoped_token_finds_its_own_project_without_a_query_and_no_other(tenants):
    mine, theirs = tenants
    other_of_mine = ProjectFactory(name="other", domain=mine.domain)
    user = holder_of(policy.PROJECT_MEMBER, mine)
    grant(user, policy.PROJECT_MEMBER, other_of_mine)
    token = tokens.validate(login(user, project_id=mine.pk).token)
    principal = policy.Principal(user, scope_project=token.scope_project, grants=token.grants)
    with CaptureQueriesContext(connection) as queries:
        assert visible_project(principal, str(mine.pk)) == mine
    assert queries.captured_queries == []
    for project in (theirs, other_of_mine):
        with pytest.raises(NotFound):
            visible_project(principal, project.pk)
