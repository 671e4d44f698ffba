"""Offerings in Chromium: a cloud admin creates one restricted to a domain, disables, edits and enables it;
that domain's admin then sees it, read-only, beside the public ones, and neither zones nor hosts."""

import pytest
from playwright.sync_api import expect

from apps.compute.models import ServiceOffering
from apps.core import policy
from apps.identity.tests.factories import DomainFactory, UserFactory, grant
from apps.portal.tests import browser

from .factories import OfferingFactory

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [browser.LAPTOP, browser.PHONE], ids=["laptop", "phone"])
def test_a_cloud_admin_restricts_an_offering_to_a_domain_whose_admin_then_sees_it_read_only(
    browsing, cloud_admin, root, viewport
):
    acme = DomainFactory(name="acme")
    globex = DomainFactory(name="globex")
    OfferingFactory(name="m1.small", vcpus=1, ram_mb=1024, root_disk_gb=10)
    restricted_elsewhere = OfferingFactory(name="m1.globex", public=False)
    restricted_elsewhere.domains.set([globex])

    page = browsing.signed_in_page(cloud_admin, viewport=viewport)
    page.goto("/admin-portal/offerings/")
    form = page.locator("form", has=page.get_by_role("button", name="Create offering"))
    form.get_by_label("Name", exact=True).fill("m1.acme")
    form.get_by_label("vCPUs").fill("2")
    form.get_by_label("RAM (MB)").fill("2048")
    form.get_by_label("Root disk (GB)").fill("20")
    form.get_by_label("Public: every domain may launch it").uncheck()
    form.get_by_role("button", name="Create offering").click()
    expect(page.locator("#id_domains_error")).to_contain_text("Choose the domains that may launch it")
    form = page.locator("form", has=page.get_by_role("button", name="Create offering"))
    form.get_by_label("Domains that may launch it").select_option(label="acme")
    form.get_by_role("button", name="Create offering").click()
    page.wait_for_load_state()

    expect(page.get_by_role("heading", name="Offering m1.acme")).to_be_visible()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("2 vCPU · 2048 MB RAM · 20 GB disk")
    expect(facts).to_contain_text("acme (and their sub-domains)")
    page.get_by_role("button", name="Disable").click()
    expect(page.locator(".messages")).to_contain_text("Offering m1.acme is disabled")
    settings = page.locator("section", has=page.get_by_role("heading", name="Settings"))
    settings.get_by_label("Name", exact=True).fill("m1.acme-large")
    settings.get_by_label("Enabled: new instances may be launched with it").check()
    settings.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Offering m1.acme-large")).to_be_visible()
    offering = ServiceOffering.objects.get(name="m1.acme-large")
    assert (offering.enabled, offering.public, list(offering.domains.all())) == (True, False, [acme])
    assert not browser.overflowing(page)
    browser.screenshot(page, "admin-offering")
    page.goto("/admin-portal/offerings/")
    assert not browser.overflowing(page)
    browser.screenshot(page, "admin-offerings")

    acme_admin = UserFactory(domain=acme, username="acme-admin")
    grant(acme_admin, policy.DOMAIN_ADMIN, acme)
    page = browsing.signed_in_page(acme_admin, viewport=viewport)
    page.goto("/admin-portal/offerings/")
    names = page.locator("tr[data-offering]").evaluate_all("rows => rows.map(r => r.dataset.offering)")
    assert sorted(names) == ["m1.acme-large", "m1.small"]
    nav = page.locator("nav.sidebar")
    expect(nav.get_by_role("link", name="Offerings")).to_be_visible()
    expect(nav.get_by_role("link", name="Zones")).to_have_count(0)
    expect(nav.get_by_role("link", name="Hosts")).to_have_count(0)
    expect(page.get_by_role("button", name="Create offering")).to_have_count(0)
    page.get_by_role("link", name="m1.acme-large").click()
    expect(page.locator("dl.facts")).to_contain_text("acme (and their sub-domains)")
    expect(page.get_by_role("heading", name="Settings")).to_have_count(0)
    for address in (
        "/admin-portal/zones/",
        "/admin-portal/hosts/new/",
        f"/admin-portal/offerings/{restricted_elsewhere.pk}/",
    ):
        assert page.goto(address).status == 404, address
