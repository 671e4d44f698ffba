"""The compute and hosts pages in Chromium at a laptop's and a phone's width: nothing wider than the window.

Screenshots go to test-artifacts/screenshots/ next to the portal's.
"""

import pytest

from apps.compute import states
from apps.compute.services.keypairs import create_keypair
from apps.core import policy
from apps.core.actor import Actor
from apps.identity.tests.factories import grant
from apps.infrastructure import capacity
from apps.infrastructure.models import Host
from apps.infrastructure.tests.factories import HostFactory
from apps.jobs import services as jobs
from apps.portal.tests import browser

from .factories import InstanceFactory

pytestmark = pytest.mark.browser
SYSTEM = Actor.system("test")


def populate(project, zone):
    busy_host = HostFactory(name="kvm-01.example.test", zone=zone)
    HostFactory(name="kvm-02.example.test", zone=zone, state=Host.DOWN)
    HostFactory(name="kvm-03.example.test", zone=zone, maintenance=True)
    active = InstanceFactory(project=project, name="web-frontend-with-a-long-name", host=busy_host)
    InstanceFactory(project=project, name="worker", host=busy_host, vm_state=states.STOPPED)
    InstanceFactory(
        project=project, name="db", host=busy_host, vm_state=states.ERROR, fault_message="No disk"
    )
    assert capacity.claim(busy_host.pk, active.pk, capacity.Amounts(vcpus=96, ram_mb=20000, disk_gb=40))
    create_keypair(SYSTEM, project, name="laptop")
    job = jobs.create_job(
        "compute.instance.reboot", target=project.target(), obj=active, queue=busy_host.queue
    )
    jobs.take_next("screenshot-worker", queue=busy_host.queue)
    jobs.report_progress(job.pk, 40, "rebooting")
    return active


@pytest.mark.parametrize("viewport", [browser.LAPTOP, browser.PHONE], ids=["laptop", "phone"])
def test_the_compute_pages_fit_laptops_and_phones(
    browsing,
    cloud_admin,
    project,
    zone,
    offering,
    image,
    viewport,
):
    grant(cloud_admin, policy.PROJECT_MEMBER, project)
    active = populate(project, zone)
    base = f"/dashboard/projects/{project.pk}"
    page = browsing.new_page(viewport)
    browser.sign_in(page, cloud_admin.username)
    for name, url in {
        "instances": f"{base}/instances/",
        "launch": f"{base}/instances/launch/",
        "instance": f"{base}/instances/{active.pk}/",
        "console": f"{base}/instances/{active.pk}/console/",
        "keypairs": f"{base}/keypairs/",
        "admin-hosts": "/admin-portal/hosts/",
        "admin-instances": "/admin-portal/instances/",
    }.items():
        assert page.goto(url).status == 200, url
        sticking_out = browser.overflowing(page)
        assert not sticking_out, f"{name}: wider than {viewport['width']}px: {sticking_out}"
        browser.screenshot(page, f"compute-{name}")
