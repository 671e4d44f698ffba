"""URLs of the portal: sign-in and account, /admin-portal/, /dashboard/ and job progress.

The pages of identity, quotas, audit and jobs live in those apps (apps/<app>/web/);
they keep their routes' names here, in the portal's namespace, where they have
always been. Every page about one object carries the object's id, so a person
asking for something they may not see gets a 404 from the scoped selector.
"""

from django.urls import path

from apps.audit.web import views as audit
from apps.identity.web import domains as admin_domains
from apps.identity.web import members
from apps.identity.web import projects as admin_projects
from apps.identity.web import roles as admin_roles
from apps.identity.web import users as admin_users
from apps.jobs.web import views as jobs
from apps.quotas.web import limits
from apps.quotas.web import views as admin_quotas

from .views import account, admin_overview, dashboard

app_name = "portal"

ADMIN = "admin-portal/"
PROJECT = "dashboard/projects/<uuid:project_id>/"

urlpatterns = [
    path("", account.home, name="home"),
    path("login/", account.login_view, name="login"),
    path("logout/", account.logout_view, name="logout"),
    path("account/", account.profile, name="profile"),
    path("jobs/<uuid:job_id>/", jobs.job_detail, name="job-detail"),
    path("jobs/<uuid:job_id>/progress/", jobs.job_progress, name="job-progress"),
    # Admin portal
    path(ADMIN, admin_overview.overview, name="admin-overview"),
    path(f"{ADMIN}domains/", admin_domains.domain_list, name="domain-list"),
    path(f"{ADMIN}domains/new/", admin_domains.domain_create, name="domain-create"),
    path(f"{ADMIN}domains/<uuid:domain_id>/", admin_domains.domain_detail, name="domain-detail"),
    path(f"{ADMIN}domains/<uuid:domain_id>/edit/", admin_domains.domain_update, name="domain-update"),
    path(f"{ADMIN}domains/<uuid:domain_id>/limits/", limits.domain_limits, name="domain-limits"),
    path(f"{ADMIN}domains/<uuid:domain_id>/delete/", admin_domains.domain_delete, name="domain-delete"),
    path(f"{ADMIN}projects/", admin_projects.project_list, name="project-list"),
    path(f"{ADMIN}projects/new/", admin_projects.project_create, name="project-create"),
    path(f"{ADMIN}projects/<uuid:project_id>/", admin_projects.project_detail, name="project-detail"),
    path(f"{ADMIN}projects/<uuid:project_id>/edit/", admin_projects.project_update, name="project-update"),
    path(f"{ADMIN}projects/<uuid:project_id>/limits/", limits.project_limits, name="project-limits"),
    path(f"{ADMIN}projects/<uuid:project_id>/delete/", admin_projects.project_delete, name="project-delete"),
    path(f"{ADMIN}users/", admin_users.user_list, name="user-list"),
    path(f"{ADMIN}users/new/", admin_users.user_create, name="user-create"),
    path(f"{ADMIN}users/<uuid:user_id>/", admin_users.user_detail, name="user-detail"),
    path(f"{ADMIN}users/<uuid:user_id>/edit/", admin_users.user_update, name="user-update"),
    path(f"{ADMIN}users/<uuid:user_id>/password/", admin_users.user_password, name="user-password"),
    path(f"{ADMIN}users/<uuid:user_id>/roles/", admin_users.user_assign, name="user-assign"),
    path(f"{ADMIN}users/<uuid:user_id>/delete/", admin_users.user_delete, name="user-delete"),
    path(
        f"{ADMIN}role-assignments/<int:assignment_id>/delete/",
        admin_users.assignment_delete,
        name="assignment-delete",
    ),
    path(f"{ADMIN}roles/", admin_roles.role_list, name="role-list"),
    path(f"{ADMIN}roles/new/", admin_roles.role_create, name="role-create"),
    path(f"{ADMIN}roles/preview/", admin_roles.pattern_preview, name="pattern-preview"),
    path(f"{ADMIN}roles/<int:role_id>/rules/", admin_roles.rule_create, name="rule-create"),
    path(f"{ADMIN}roles/<int:role_id>/delete/", admin_roles.role_delete, name="role-delete"),
    path(f"{ADMIN}rules/<int:rule_id>/delete/", admin_roles.rule_delete, name="rule-delete"),
    path(f"{ADMIN}quotas/", admin_quotas.quotas, name="admin-quotas"),
    path(f"{ADMIN}quotas/defaults/", admin_quotas.quota_defaults, name="admin-quota-defaults"),
    path(f"{ADMIN}audit/", audit.admin_log, name="admin-audit"),
    path(f"{ADMIN}audit/<int:event_id>/", audit.admin_event, name="admin-audit-event"),
    # Tenant dashboard
    path("dashboard/", account.dashboard, name="dashboard"),
    path("dashboard/switch/", account.switch_project, name="switch-project"),
    path(PROJECT, dashboard.overview, name="project-overview"),
    path(f"{PROJECT}members/", members.members, name="project-members"),
    path(f"{PROJECT}members/new/", members.member_add, name="project-member-add"),
    path(f"{PROJECT}activity/", audit.project_log, name="project-audit"),
]
