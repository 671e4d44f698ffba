"""An admin clicks an instance in the admin portal, in Chromium, and stays there: its admin page shows the
host, the project by its domain path, the owner and the job history, and offers the same actions."""

import pytest
from playwright.sync_api import expect

from apps.compute.models import Instance
from apps.core import policy
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant
from apps.infrastructure.tests.factories import HostFactory
from apps.jobs import services as jobs
from apps.jobs.models import Job
from apps.portal.tests import browser

from .factories import InstanceFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def estate(root, zone):
    """acme / eng / web, with an instance launched by alice on kvm-01 and one earlier job on it."""
    acme = DomainFactory(name="acme")
    eng = DomainFactory(name="eng", parent=acme)
    web = ProjectFactory(domain=eng, name="web")
    alice = UserFactory(domain=eng, username="alice")
    grant(alice, policy.PROJECT_MEMBER, web)
    host = HostFactory(name="kvm-01.example.test", zone=zone)
    instance = InstanceFactory(project=web, name="frontend", host=host, created_by_id=alice.pk)
    job = jobs.create_job("compute.instance.spawn", target=web.target(), obj=instance, queue=host.queue)
    Job.objects.filter(pk=job.pk).update(created_by_id=alice.pk)
    jobs.take_next("spawner", queue=host.queue)
    jobs.succeed(job.pk, {"instance": {}})
    return {"acme": acme, "eng": eng, "web": web, "alice": alice, "host": host, "instance": instance}


@pytest.mark.parametrize("viewport", [browser.LAPTOP, browser.PHONE], ids=["laptop", "phone"])
def test_an_admin_opens_an_instance_from_the_admin_list_and_acts_on_it_without_leaving_the_admin_portal(
    browsing, cloud_admin, estate, viewport
):
    instance = estate["instance"]
    page = browsing.signed_in_page(cloud_admin, viewport=viewport)
    page.goto("/admin-portal/instances/")
    row = page.locator("tr", has_text="frontend")
    expect(row).to_contain_text("acme / eng / web")
    row.get_by_role("link", name="frontend").click()

    assert page.url.endswith(f"/admin-portal/instances/{instance.pk}/")
    expect(page.locator("nav.sidebar")).to_have_attribute("aria-label", "Admin portal")
    facts = page.locator("dl.facts").last
    expect(facts).to_contain_text("acme / eng / web")
    expect(facts).to_contain_text("alice")
    expect(facts).to_contain_text("kvm-01.example.test")
    history = page.locator("section", has=page.get_by_role("heading", name="Job history"))
    expect(history).to_contain_text("Launch")
    expect(history).to_contain_text("succeeded")
    assert not browser.overflowing(page)
    browser.screenshot(page, "admin-instance")

    page.get_by_role("button", name="Stop", exact=True).click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/admin-portal/instances/{instance.pk}/")
    expect(page.locator(".messages")).to_contain_text("Stop: started on frontend")
    expect(page.locator(".job-kind").first).to_have_text("Stop")
    expect(page.locator(".job-hint")).to_contain_text("is powered off")
    assert Instance.objects.get(pk=instance.pk).task_state == "powering-off"


def test_a_domain_admin_sees_the_instance_page_of_its_subtree_without_any_host(browsing, estate):
    admin = UserFactory(domain=estate["acme"], username="acme-admin")
    grant(admin, policy.DOMAIN_ADMIN, estate["acme"])
    elsewhere = InstanceFactory(name="not-theirs")
    page = browsing.signed_in_page(admin)

    page.goto(f"/admin-portal/instances/{estate['instance'].pk}/")
    expect(page.get_by_role("heading", name="Instance frontend")).to_be_visible()
    expect(page.locator("main")).to_contain_text("acme / eng / web")
    expect(page.locator("main")).not_to_contain_text("kvm-01")
    assert page.goto(f"/admin-portal/instances/{elsewhere.pk}/").status == 404
