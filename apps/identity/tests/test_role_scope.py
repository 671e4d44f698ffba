"""A role that runs the cloud (it carries platform actions) is given on the root domain only.

On a project or a lower domain its platform actions would never apply (the
platform's objects sit on ROOT): the identity service refuses it with
`role_scope_mismatch`, through the API and the portal alike, instead of
accepting it without a word.
"""

import pytest

from apps.core import policy
from apps.identity.models import Role, RoleAssignment, Rule
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, role
from apps.portal.tests.conftest import signed_in


@pytest.fixture
def carol(root):
    return UserFactory(username="carol", domain=DomainFactory(name="acme"))


def give(admin_api, user, role_name, **where):
    return admin_api.post(
        "/api/v1/role-assignments/",
        {"user_id": str(user.pk), "role": role_name, **{k: str(v.pk) for k, v in where.items()}},
        format="json",
    )


@pytest.mark.parametrize("where", ["project", "domain"])
def test_cloud_admin_below_root_is_refused_with_role_scope_mismatch(admin_api, carol, where):
    place = {"project_id": ProjectFactory(domain=carol.domain)} if where == "project" else {}
    place = place or {"domain_id": carol.domain}

    response = give(admin_api, carol, policy.CLOUD_ADMIN, **place)

    assert (response.status_code, response.data["error"]["code"]) == (400, "role_scope_mismatch")
    assert "give it on the root domain" in response.data["error"]["message"]
    assert not carol.assignments.exists()


def test_cloud_admin_on_root_and_the_tenant_roles_anywhere_are_given(admin_api, carol, root):
    project = ProjectFactory(domain=carol.domain)
    assert give(admin_api, carol, policy.PROJECT_MEMBER, project_id=project).status_code == 201
    assert give(admin_api, carol, policy.DOMAIN_ADMIN, domain_id=carol.domain).status_code == 201
    assert give(admin_api, carol, policy.CLOUD_ADMIN, domain_id=root).status_code == 201
    assert carol.assignments.count() == 3


def test_a_custom_role_with_one_platform_action_is_refused_on_a_project(admin_api, carol):
    operator = Role.objects.create(name="operator")
    Rule.objects.bulk_create(
        [Rule(role=operator, action="@read"), Rule(role=operator, action="infrastructure.host.update")]
    )
    project = ProjectFactory(domain=carol.domain)

    response = give(admin_api, carol, "operator", project_id=project)

    assert response.data["error"]["code"] == "role_scope_mismatch"
    assert "infrastructure.host.update" in response.data["error"]["message"]


def test_the_users_page_says_so_next_to_where_the_role_was_to_go(cloud_admin, carol):
    project = ProjectFactory(domain=carol.domain, name="web")
    response = signed_in(cloud_admin).post(
        f"/admin-portal/users/{carol.pk}/roles/",
        {"role": role(policy.CLOUD_ADMIN).name, "where": f"project:{project.pk}"},
    )

    assert response.status_code == 400
    assert "give it on the root domain, not on project web" in response.content.decode()
    assert 'id="id_where_error"' in response.content.decode()
    assert not RoleAssignment.objects.filter(user=carol).exists()
