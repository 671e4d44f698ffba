"""A generated private key in Chromium: offered once as <name>.pem in the create's answer, never again."""

import subprocess

import pytest
from playwright.sync_api import expect

from apps.compute.models import Keypair
from apps.portal.tests import browser

pytestmark = pytest.mark.browser


def public_key_of(private_key_path):
    found = subprocess.run(
        ["ssh-keygen", "-y", "-f", str(private_key_path)], capture_output=True, text=True, check=True
    )
    return found.stdout.split()[:2]


def test_a_generated_key_downloads_once_as_a_pem_file_and_a_reload_shows_it_no_more(
    browsing, member, project, tmp_path
):
    page = browsing.signed_in_page(member)
    keypairs = f"/dashboard/projects/{project.pk}/keypairs/"
    page.goto(keypairs)
    page.get_by_label("Name").fill("laptop")
    answer = []
    page.on("response", lambda r: answer.append(r) if r.request.method == "POST" else None)
    page.get_by_role("button", name="Add keypair").click()
    page.wait_for_load_state()

    assert answer[0].headers["cache-control"] == "no-store"
    # The address bar shows the list, so a reload asks for it and sends nothing again.
    assert page.url.endswith(keypairs)
    expect(page.get_by_role("alert")).to_contain_text("This is the only time it is offered")
    browser.screenshot(page, "keypair-created")
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download laptop.pem").click()
    download = downloading.value
    assert download.suggested_filename == "laptop.pem"
    saved = tmp_path / "laptop.pem"
    download.save_as(saved)
    saved.chmod(0o600)
    assert saved.read_text().startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    keypair = Keypair.objects.get(project=project, name="laptop")
    assert public_key_of(saved) == keypair.public_key.split()[:2]
    assert "PRIVATE KEY" not in str(Keypair.objects.filter(pk=keypair.pk).values().get())

    page.reload()
    expect(page.get_by_role("heading", name="SSH keypairs")).to_be_visible()
    assert page.get_by_role("link", name="Download laptop.pem").count() == 0
    assert "PRIVATE KEY" not in page.content()
    assert Keypair.objects.filter(project=project).count() == 1
