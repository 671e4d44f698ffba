"""Destructive actions in Chromium: each asks first, in a dialog naming what it destroys, apart from the
harmless actions; without JavaScript the same confirmation is a page of its own."""

import pytest
from playwright.sync_api import expect

from apps.compute import states
from apps.compute.models import Instance, Keypair
from apps.compute.services.keypairs import create_keypair
from apps.core.actor import Actor
from apps.jobs.models import Job
from apps.portal.tests import browser

from .factories import InstanceFactory

pytestmark = pytest.mark.browser
SYSTEM = Actor.system("test")


def instance_page(project, instance):
    return f"/dashboard/projects/{project.pk}/instances/{instance.pk}/"


@pytest.mark.parametrize("viewport", [browser.LAPTOP, browser.PHONE], ids=["laptop", "phone"])
def test_deleting_an_instance_asks_in_a_dialog_that_names_it_and_stands_apart_from_the_other_actions(
    browsing, member, project, viewport
):
    instance = InstanceFactory(project=project, name="web-1")
    page = browsing.signed_in_page(member, viewport=viewport)
    page.goto(instance_page(project, instance))

    actions = page.get_by_role("form", name="Actions")
    delete = page.get_by_role("link", name="Delete instance web-1")
    expect(actions.get_by_text("Delete")).to_have_count(0)
    # Apart: below the harmless buttons, past the snapshot form, by a clear margin.
    gap = delete.bounding_box()["y"] - (actions.bounding_box()["y"] + actions.bounding_box()["height"])
    assert gap > 80, gap

    delete.click()
    dialog = page.get_by_role("dialog", name="Delete instance web-1?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("10 GB root disk")
    expect(dialog).to_contain_text("cannot be recovered")
    expect(dialog.get_by_role("link", name="Cancel")).to_be_focused()
    browser.screenshot(page, "confirm-instance-delete")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(delete).to_be_focused()
    assert Instance.objects.get(pk=instance.pk).task_state is None

    delete.click()
    page.get_by_role("dialog").get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_be_hidden()
    assert not Job.objects.filter(object_id=str(instance.pk)).exists()

    delete.click()
    page.get_by_role("dialog").get_by_role("button", name="Delete web-1").click()
    page.wait_for_load_state()
    expect(page.locator(".messages")).to_contain_text("Deleting web-1")
    assert Instance.objects.get(pk=instance.pk).task_state == states.DELETING
    assert Job.objects.filter(object_id=str(instance.pk), kind="compute.instance.delete").exists()


def test_without_javascript_the_confirmation_is_a_page_of_its_own(browsing, member, project):
    keypair, _ = create_keypair(SYSTEM, project, name="laptop")
    page = browsing.signed_in_page(member, javascript=False)
    page.goto(f"/dashboard/projects/{project.pk}/keypairs/")
    page.get_by_role("link", name="Delete keypair laptop").click()
    assert page.url.endswith(f"/keypairs/{keypair.pk}/delete/")
    expect(page.get_by_role("heading", name="Delete keypair laptop?")).to_be_visible()
    expect(page.locator("#confirmation")).to_contain_text("keep the key they were given")
    page.get_by_role("button", name="Delete keypair laptop").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/dashboard/projects/{project.pk}/keypairs/")
    expect(page.locator(".messages")).to_contain_text("Keypair laptop deleted")
    assert not Keypair.objects.filter(pk=keypair.pk).exists()
