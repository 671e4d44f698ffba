"""In the browser, another tenant's pages are a 404, and a domain admin stays inside their domain."""

import pytest
from playwright.sync_api import expect

from apps.identity.tests.factories import DomainFactory

from .conftest import make_tenant

pytestmark = pytest.mark.browser


def project_pages(project):
    base = f"/dashboard/projects/{project.pk}/"
    return [base, base + "members/", base + "activity/"]


def domain_pages(tenant):
    return [
        f"/admin-portal/domains/{tenant.domain.pk}/",
        f"/admin-portal/projects/{tenant.project.pk}/",
        f"/admin-portal/users/{tenant.member.pk}/",
        *project_pages(tenant.project),
    ]


def assert_not_found(page, url):
    response = page.goto(url)
    assert response.status == 404, f"{url} answered {response.status}"
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()


def test_a_tenant_of_project_a_opening_a_url_of_project_b_gets_a_404(browsing, root):
    a, b = make_tenant(), make_tenant()
    page = browsing.signed_in_page(a.member)
    for url in project_pages(a.project):
        assert page.goto(url).status == 200, url
    for url in project_pages(b.project):
        assert_not_found(page, url)
    expect(page.get_by_text(b.project.name)).to_have_count(0)


def test_a_domain_admin_cannot_reach_another_domains_pages(browsing, root):
    a, b = make_tenant(), make_tenant()
    page = browsing.signed_in_page(a.admin)
    for url in domain_pages(a):
        assert page.goto(url).status == 200, url
    for url in domain_pages(b):
        assert_not_found(page, url)
    page.goto("/admin-portal/domains/")
    expect(page.locator(".tree")).to_contain_text(a.domain.name)
    expect(page.locator(".tree")).not_to_contain_text(b.domain.name)


def test_a_domain_admin_cannot_create_in_a_domain_outside_theirs(browsing, root):
    a = make_tenant()
    outside = DomainFactory()
    page = browsing.signed_in_page(a.admin)
    page.goto("/admin-portal/projects/")
    options = page.get_by_label("Domain", exact=True).locator("option").all_inner_texts()
    assert outside.name not in " ".join(options)
    assert a.domain.name in " ".join(options)
