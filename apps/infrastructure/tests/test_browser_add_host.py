"""Adding a host from the admin portal in Chromium, enrolled by a real agent with the commands the page shows.

A cloud administrator creates a zone, adds a host to it, copies the commands
from the page and runs them as they are (only where the agent keeps its files
and which libvirt it drives are this machine's): `python -m agent enroll`,
then `python -m agent run` against the test's Redis. The page follows the host
as it enrolls and heartbeats, without a reload. The admin then warms the host's
image cache from the image's page, and the real agent fetches the image.
"""

import os
import shlex
import signal
import subprocess
from pathlib import Path

import pytest
import redis
from django.conf import settings
from playwright.sync_api import expect

from agent import protocol
from agent.tests.builders import qcow2_bytes
from apps.audit.models import AuditEvent
from apps.core.tests.controllers import wait_until
from apps.identity.tests.factories import ProjectFactory
from apps.images.tests.factories import active_image
from apps.infrastructure.models import EnrollmentToken, Host
from apps.jobs.models import Job
from apps.portal.tests import browser

pytestmark = [pytest.mark.browser, pytest.mark.processes]

REPOSITORY = Path(__file__).resolve().parents[3]
WAIT_SECONDS = 90
HOST_NAME = "kvm-portal-07"


class PastedAgent:
    """The agent commands copied from the page, run in a shell on "the host" (this machine).

    Only the host's own settings are added: its data directory, the libvirt test driver and
    a one-second heartbeat (the page cannot know them; docs/agent.md lists them).
    """

    def __init__(self, tmp_path):
        self.environment = {
            **os.environ,
            "CLOUDMGR_AGENT_DATA_DIR": str(tmp_path / "agent"),
            "CLOUDMGR_AGENT_LIBVIRT_URI": "test:///default",
            "CLOUDMGR_AGENT_HEARTBEAT_SECONDS": "1",
        }
        self.log_path = tmp_path / "agent.log"
        self.process = None

    def enroll(self, command):
        finished = subprocess.run(
            ["bash", "-c", command],
            cwd=REPOSITORY,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert finished.returncode == 0, finished.stderr
        return finished.stdout

    def run(self, command):
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                ["bash", "-c", command],
                cwd=REPOSITORY,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGQUIT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        queue = protocol.queue_for_host(HOST_NAME)
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue, f"_kombu.binding.{queue}")


@pytest.fixture
def pasted_agent(tmp_path):
    agent = PastedAgent(tmp_path)
    yield agent
    agent.stop()
    if agent.log_path.exists():
        print(f"--- agent log ---\n{agent.log_path.read_text(errors='replace')}")


def test_a_host_added_from_the_portal_enrolls_a_real_agent_with_the_pasted_commands_and_warms_its_cache(
    browsing, cloud_admin, signing_key, pasted_agent, tmp_path
):
    image = active_image(
        ProjectFactory(), name="cirros-like", disk_format="qcow2", content=qcow2_bytes(tmp_path)
    )
    page = browsing.signed_in_page(cloud_admin)

    page.goto("/admin-portal/zones/")
    page.get_by_label("Name").fill("zone-west")
    page.get_by_role("button", name="Create zone").click()
    assert page.get_by_role("heading", name="Zone zone-west").is_visible()
    page.get_by_role("link", name="Add a host to zone-west").click()

    page.get_by_label("Host name").fill(HOST_NAME)
    assert page.get_by_label("Zone").input_value() != ""
    page.get_by_role("button", name="Add host").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name=f"Host {HOST_NAME} added: enroll its agent").is_visible()
    browser.screenshot(page, "host-enroll")
    token = page.locator("#enrollment-token").inner_text().strip()
    commands = page.locator('code[data-step="1"]').inner_text().splitlines()
    assert commands[0].endswith(f"--token {token}")
    host = Host.objects.get(name=HOST_NAME)
    assert host.state == Host.ENROLLING
    # The token is not kept in clear, nor written to the audit log.
    assert not EnrollmentToken.objects.filter(token_hash=token).exists()
    assert not [e for e in AuditEvent.objects.all() if token in str(e.details) + e.error_message]
    # Reloading shows the host's page: the address was replaced, the token is not shown again.
    assert page.url.endswith(f"/admin-portal/hosts/{host.pk}/")

    status = page.locator("#enrollment-status")
    assert status.get_attribute("data-host-state") == "enrolling"
    assert page.locator(".enrollment-live").get_attribute("aria-live") == "polite"
    enrolled = pasted_agent.enroll(commands[0])
    assert f"enrolled as host {HOST_NAME}" in enrolled
    pasted_agent.run(commands[1])
    page.wait_for_selector('#enrollment-status[data-host-state="up"]', timeout=WAIT_SECONDS * 1000)
    assert page.locator("#enrollment-status").get_by_text(f"{HOST_NAME} is up").is_visible()
    browser.screenshot(page, "host-enrolled")

    page.reload()
    assert page.locator("#enrollment-token").count() == 0
    assert page.get_by_role("heading", name=f"Host {HOST_NAME}").is_visible()

    page.goto(f"/admin-portal/images/{image.pk}/")
    page.get_by_label(HOST_NAME).check()
    page.get_by_role("button", name="Fetch into their caches").click()
    page.wait_for_selector('.prefetch-jobs [data-job-state="succeeded"]', timeout=WAIT_SECONDS * 1000)
    job = Job.objects.get(kind="compute.prefetch_image", object_id=str(image.pk))
    assert (job.state, job.queue) == (Job.SUCCEEDED, protocol.queue_for_host(HOST_NAME))
    wait_until(
        lambda: any(c["image_id"] == str(image.pk) for c in Host.objects.get(pk=host.pk).cached_images),
        WAIT_SECONDS,
        "the host to report the image in its cache",
    )
    browser.screenshot(page, "image-prefetch")


