"""The image pages in a real browser: an upload with its progress bar, and a real import followed live."""

import re

import pytest
from playwright.sync_api import expect

from apps.images.models import Image

from . import crafted

pytestmark = pytest.mark.browser
MIB = 1024 * 1024
DETAIL_PAGE = re.compile(r"/images/[0-9a-f-]{36}/$")


def test_an_upload_from_the_browser_shows_its_progress_and_ends_on_the_active_image(
    browsing, member, project, files
):
    disk = crafted.random_raw(files, 24 * MIB)
    page = browsing.signed_in_page(member)
    page.goto(f"/dashboard/projects/{project.pk}/images/")
    progress = []
    page.expose_function("recordUploadProgress", lambda value: progress.append(value))
    page.evaluate(
        """() => {
          const bar = document.querySelector('#image-upload [role=progressbar]');
          new MutationObserver(() => window.recordUploadProgress(bar.getAttribute('aria-valuenow')))
            .observe(bar, {attributes: true, attributeFilter: ['aria-valuenow']});
        }"""
    )
    page.locator("#id_upload-name").fill("from-the-browser")
    page.locator("#id_upload-disk_format").select_option("raw")
    page.locator("#id_upload-file").set_input_files(str(disk))

    with page.expect_navigation(url=DETAIL_PAGE):
        page.get_by_role("button", name="Upload").click()

    expect(page.locator("[data-image-status]")).to_have_attribute("data-image-status", "active")
    assert progress[-1] == "100"
    image = Image.objects.get(name="from-the-browser")
    assert (image.status, image.size_bytes) == ("active", disk.stat().st_size)


def test_a_refused_upload_is_explained_on_the_page(browsing, member, project, files):
    disk = crafted.qcow2(files)
    page = browsing.signed_in_page(member)
    page.goto(f"/dashboard/projects/{project.pk}/images/")
    page.locator("#id_upload-name").fill("mislabelled")
    page.locator("#id_upload-disk_format").select_option("raw")
    page.locator("#id_upload-file").set_input_files(str(disk))

    page.get_by_role("button", name="Upload").click()

    expect(page.locator(".upload-error")).to_contain_text("does not match the declared disk format raw")
    assert Image.objects.get(name="mislabelled").status == Image.KILLED


def test_the_image_page_follows_a_real_import_while_the_bytes_arrive(
    browsing, member, project, files, allowed_mirror, job_worker
):
    disk = crafted.random_raw(files, 8 * MIB)
    page = browsing.signed_in_page(member)
    page.goto(f"/dashboard/projects/{project.pk}/images/")
    page.locator("#id_import-name").fill("imported-live")
    page.locator("#id_import-disk_format").select_option("raw")
    page.locator("#id_import-url").fill(f"{allowed_mirror.base_url}/files/{disk.name}?delay=0.2&chunk=262144")

    with page.expect_navigation(url=DETAIL_PAGE):
        page.get_by_role("button", name="Import").click()

    job = page.locator(".job")
    # Part-way: the worker has reported some of the bytes, not all.
    page.wait_for_function(
        """() => {
          const percent = document.querySelector('.job-percent');
          const value = percent ? parseInt(percent.textContent, 10) : 0;
          return value > 0 && value < 100;
        }"""
    )
    expect(job.locator(".job-message")).to_contain_text("of 8.0 MiB received")
    expect(job).to_have_attribute("data-job-state", "succeeded", timeout=30_000)
    page.reload()
    expect(page.locator("[data-image-status]")).to_have_attribute("data-image-status", "active")
