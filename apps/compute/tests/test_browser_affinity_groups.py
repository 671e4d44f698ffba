"""Affinity groups in Chromium: created, refused at a field, deleted after confirmation; and the pages
this work added (groups, an instance with its snapshot form, a host) at a phone's width."""

import pytest
from playwright.sync_api import expect

from apps.compute.models import AffinityGroup
from apps.compute.services.affinity import create_affinity_group
from apps.core import policy
from apps.core.actor import Actor
from apps.identity.tests.factories import grant
from apps.portal.tests import browser

from .factories import InstanceFactory

pytestmark = pytest.mark.browser
SYSTEM = Actor.system("test")


def test_a_tenant_creates_a_group_and_deletes_it_after_confirming_while_a_used_one_is_kept(
    browsing, member, project
):
    used = create_affinity_group(SYSTEM, project, name="db-pair", policy=AffinityGroup.ANTI_AFFINITY)
    InstanceFactory(project=project, name="db-1", affinity_group=used)
    page = browsing.signed_in_page(member)
    page.goto(f"/dashboard/projects/{project.pk}/")
    page.get_by_role("link", name="Affinity groups").click()
    expect(page.get_by_role("heading", name="Affinity groups", exact=True)).to_be_visible()

    name = page.get_by_label("Name")
    name.fill("web-tier")
    page.get_by_label("Policy").select_option(label="Affinity: all on one host")
    page.get_by_role("button", name="Create group").click()
    expect(page.locator(".messages")).to_contain_text("Affinity group web-tier (affinity) created")
    expect(page.locator('[data-group="web-tier"]')).to_contain_text("affinity")

    page.get_by_label("Name").fill("web-tier")
    page.get_by_role("button", name="Create group").click()
    name = page.get_by_label("Name")
    expect(name).to_be_focused()
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_name_error")).to_contain_text("already exists")

    page.get_by_role("link", name="Delete affinity group db-pair").click()
    expect(page.get_by_role("heading", name="Delete affinity group db-pair?")).to_be_visible()
    expect(page.get_by_role("link", name="db-1")).to_be_visible()
    page.get_by_role("button", name="Delete db-pair").click()
    expect(page.locator(".messages")).to_contain_text("Affinity group db-pair still has instances.")
    expect(page.locator('[data-group="db-pair"]')).to_be_visible()

    page.get_by_role("link", name="Delete affinity group web-tier").click()
    page.get_by_role("button", name="Delete web-tier").click()
    expect(page.locator(".messages")).to_contain_text("Affinity group web-tier deleted.")
    expect(page.locator('[data-group="web-tier"]')).to_have_count(0)
    assert list(AffinityGroup.objects.values_list("name", flat=True)) == ["db-pair"]


def test_the_new_pages_fit_a_phone(browsing, cloud_admin, project):
    grant(cloud_admin, policy.PROJECT_MEMBER, project)
    group = create_affinity_group(SYSTEM, project, name="a-group-with-a-rather-long-name", policy="affinity")
    instance = InstanceFactory(project=project, name="web-frontend-with-a-long-name", affinity_group=group)
    page = browsing.new_page(browser.PHONE)
    browser.sign_in(page, cloud_admin.username)
    base = f"/dashboard/projects/{project.pk}"
    for name, url in {
        "affinity-groups": f"{base}/affinity-groups/",
        "affinity-group-delete": f"{base}/affinity-groups/{group.pk}/delete/",
        "instance-with-snapshot": f"{base}/instances/{instance.pk}/",
        "admin-host": f"/admin-portal/hosts/{instance.host.pk}/",
    }.items():
        assert page.goto(url).status == 200, url
        sticking_out = browser.overflowing(page)
        assert not sticking_out, f"{name}: wider than a phone: {sticking_out}"
        browser.screenshot(page, f"compute-{name}")
