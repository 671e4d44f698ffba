"""Deleting a project or a domain that still owns something is refused with the list of what."""

import pytest

from apps.identity.models import Domain, Project
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory
from apps.quotas import services
from apps.quotas.models import QuotaUsage


@pytest.fixture
def acme(root):
    return DomainFactory(name="acme")


def test_a_project_holding_claims_is_not_deleted_and_the_refusal_lists_them(acme, admin_api):
    web = ProjectFactory(name="web", domain=acme)
    first, second = UserFactory(domain=acme), UserFactory(domain=acme)
    services.claim(web, {"instances": 1, "vcpus": 2}, first)
    services.claim(web, {"instances": 1, "vcpus": 4}, second)

    response = admin_api.delete(f"/api/v1/projects/{web.pk}/")

    assert response.status_code == 409
    error = response.data["error"]
    assert error["code"] == "project_not_empty"
    assert error["details"] == {"owned": {"resources:instances": 2, "resources:vcpus": 6}}
    assert "web still owns" in error["message"]
    assert Project.objects.filter(pk=web.pk).exists()
    assert QuotaUsage.objects.filter(project=web).exists()


def test_a_project_is_deleted_once_its_claims_are_released(acme, admin_api):
    web = ProjectFactory(domain=acme)
    holder = UserFactory(domain=acme)
    services.claim(web, {"instances": 1}, holder)
    services.release(holder)

    assert admin_api.delete(f"/api/v1/projects/{web.pk}/").status_code == 204

    assert not Project.objects.filter(pk=web.pk).exists()
    assert not QuotaUsage.objects.filter(project_id=web.pk).exists()


def test_a_domain_with_sub_domains_projects_and_users_is_not_deleted_and_the_refusal_lists_them(
    acme, admin_api
):
    DomainFactory(parent=acme)
    ProjectFactory(domain=acme)
    UserFactory(domain=acme)
    UserFactory(domain=acme)

    response = admin_api.delete(f"/api/v1/domains/{acme.pk}/")

    assert response.status_code == 409
    error = response.data["error"]
    assert error["code"] == "domain_not_empty"
    assert error["details"] == {"owned": {"sub-domains": 1, "projects": 1, "users": 2}}
    assert error["message"] == "Domain acme still owns: 1 sub-domains, 1 projects, 2 users."
    assert Domain.objects.filter(pk=acme.pk).exists()


def test_an_empty_domain_is_deleted_with_its_quota_rows(acme, admin_api):
    assert admin_api.delete(f"/api/v1/domains/{acme.pk}/").status_code == 204

    assert not Domain.objects.filter(pk=acme.pk).exists()
    assert not QuotaUsage.objects.filter(domain_id=acme.pk).exists()


def test_the_root_domain_is_never_deleted(root, admin_api):
    response = admin_api.delete(f"/api/v1/domains/{root.pk}/")

    assert (response.status_code, response.data["error"]["code"]) == (400, "root_domain")
