"""In Chromium: the admin overview's recent failures at a laptop's and a phone's width, the project switcher
of an administrator, and the identity pages' destructive actions asking first."""

import pytest
from playwright.sync_api import expect

from apps.audit.models import AuditEvent
from apps.core import policy
from apps.core.tree import ROOT_PATH
from apps.identity.models import Role, RoleAssignment, Rule
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant

from .browser import LAPTOP, PHONE, overflowing, screenshot

pytestmark = pytest.mark.browser


def failed(action, code, message, actor="alice"):
    AuditEvent.objects.create(
        actor_name=actor,
        interface="portal",
        action=action,
        outcome=AuditEvent.FAILURE,
        error_code=code,
        error_message=message,
        domain_path=ROOT_PATH,
    )


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_the_recent_failures_card_reads_in_lines_at_a_laptops_and_a_phones_width(
    browsing, cloud_admin, viewport
):
    failed("compute.instance.create", "no_valid_host", "There is no capacity for this request.")
    failed("identity.role_assignment.create", "role_scope_mismatch", "The role cloud_admin runs the cloud …")
    failed("images.image.create", "internal_error", "An internal error stopped the operation.", "bob")
    page = browsing.signed_in_page(cloud_admin, viewport=viewport)
    page.goto("/admin-portal/")

    card = page.locator(".failures-card")
    expect(card).to_contain_text("Launch an instance")
    code = card.locator("code", has_text="no_valid_host")
    line_height = code.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 20")
    # On one line: the error code was once squeezed into a 16 px column, a letter per line.
    assert code.bounding_box()["height"] < 2 * line_height
    assert card.bounding_box()["height"] < 600, card.bounding_box()
    assert not overflowing(page)
    screenshot(page, "admin-overview-failures")


def test_an_administrators_project_switcher_lists_the_projects_of_its_domains_by_path(browsing, root):
    acme = DomainFactory(name="acme")
    ProjectFactory(domain=acme, name="web")
    ProjectFactory(domain=DomainFactory(name="eng", parent=acme), name="api")
    ProjectFactory(name="not-theirs")
    admin = UserFactory(domain=acme)
    grant(admin, policy.DOMAIN_ADMIN, acme)
    page = browsing.signed_in_page(admin)
    page.goto("/admin-portal/")

    options = page.get_by_label("Project").locator("option").all_inner_texts()
    assert options == ["acme / web", "acme / eng / api"]
    page.get_by_label("Project").select_option(label="acme / eng / api")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("heading", name="api", exact=True)).to_be_visible()


def test_removing_a_rule_asks_first_saying_what_its_holders_lose(browsing, cloud_admin):
    operator = Role.objects.create(name="operator")
    Rule.objects.create(role=operator, action="@read")
    rule = Rule.objects.create(role=operator, action="infrastructure.host.*")
    for user in UserFactory.create_batch(2):
        RoleAssignment.objects.create(user=user, role=operator, domain=user.domain)
    page = browsing.signed_in_page(cloud_admin)
    page.goto("/admin-portal/roles/")

    page.get_by_role("link", name="Remove rule infrastructure.host.* from operator").click()
    dialog = page.get_by_role("dialog", name="Remove the rule 'infrastructure.host.*' from operator?")
    expect(dialog).to_contain_text("The 2 holders of operator lose infrastructure.host.create")
    screenshot(page, "confirm-rule-removal")
    dialog.get_by_role("button", name="Remove 'infrastructure.host.*'").click()
    page.wait_for_load_state()
    expect(page.locator(".messages")).to_contain_text("Rule 'infrastructure.host.*' removed from operator")
    assert not Rule.objects.filter(pk=rule.pk).exists()


def test_giving_cloud_admin_on_a_single_project_is_refused_at_the_field(browsing, cloud_admin, root):
    project = ProjectFactory(name="web")
    user = UserFactory(domain=project.domain, username="carol")
    page = browsing.signed_in_page(cloud_admin)
    page.goto(f"/admin-portal/users/{user.pk}/")

    page.get_by_label("Role", exact=True).select_option(label="cloud_admin")
    page.get_by_label("On", exact=True).select_option(value=f"project:{project.pk}")
    page.get_by_role("button", name="Give role").click()
    page.wait_for_load_state()
    expect(page.locator("#id_where_error")).to_contain_text("give it on the root domain, not on project web")
    assert not user.assignments.exists()
