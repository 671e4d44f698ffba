"""Moves in the admin portal, in Chromium: migrate with a host chosen, maintenance with its progress updating
live on the host's page, a host that is down highlighted and fenced, and its instance evacuated.

The hosts are rows (no agent): what an agent would report is written to the
database by the test, and the page, polling, shows it without a reload.
"""

import pytest
from django.db import transaction

from apps.compute.models import Instance, Migration
from apps.compute.moves import outcomes
from apps.compute.moves.steps import load_migration
from apps.core.tests.controllers import wait_until
from apps.infrastructure.models import Host
from apps.jobs.models import Job
from apps.portal.tests import browser

from .factories import InstanceFactory, movable_host

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("signing_key"),
]


@pytest.fixture
def hosts(zone):
    return {
        name: movable_host(name=name, zone=zone, **extra)
        for name, extra in (("kvm-a", {}), ("kvm-b", {}), ("kvm-c", {"state": Host.DOWN}))
    }


def test_an_admin_migrates_to_a_chosen_host_and_watches_a_maintenance_drain_progress(
    browsing, cloud_admin, project, image, hosts
):
    web = InstanceFactory(project=project, name="web", host=hosts["kvm-a"], image=image)
    database = InstanceFactory(project=project, name="db", host=hosts["kvm-a"], image=image)
    page = browsing.signed_in_page(cloud_admin)
    page.goto(f"/admin-portal/hosts/{hosts['kvm-a'].pk}/")

    form = page.get_by_role("form", name="Move web")
    form.get_by_label("Host for web").select_option(label="kvm-b")
    form.get_by_role("button", name="Migrate", exact=True).click()

    page.get_by_text("Migrating web").wait_for()
    migration = Migration.objects.get(instance=web)
    assert (migration.kind, migration.destination.name) == ("cold", "kvm-b")
    assert Instance.objects.get(pk=web.pk).task_state == "migrating"

    page.get_by_role("button", name="Start maintenance").click()
    row = page.locator('[data-drain-instance="db"]')
    row.wait_for()
    drain = Migration.objects.get(instance=database)
    assert drain.reason == "maintenance"
    Job.objects.filter(pk=drain.job_id).update(state=Job.RUNNING, progress=60)
    row.locator('[aria-valuenow="60"]').wait_for()
    browser.screenshot(page, "host-maintenance")
    with transaction.atomic():
        outcomes.arrived(load_migration(drain.pk), hosts["kvm-b"], "running")
    page.locator('[data-drain-instance="db"][data-drain-status="done"]').wait_for()
    # The drain is over once web, which was moving already, has left too.
    assert page.locator('[data-drain-instance="web"]').count() == 1
    with transaction.atomic():
        outcomes.arrived(load_migration(migration.pk), hosts["kvm-b"], "running")
    wait_until(lambda: page.locator('[data-drain-running="false"]').count() == 1, 10, "the polling to stop")


def test_a_host_that_is_down_stands_out_is_fenced_and_its_instance_is_evacuated(
    browsing, cloud_admin, project, image, hosts
):
    stranded = InstanceFactory(project=project, name="stranded", host=hosts["kvm-c"], image=image)
    page = browsing.signed_in_page(cloud_admin)
    page.goto("/admin-portal/hosts/")
    down = page.locator('tr.attention[data-host="kvm-c"]')
    assert down.locator('[data-host-state="down"]').count() == 1
    assert page.locator('tr.attention[data-host="kvm-a"]').count() == 0

    page.goto(f"/admin-portal/hosts/{hosts['kvm-c'].pk}/")
    page.get_by_role("button", name="Fence").click()
    page.get_by_text("confirm that it is powered off").wait_for()
    assert Host.objects.get(pk=hosts["kvm-c"].pk).state == Host.DOWN
    page.get_by_label("This host is powered off").check()
    page.get_by_role("button", name="Fence").click()

    page.locator('[data-host-state="fenced"]').first.wait_for()
    stranded.refresh_from_db()
    assert (stranded.vm_state, stranded.fault_code) == ("error", "host_fenced")
    page.get_by_role("form", name="Move stranded").get_by_role("button", name="Evacuate").click()

    page.get_by_text("Evacuating stranded").wait_for()
    stranded.refresh_from_db()
    assert (stranded.task_state, stranded.host.name in ("kvm-a", "kvm-b")) == ("evacuating", True)
    assert page.get_by_role("button", name="Return to service").count() == 1
