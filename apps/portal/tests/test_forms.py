"""Forms: every refusal is a message next to its field, never a 500; sign-in is throttled and audited."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.core import policy
from apps.identity.models import Domain, Project, Rule
from apps.identity.tests.factories import PASSWORD, UserFactory
from apps.quotas.models import QuotaUsage

from .conftest import signed_in


def field_error(response, field):
    """The error text shown under a field (the paragraph its input points at)."""
    html = response.content.decode()
    marker = f'id="id_{field}_error">'
    assert marker in html, f"no error shown next to {field}"
    return html.split(marker, 1)[1].split("</p>", 1)[0]


def test_a_wrong_password_is_shown_next_to_the_password_field(client, tenant):
    response = client.post("/login/", {"username": tenant.member.username, "password": "nope"})
    assert response.status_code == 400
    assert field_error(response, "password") == "Wrong username or password."


# Failures are written on the `audit` connection, which only a committed test can see.
@pytest.mark.django_db(transaction=True)
def test_signing_in_and_out_is_audited_with_the_portal_as_interface(client, tenant):
    client.post("/login/", {"username": tenant.member.username, "password": "nope"})
    response = client.post("/login/", {"username": tenant.member.username, "password": PASSWORD})
    assert response.status_code == 302
    client.post("/logout/")
    events = list(AuditEvent.objects.filter(interface="portal").order_by("id"))
    assert [(e.action, e.outcome) for e in events] == [
        ("portal.session.create", "failure"),
        ("portal.session.create", "success"),
        ("portal.session.delete", "success"),
    ]
    assert events[0].error_code == "invalid_credentials"
    assert events[1].actor_name == tenant.member.username


def test_too_many_failed_sign_ins_lock_the_account_for_the_window(client, tenant, settings):
    settings.CLOUDMGR_LOGIN_MAX_FAILURES_PER_ACCOUNT = 3
    for _ in range(3):
        client.post("/login/", {"username": tenant.member.username, "password": "nope"})
    response = client.post("/login/", {"username": tenant.member.username, "password": PASSWORD})
    assert response.status_code == 400
    assert "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_sign_in_goes_back_to_the_page_asked_for_but_never_off_site(client, tenant):
    wanted = reverse("portal:project-members", args=[tenant.project.pk])
    credentials = {"username": tenant.member.username, "password": PASSWORD}
    assert client.post("/login/", {**credentials, "next": wanted}).url == wanted
    other = Client()
    assert other.post("/login/", {**credentials, "next": "https://evil.example/"}).url == "/"


def test_a_disabled_domain_signs_its_users_out(tenant):
    client = signed_in(tenant.member)
    Domain.objects.filter(pk=tenant.domain.pk).update(enabled=False)
    response = client.get(reverse("portal:project-overview", args=[tenant.project.pk]))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_forms_without_a_csrf_token_are_refused(tenant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(tenant.admin)
    response = client.post("/admin-portal/projects/new/", {"domain": tenant.domain.pk, "name": "x"})
    assert response.status_code == 403
    assert b"This form has expired" in response.content
    assert not Project.objects.filter(name="x").exists()


def test_a_duplicate_name_is_shown_next_to_the_name_field(tenant):
    client = signed_in(tenant.admin)
    response = client.post(
        "/admin-portal/projects/new/", {"domain": tenant.domain.pk, "name": tenant.project.name}
    )
    assert response.status_code == 409
    assert "already exists" in field_error(response, "name")


def test_a_weak_new_password_is_shown_next_to_the_new_password_field(tenant):
    client = signed_in(tenant.member)
    response = client.post(
        "/account/", {"old_password": PASSWORD, "new_password": "abc", "confirm_password": "abc"}
    )
    assert response.status_code == 400
    assert "too short" in field_error(response, "new_password")


def test_a_wrong_current_password_is_shown_next_to_it_and_a_right_one_keeps_the_session(tenant):
    client = signed_in(tenant.member)
    new = "a-brand-new-long-password"
    wrong = client.post("/account/", {"old_password": "x", "new_password": new, "confirm_password": new})
    assert field_error(wrong, "old_password") == "The current password is wrong."
    right = client.post("/account/", {"old_password": PASSWORD, "new_password": new, "confirm_password": new})
    assert right.status_code == 302
    assert client.get("/account/").status_code == 200
    tenant.member.refresh_from_db()
    assert tenant.member.check_password(new)


def test_a_rule_matching_no_action_is_refused_next_to_the_pattern(admin_client):
    role = policy_role(policy.PROJECT_READER)
    response = admin_client.post(f"/admin-portal/roles/{role.pk}/rules/", {"action": "nothing.at.*"})
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="rule-{role.pk}-action_error">' in html
    assert "matches no action" in html
    assert not Rule.objects.filter(action="nothing.at.*").exists()


def test_the_pattern_preview_lists_the_actions_a_pattern_matches(admin_client):
    response = admin_client.get("/admin-portal/roles/preview/", {"action": "identity.project.*"})
    html = response.content.decode()
    assert "identity.project.create" in html
    assert "identity.domain.create" not in html


def test_a_limit_below_minus_one_is_refused_next_to_its_field(tenant):
    client = signed_in(tenant.admin)
    response = client.post(f"/admin-portal/projects/{tenant.project.pk}/limits/", {"instances": "-5"})
    assert response.status_code == 400
    assert "greater than or equal to -1" in field_error(response, "instances")


def test_changing_one_limit_sets_only_that_limit(tenant):
    client = signed_in(tenant.admin)
    before = dict(QuotaUsage.objects.filter(project=tenant.project).values_list("resource", "limit"))
    response = client.post(
        f"/admin-portal/projects/{tenant.project.pk}/limits/",
        {**before, "instances": before["instances"] + 1},
    )
    assert response.status_code == 302
    after = dict(QuotaUsage.objects.filter(project=tenant.project).values_list("resource", "limit"))
    assert after == {**before, "instances": before["instances"] + 1}
    assert AuditEvent.objects.filter(action="quotas.quota.update", interface="portal").count() == 1


def test_deleting_a_project_that_still_owns_resources_says_why(tenant):
    from apps.quotas import services as quotas

    quotas.claim(tenant.project, {"instances": 1}, holder=tenant.project)
    client = signed_in(tenant.admin)
    response = client.post(f"/admin-portal/projects/{tenant.project.pk}/delete/", follow=True)
    assert "still owns" in response.content.decode()
    assert Project.objects.filter(pk=tenant.project.pk).exists()


def test_a_domain_admin_adds_a_member_on_the_dashboard_and_a_member_cannot(tenant):
    newcomer = UserFactory(domain=tenant.domain)
    url = reverse("portal:project-member-add", args=[tenant.project.pk])
    data = {"user": newcomer.username, "role": policy.PROJECT_READER}
    refused = signed_in(tenant.member).post(url, data)
    assert refused.status_code == 403
    assert "You may not give roles" in refused.content.decode()
    assert not newcomer.assignments.exists()
    assert signed_in(tenant.admin).post(url, data).status_code == 302
    assert newcomer.assignments.filter(project=tenant.project).exists()


def test_a_member_does_not_get_the_add_member_form(tenant):
    response = signed_in(tenant.member).get(reverse("portal:project-members", args=[tenant.project.pk]))
    assert response.status_code == 200
    assert b"Add a member" not in response.content
    assert tenant.member.username.encode() in response.content


@pytest.mark.parametrize(
    "url",
    [
        "/admin-portal/domains/new/",
        "/admin-portal/projects/new/",
        "/admin-portal/users/new/",
        "/admin-portal/roles/new/",
        "/dashboard/switch/",
    ],
)
def test_garbage_in_a_form_is_a_form_error_never_a_500(admin_client, url):
    garbage = {
        "parent": "not-a-uuid",
        "domain": "00000000-0000-0000-0000-000000000000",
        "name": "x" * 500,
        "username": "../../etc",
        "email": "no",
        "project": "nope",
        "password": "\x00",
    }
    response = admin_client.post(url, garbage)
    assert response.status_code in (400, 404), response.status_code


def test_garbage_on_the_sign_in_form_is_a_form_error(client):
    response = client.post("/login/", {"username": "../../etc" * 100, "password": "\x00"})
    assert response.status_code == 400
    assert "Ensure this value has at most 150 characters" in field_error(response, "username")


def test_an_audit_filter_with_nonsense_dates_shows_a_field_error(admin_client):
    response = admin_client.get(
        "/admin-portal/audit/", {"since": "2030-01-02", "until": "2030-01-01", "page": "x"}
    )
    assert response.status_code == 200
    assert "before the start date" in field_error(response, "until")


def test_the_audit_log_filters_by_actor_action_outcome_and_pages(admin_client, tenant, cloud_admin):
    common = {"interface": "api", "domain_path": tenant.domain.path}
    for _ in range(55):
        AuditEvent.objects.create(actor_name="bulk", action="probe.bulk", outcome="success", **common)
    AuditEvent.objects.create(actor_name="eve", action="probe.other", outcome="failure", **common)
    first = admin_client.get("/admin-portal/audit/", {"actor": "bulk"}).content.decode()
    assert first.count("probe.bulk") == 50
    assert 'rel="next"' in first
    second = admin_client.get("/admin-portal/audit/", {"actor": "bulk", "page": 2}).content.decode()
    assert second.count("probe.bulk") == 5
    failures = admin_client.get("/admin-portal/audit/", {"outcome": "failure", "action": "probe."})
    assert "probe.other" in failures.content.decode()
    assert "probe.bulk" not in failures.content.decode()


def policy_role(name):
    from apps.identity.tests.factories import role

    return role(name)


def test_a_cloud_admin_sets_the_limits_of_new_projects(admin_client, tenant):
    from apps.quotas.selectors import default_quotas

    response = admin_client.post("/admin-portal/quotas/defaults/", {"networks": "3"})
    assert response.status_code == 302
    assert {d.resource: d.limit for d in default_quotas()}["networks"] == 3


def test_a_domain_admin_sees_the_defaults_but_cannot_set_them(tenant):
    client = signed_in(tenant.admin)
    assert b"Save defaults" not in client.get("/admin-portal/quotas/").content
    response = client.post("/admin-portal/quotas/defaults/", {"networks": "3"})
    assert response.status_code == 403
    assert "Only cloud administrators set default quotas." in response.content.decode()


def test_the_quotas_page_lists_the_fullest_projects_first(admin_client, tenant):
    from apps.identity.tests.factories import ProjectFactory
    from apps.quotas import services as quotas

    calm = ProjectFactory(domain=tenant.domain, name="calm")
    quotas.claim(calm, {"instances": 1}, holder=calm)
    quotas.claim(tenant.project, {"instances": 15}, holder=tenant.project)
    html = admin_client.get("/admin-portal/quotas/").content.decode()
    main = html[html.index("<main") :]  # the project switcher above lists every project by name
    assert main.index(tenant.project.name) < main.index("calm")
    assert "15 of 20 used (75%)" in html
