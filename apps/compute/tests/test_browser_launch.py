"""A tenant launches an instance from the dashboard in Chromium and watches the spawn reach a running guest.

Nothing is stood in for: the form posts to the live server, the spawn task
goes over Redis to a real agent process on libvirt's test:///default, the
agent reports progress and the result, and the page's polling shows it.
"""

import os
import subprocess
import time

import pytest
from playwright.sync_api import expect

from apps.compute.models import Instance
from apps.images.stores.filesystem import FilesystemStore
from apps.images.tests.factories import active_image
from apps.jobs.models import Job

from .test_end_to_end import WAIT_SECONDS, start_agents  # noqa: F401  (the agent fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes, pytest.mark.browser]
IMAGE_MIB = 24
# A WAN link's pace for the image download: on loopback the fetch ends within one polling period,
# so the page could not show it. Only the pace of the store's reading changes (the one stand-in here).
SECONDS_PER_MIB = 0.25


@pytest.fixture
def image_with_data(project, tmp_path):
    """A real qcow2 holding IMAGE_MIB of data, which the agent fetches before building the disks."""
    raw = tmp_path / "data.raw"
    raw.write_bytes(os.urandom(IMAGE_MIB * 1024 * 1024))
    qcow2 = tmp_path / "data.qcow2"
    subprocess.run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", raw, qcow2], check=True)
    return active_image(project, name="with-data", disk_format="qcow2", content=qcow2.read_bytes())


@pytest.fixture
def paced_image_reads(monkeypatch):
    read_range = FilesystemStore.open_range

    def paced(self, location, start=0, length=None):
        for chunk in read_range(self, location, start, length):
            time.sleep(SECONDS_PER_MIB * len(chunk) / (1024 * 1024))
            yield chunk

    monkeypatch.setattr(FilesystemStore, "open_range", paced)


def test_a_tenant_launches_from_the_dashboard_and_watches_the_spawn_reach_active(
    start_agents,  # noqa: F811
    browsing,
    member,
    project,
    offering,
    image_with_data,
    paced_image_reads,
):
    start_agents(1, capacity_ram_mb=2048)
    page = browsing.signed_in_page(member)
    seen = []
    page.on(
        "response",
        lambda response: seen.append(response.url) if "/progress/" in response.url else None,
    )
    page.goto(f"/dashboard/projects/{project.pk}/instances/")
    page.get_by_role("link", name="Launch an instance").click()
    page.get_by_label("Name").fill("web-1")
    page.get_by_label("Image").select_option(label=image_with_data.name)
    page.get_by_label("Size (offering)").select_option(value=str(offering.pk))
    page.get_by_label("User data").fill("#!/bin/sh\necho hello\n")
    page.get_by_role("button", name="Launch").click()

    instance = Instance.objects.get(name="web-1")
    job = Job.objects.get(object_id=str(instance.pk), kind="compute.instance.spawn")
    expect(page).to_have_url(f"{browsing.base_url}/dashboard/projects/{project.pk}/instances/{instance.pk}/")
    component = page.locator(f"#job-{job.pk}")
    first_state = component.get_attribute("data-job-state")
    first_percent = int(component.get_by_role("progressbar").get_attribute("aria-valuenow"))
    assert first_state in ("pending", "running"), first_state
    assert first_percent < 100

    percents = [first_percent]
    state = page.locator("#instance-state")
    timeout = WAIT_SECONDS * 1000
    deadline = time.monotonic() + WAIT_SECONDS
    while component.get_attribute("data-job-state") not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, f"the spawn job did not finish; progress seen: {percents}"
        percents.append(int(component.get_by_role("progressbar").get_attribute("aria-valuenow")))
        page.wait_for_timeout(200)
    expect(component).to_have_attribute("data-job-state", "succeeded", timeout=timeout)
    expect(component.locator(".job-percent")).to_have_text("100%")
    assert percents == sorted(percents), percents
    assert any(0 < percent < 100 for percent in percents), (
        f"the bar never moved between 0 and 100: {percents}"
    )
    assert seen, "the component never asked for its progress"
    # The state section polls itself too: the page settles on a running instance without a reload.
    expect(state.locator("[data-vm-state]")).to_have_attribute("data-vm-state", "active", timeout=timeout)
    expect(state.locator("[data-task-state]")).to_have_count(0)
    expect(state.get_by_role("button", name="Stop")).to_be_visible()
    instance.refresh_from_db()
    assert (instance.vm_state, instance.power_state) == ("active", "running")
    assert instance.user_data.tobytes() == b"#!/bin/sh\necho hello\n"

    page.get_by_role("link", name="Instances").first.click()
    expect(page.locator("#instance-rows [data-vm-state]")).to_have_attribute("data-vm-state", "active")
