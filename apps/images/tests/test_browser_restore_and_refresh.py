"""In Chromium: a deleted image restored from the dashboard, and a failed import shown without a reload."""

import pytest
from playwright.sync_api import expect

from apps.images.models import Image
from apps.portal.tests import browser

from . import crafted
from .factories import active_image

pytestmark = pytest.mark.browser


def test_a_tenant_deletes_an_image_after_confirming_and_restores_it_from_the_images_list(
    browsing, member, project
):
    image = active_image(project, name="golden")
    page = browsing.signed_in_page(member)
    page.goto(f"/dashboard/projects/{project.pk}/images/{image.pk}/")

    page.get_by_role("link", name="Delete image golden").click()
    dialog = page.get_by_role("dialog", name="Delete image golden?")
    expect(dialog).to_contain_text("It can be restored until it is purged")
    dialog.get_by_role("button", name="Delete golden").click()
    page.wait_for_load_state()
    expect(page.locator(".messages")).to_contain_text("Image golden deleted; it can be restored until")
    assert Image.objects.get(pk=image.pk).status == Image.PENDING_DELETE

    page.get_by_role("link", name="Images", exact=True).first.click()
    deleted = page.locator("section", has=page.get_by_role("heading", name="Deleted, not yet purged"))
    expect(deleted.locator('[data-image="golden"]')).to_be_visible()
    browser.screenshot(page, "images-restorable")
    deleted.get_by_role("button", name="Restore golden").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/dashboard/projects/{project.pk}/images/")
    expect(page.locator(".messages")).to_contain_text("Image golden restored.")
    expect(page.get_by_role("heading", name="Deleted, not yet purged")).to_have_count(0)
    assert Image.objects.get(pk=image.pk).status == Image.ACTIVE


def test_a_failed_import_shows_on_the_image_page_without_a_reload(
    browsing, member, project, files, allowed_mirror, job_worker
):
    disk = crafted.qcow2(files, size="64M")
    page = browsing.signed_in_page(member)
    page.goto(f"/dashboard/projects/{project.pk}/images/")
    page.locator("#id_import-name").fill("mislabelled")
    page.locator("#id_import-disk_format").select_option("raw")
    page.locator("#id_import-url").fill(f"{allowed_mirror.base_url}/files/{disk.name}?delay=0.5&chunk=32768")
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/images/*/")

    status = page.locator("#image-facts [data-image-status]")
    expect(status).not_to_have_attribute("data-image-status", "killed")
    page.evaluate("() => { window.stillTheSamePage = true; }")
    expect(page.locator(".job")).to_have_attribute("data-job-state", "failed", timeout=30_000)
    expect(status).to_have_attribute("data-image-status", "killed")
    expect(page.locator("#image-facts")).to_contain_text("does not match the declared disk format raw")
    assert page.evaluate("() => window.stillTheSamePage === true")
    assert Image.objects.get(name="mislabelled").status == Image.KILLED
