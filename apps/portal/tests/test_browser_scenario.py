"""The issue's scenario in a real Chromium: an admin sets a tenant up, the tenant sees their usage."""

import re

import pytest
from playwright.sync_api import expect

from apps.identity.models import Project
from apps.identity.tests.factories import PASSWORD
from apps.quotas import services as quotas

from .browser import PHONE, sign_in

pytestmark = pytest.mark.browser


def create(page, list_url, fields, button):
    page.goto(list_url)
    for label, value in fields.items():
        field = page.get_by_label(label, exact=True)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)
    page.get_by_role("button", name=button).click()


def give_role(page, role, where):
    page.get_by_label("Role", exact=True).select_option(label=role)
    page.get_by_label("On", exact=True).select_option(label=where)
    page.get_by_role("button", name="Give role").click()
    expect(page.get_by_role("status")).to_contain_text(f"is now {role}")


def test_an_admin_sets_up_a_tenant_who_then_switches_project_and_sees_the_usage(browsing, cloud_admin):
    admin = browsing.signed_in_page(cloud_admin)
    expect(admin.get_by_role("heading", name="Cloud overview")).to_be_visible()

    create(admin, "/admin-portal/domains/", {"Parent domain": "ROOT", "Name": "acme"}, "Create domain")
    expect(admin.get_by_role("heading", name="Domain acme")).to_be_visible()
    for name in ("web", "data"):
        create(admin, "/admin-portal/projects/", {"Domain": "acme", "Name": name}, "Create project")
        expect(admin.get_by_role("heading", name=f"Project {name}")).to_be_visible()
    create(
        admin,
        "/admin-portal/users/",
        {"Domain": "acme", "Username": "alice", "Password (optional)": PASSWORD},
        "Create user",
    )
    expect(admin.get_by_role("heading", name="User alice")).to_be_visible()
    give_role(admin, "project_member", "acme / web")
    give_role(admin, "project_reader", "acme / data")

    web = Project.objects.get(name="web")
    admin.goto(f"/admin-portal/projects/{web.pk}/")
    admin.get_by_text("Change limits").click()
    admin.get_by_label("Virtual machines", exact=True).fill("5")
    admin.get_by_role("button", name="Save limits").click()
    expect(admin.get_by_role("status")).to_contain_text("Limits saved.")
    expect(admin.locator(".quota-bars")).to_contain_text("0 of 5 used")

    # Two instances' worth of usage, claimed the way the compute service will claim it.
    quotas.claim(web, {"instances": 2}, holder=web)

    tenant = browsing.new_page(PHONE)
    sign_in(tenant, "alice")
    expect(tenant.get_by_role("heading", name="data")).to_be_visible()
    tenant.get_by_label("Project", exact=True).select_option(label="web")
    tenant.get_by_role("button", name="Switch").click()
    expect(tenant.get_by_role("heading", name="web", exact=True)).to_be_visible()
    expect(tenant.locator(".quota-bars")).to_contain_text("2 of 5 used (40%)")
    expect(tenant.locator("figure.quota-chart svg").first).to_be_visible()
    expect(tenant).to_have_url(re.compile(f"/dashboard/projects/{web.pk}/$"))
    expect(tenant.get_by_role("link", name="Admin portal")).to_have_count(0)


def test_signing_in_and_moving_around_works_with_the_keyboard_alone(browsing, tenant):
    page = browsing.new_page()
    page.goto("/login/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(tenant.member.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=tenant.project.name, exact=True)).to_be_visible()
    members = page.get_by_role("link", name="Members")
    for _ in range(30):
        if members.evaluate("e => e === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(members).to_be_focused()
    outline = members.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline == "solid", "the focused link shows no focus ring"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"Members of {tenant.project.name}")).to_be_visible()


def test_a_form_error_is_shown_next_to_its_field_in_the_browser(browsing, cloud_admin):
    page = browsing.signed_in_page(cloud_admin)
    create(
        page,
        "/admin-portal/users/",
        {"Domain": "ROOT", "Username": "bob", "Password (optional)": "short"},
        "Create user",
    )
    password = page.get_by_label("Password (optional)", exact=True)
    expect(password).to_have_attribute("aria-invalid", "true")
    error = page.locator(f"#{password.get_attribute('id')}_error")
    expect(error).to_contain_text("too short")
    expect(password).to_have_attribute(
        "aria-describedby", re.compile(f"{password.get_attribute('id')}_error")
    )
