"""A tenant snapshots an instance from its page in Chromium and follows the link to the image it made.

The real path, as in test_browser_launch.py: the form posts to the live server,
the snapshot task goes over Redis to an agent process on libvirt's
test:///default, the agent uploads the disk and reports, and the page's
polling shows the job and then the image.
"""

import pytest
from playwright.sync_api import expect

from apps.images.models import Image
from apps.jobs.models import Job

from .test_end_to_end import (  # noqa: F401  (start_agents and qcow2_image are fixtures)
    WAIT_SECONDS,
    launch_and_wait,
    qcow2_image,
    start_agents,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes, pytest.mark.browser]


def test_a_tenant_snapshots_an_instance_and_follows_the_link_to_the_active_image(
    start_agents,  # noqa: F811
    browsing,
    member,
    api,
    project,
    offering,
    qcow2_image,  # noqa: F811
):
    (agent,) = start_agents(1)
    instance, _ = launch_and_wait(api, offering, qcow2_image)
    assert instance.vm_state == "active", agent.log()[-2000:]
    page = browsing.signed_in_page(member)
    page.goto(f"/dashboard/projects/{project.pk}/instances/{instance.pk}/")
    state = page.locator("#instance-state")
    state.get_by_label("Image name").fill("golden")
    state.get_by_role("button", name="Snapshot").click()

    expect(page.locator(".messages")).to_contain_text(
        f"Snapshot of {instance.name} into image golden started"
    )
    job = Job.objects.get(object_id=str(instance.pk), kind="compute.instance.snapshot")
    timeout = WAIT_SECONDS * 1000
    component = page.locator(f"#job-{job.pk}")
    expect(component).to_be_visible()
    expect(component).to_have_attribute("data-job-state", "succeeded", timeout=timeout)
    # The state section polls itself while the snapshot runs: the link shows up without a reload.
    link = state.get_by_role("link", name="Image golden")
    expect(link).to_be_visible(timeout=timeout)
    expect(state.get_by_role("button", name="Snapshot")).to_be_visible()
    link.click()

    job.refresh_from_db()
    image = Image.objects.get(pk=job.payload["image_id"])
    expect(page).to_have_url(f"{browsing.base_url}/dashboard/projects/{project.pk}/images/{image.pk}/")
    expect(page.get_by_role("heading", name="Image golden")).to_be_visible()
    expect(page.locator("[data-image-status]")).to_have_attribute("data-image-status", "active")
    assert (image.status, image.sha256) == ("active", job.result["sha256"])
