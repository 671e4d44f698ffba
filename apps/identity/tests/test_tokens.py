"""Tokens: issue, use, expire, and every way they are revoked."""

from datetime import timedelta

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from apps.conftest import login
from apps.core import policy
from apps.identity.api.authentication import TokenAuthentication
from apps.identity.tests.factories import (
    PASSWORD,
    DomainFactory,
    ProjectFactory,
    UserFactory,
    grant,
)


def member_of(project):
    user = UserFactory(domain=project.domain)
    grant(user, policy.PROJECT_MEMBER, project)
    return user


def test_a_token_lets_a_member_list_their_projects(root):
    project = ProjectFactory()
    api = login(member_of(project))
    response = api.get("/api/v1/projects/")
    assert response.status_code == 200
    assert [p["id"] for p in response.data["results"]] == [str(project.id)]


def test_a_token_and_every_permission_check_it_allows_cost_one_sql_statement(root):
    project = ProjectFactory()
    token = login(member_of(project), project_id=project.pk).token
    request = APIRequestFactory().get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Bearer {token}")
    # The first request on a connection also prepares the statement (apps/core/prepared.py).
    TokenAuthentication().authenticate(Request(request))
    with CaptureQueriesContext(connection) as queries:
        _, principal = TokenAuthentication().authenticate(Request(request))
        assert principal.can("identity.project.read", project.target())
        assert not principal.can("identity.project.update", project.target())
    assert len(queries) == 1, [q["sql"] for q in queries]


def test_a_wrong_password_gets_a_401_with_a_stable_code(root):
    user = UserFactory()
    response = APIClient().post(
        "/api/v1/auth/tokens/", {"username": user.username, "password": "nope"}, format="json"
    )
    assert response.status_code == 401
    assert response.data["error"]["code"] == "invalid_credentials"


def test_an_expired_token_is_refused(root, settings):
    api = login(member_of(ProjectFactory()))
    with time_machine.travel(timezone.now() + timedelta(seconds=3601)):
        response = api.get("/api/v1/projects/")
    assert response.status_code == 401
    assert response.data["error"]["code"] == "token_expired"


def test_revoking_the_current_token_stops_it_on_the_next_request(root):
    api = login(member_of(ProjectFactory()))
    assert api.delete("/api/v1/auth/tokens/current/").status_code == 204
    response = api.get("/api/v1/projects/")
    assert response.status_code == 401
    assert response.data["error"]["code"] == "token_revoked"


def test_a_password_change_revokes_every_token_of_the_user(root):
    user = member_of(ProjectFactory())
    first, second = login(user), login(user)
    response = first.post(
        "/api/v1/auth/password/",
        {"old_password": PASSWORD, "new_password": "another-long-password"},
        format="json",
    )
    assert response.status_code == 204
    assert second.get("/api/v1/projects/").data["error"]["code"] == "token_revoked"


def test_disabling_the_user_revokes_their_tokens(root, admin_api):
    user = member_of(ProjectFactory())
    api = login(user)
    assert (
        admin_api.patch(f"/api/v1/users/{user.id}/", {"is_active": False}, format="json").status_code == 200
    )
    assert api.get("/api/v1/projects/").status_code == 401


def test_disabling_a_parent_domain_stops_tokens_below_it(root, admin_api):
    parent = DomainFactory()
    child = DomainFactory(parent=parent)
    project = ProjectFactory(domain=child)
    api = login(member_of(project))
    response = admin_api.patch(f"/api/v1/domains/{parent.id}/", {"enabled": False}, format="json")
    assert response.status_code == 200
    assert api.get("/api/v1/projects/").status_code == 401


def test_removing_the_role_revokes_the_users_tokens(root, admin_api):
    project = ProjectFactory()
    user = member_of(project)
    api = login(user)
    assignment = user.assignments.get()
    assert admin_api.delete(f"/api/v1/role-assignments/{assignment.id}/").status_code == 204
    assert api.get("/api/v1/projects/").data["error"]["code"] == "token_revoked"


def test_disabling_the_project_revokes_tokens_scoped_to_it(root, admin_api):
    project = ProjectFactory()
    api = login(member_of(project), project_id=project.id)
    assert (
        admin_api.patch(f"/api/v1/projects/{project.id}/", {"enabled": False}, format="json").status_code
        == 200
    )
    assert api.get("/api/v1/projects/").status_code == 401


def test_a_failed_login_is_audited_although_it_rolled_back(root):
    from apps.audit.models import AuditEvent

    user = UserFactory()
    APIClient().post("/api/v1/auth/tokens/", {"username": user.username, "password": "nope"}, format="json")
    event = AuditEvent.objects.using("audit").get(action="identity.token.create")
    assert (event.outcome, event.error_code) == ("failure", "invalid_credentials")