def test_the_commands_never_carry_the_controllers_broker_password(browsing, cloud_admin, settings):
    from apps.infrastructure.tests.factories import ZoneFactory

    ZoneFactory(name="zone-a")
    settings.CELERY_BROKER_URL = "amqp://cloudmgr:s3cret-broker-pass@10.0.1.5:5672/cloudmgr"
    page = browsing.signed_in_page(cloud_admin)
    page.goto("/admin-portal/hosts/new/")
    page.get_by_label("Host name").fill("kvm-08.example.org")
    page.get_by_label("Zone").select_option(label="zone-a")
    page.get_by_role("button", name="Add host").click()
    page.wait_for_load_state()

    text = page.locator("main").inner_text()
    assert "s3cret-broker-pass" not in text
    assert "postgres" not in text
    broker = page.locator('code[data-step="1"]').inner_text()
    assert broker.splitlines() == [
        "rabbitmqctl add_user host-kvm-08.example.org '<password of host-kvm-08.example.org>'",
        "rabbitmqctl set_permissions -p cloudmgr host-kvm-08.example.org "
        + " ".join([shlex.quote(r"^host\.kvm-08\.example\.org$")] * 3),
    ]
    run = page.locator('code[data-step="2"]').inner_text().splitlines()[1]
    assert run.startswith(
        "CLOUDMGR_AGENT_BROKER_URL='amqp://host-kvm-08.example.org:<password of host-kvm-08.example.org>"
        "@10.0.1.5:5672/cloudmgr' "
    )


def test_a_zone_is_created_renamed_and_deleted_only_once_empty_after_confirming(browsing, cloud_admin):
    from apps.infrastructure.models import Zone
    from apps.infrastructure.tests.factories import HostFactory

    page = browsing.signed_in_page(cloud_admin)
    page.goto("/admin-portal/zones/")
    page.get_by_label("Name").fill("zone-a")
    page.get_by_label("Description").fill("Rack 1")
    page.get_by_role("button", name="Create zone").click()
    settings_form = page.locator("form", has=page.get_by_role("button", name="Save"))
    settings_form.get_by_label("Name").fill("zone-east")
    settings_form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Zone zone-east")).to_be_visible()
    zone = Zone.objects.get(name="zone-east")
    host = HostFactory(name="kvm-09", zone=zone)

    page.reload()
    page.get_by_role("link", name="Delete zone").click()
    dialog = page.get_by_role("dialog", name="Delete zone zone-east?")
    expect(dialog).to_contain_text("It still has 1 host")
    dialog.get_by_role("button", name="Delete zone zone-east").click()
    expect(page.locator(".messages .error")).to_contain_text("Zone zone-east still has hosts.")
    assert Zone.objects.filter(pk=zone.pk).exists()
    browser.screenshot(page, "admin-zone")

    host.delete()
    page.get_by_role("link", name="Delete zone").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete zone zone-east").click()
    expect(page.locator(".messages")).to_contain_text("Zone zone-east deleted.")
    assert not Zone.objects.filter(pk=zone.pk).exists()
