"""Every page renders for the people it is for; the frame shows what each person may use."""

from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.jobs.services import create_job

from .conftest import signed_in


def admin_pages(tenant):
    project, domain, user = tenant.project, tenant.domain, tenant.member
    assignment = user.assignments.first()
    event = AuditEvent.objects.create(
        actor_name="x", interface="api", action="probe", outcome="success", domain_path=domain.path
    )
    return [
        reverse("portal:admin-overview"),
        reverse("portal:domain-list"),
        reverse("portal:domain-detail", args=[domain.pk]),
        reverse("portal:project-list"),
        reverse("portal:project-detail", args=[project.pk]),
        reverse("portal:user-list"),
        reverse("portal:user-detail", args=[user.pk]),
        reverse("portal:role-list"),
        reverse("portal:admin-quotas"),
        reverse("portal:pattern-preview") + "?action=identity.*",
        reverse("portal:admin-audit") + "?outcome=success&since=2020-01-01&until=2030-01-01&page=2",
        reverse("portal:admin-audit-event", args=[event.pk]),
        reverse("portal:profile"),
    ], assignment


def dashboard_pages(project):
    job = create_job("probe", target=project.target(), obj=project)
    return [
        reverse("portal:project-overview", args=[project.pk]),
        reverse("portal:project-members", args=[project.pk]),
        reverse("portal:project-audit", args=[project.pk]),
        reverse("portal:job-detail", args=[job.pk]),
        reverse("portal:job-progress", args=[job.pk]),
    ]


def test_every_admin_and_dashboard_page_renders_for_a_cloud_admin(admin_client, tenant):
    pages, _ = admin_pages(tenant)
    for url in pages + dashboard_pages(tenant.project):
        response = admin_client.get(url)
        assert response.status_code == 200, (url, response.status_code)


def test_a_member_sees_their_project_pages_but_not_the_admin_portal(tenant):
    client = signed_in(tenant.member)
    for url in dashboard_pages(tenant.project):
        assert client.get(url).status_code == 200, url
    response = client.get(reverse("portal:admin-overview"))
    assert response.status_code == 404
    assert b"for cloud and domain administrators" in response.content


def test_the_dashboard_sends_a_member_to_their_project_and_an_admin_to_the_portal(tenant, admin_client):
    member = signed_in(tenant.member)
    assert member.get("/").url == reverse("portal:dashboard")
    assert member.get("/dashboard/").url == reverse("portal:project-overview", args=[tenant.project.pk])
    assert admin_client.get("/").url == reverse("portal:admin-overview")


def test_someone_without_a_project_is_told_so_on_the_dashboard(admin_client):
    response = admin_client.get("/dashboard/")
    assert response.status_code == 200
    assert b"You hold no role on any project yet" in response.content


def test_pages_ask_a_visitor_to_sign_in_first(client, tenant):
    response = client.get(reverse("portal:project-overview", args=[tenant.project.pk]))
    assert response.status_code == 302
    assert response.url.startswith("/login/?next=/dashboard/projects/")
