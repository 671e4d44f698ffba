"""The job-progress component, watched in the browser while a real job row moves through its states."""

import re

import pytest
from playwright.sync_api import expect

from apps.jobs import services as jobs

from .conftest import make_tenant

pytestmark = pytest.mark.browser
# A kind no app handles: the test itself moves the job, as a worker would.
KIND = "test.watched_by_the_browser"


def progress_polls(page):
    polls = []
    page.on("request", lambda request: polls.append(request.url) if "/progress/" in request.url else None)
    return polls


def test_the_component_follows_a_job_to_success_and_then_stops_polling(browsing, tenant):
    job = jobs.create_job(KIND, target=tenant.project.target(), obj=tenant.project)
    page = browsing.signed_in_page(tenant.member)
    polls = progress_polls(page)
    page.goto(f"/jobs/{job.pk}/")
    component = page.locator(f"#job-{job.pk}")
    expect(component).to_have_attribute("data-job-state", "pending")

    assert jobs.take_next("portal-test-worker").pk == job.pk
    expect(component).to_have_attribute("data-job-state", "running")
    jobs.report_progress(job.pk, 40, "Copying the image")
    expect(component.locator(".job-percent")).to_have_text("40%")
    expect(component.locator(".job-message")).to_have_text("Copying the image")
    expect(component.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "40")

    jobs.succeed(job.pk, {"size_bytes": 1})
    expect(component).to_have_attribute("data-job-state", "succeeded")
    expect(component.locator(".job-percent")).to_have_text("100%")
    assert component.get_attribute("hx-trigger") is None
    seen = len(polls)
    assert seen >= 3
    # Three polling periods: a component that still polled would have asked again.
    page.wait_for_timeout(3000)
    assert len(polls) == seen


def test_a_component_whose_session_ended_sends_the_page_to_sign_in(browsing, tenant):
    job = jobs.create_job(KIND, target=tenant.project.target(), obj=tenant.project)
    page = browsing.signed_in_page(tenant.member)
    page.goto(f"/jobs/{job.pk}/")
    expect(page.locator(f"#job-{job.pk}")).to_have_attribute("data-job-state", "pending")
    page.context.clear_cookies()
    expect(page).to_have_url(re.compile("/login/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_the_component_shows_why_a_job_failed(browsing, tenant):
    job = jobs.create_job(KIND, target=tenant.project.target(), obj=tenant.project)
    page = browsing.signed_in_page(tenant.member)
    page.goto(f"/jobs/{job.pk}/")
    component = page.locator(f"#job-{job.pk}")
    expect(component).to_have_attribute("data-job-state", "pending")
    jobs.fail(job.pk, "download_failed", "The image server answered 404.")
    expect(component).to_have_attribute("data-job-state", "failed")
    expect(component.locator(".job-error")).to_have_text("The image server answered 404. (download_failed)")


def test_another_tenants_job_is_a_404(browsing, tenant, root):
    other = make_tenant()
    job = jobs.create_job(KIND, target=other.project.target(), obj=other.project)
    page = browsing.signed_in_page(tenant.member)
    assert page.goto(f"/jobs/{job.pk}/").status == 404
    assert page.goto(f"/jobs/{job.pk}/progress/").status == 404
