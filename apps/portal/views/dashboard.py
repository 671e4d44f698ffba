"""Tenant dashboard: a project's quota usage, its members, and the cards other apps add."""

from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import PermissionDenied
from apps.core.policy import Principal
from apps.identity import selectors
from apps.identity.services import roles

from .. import extensions
from ..context import make_current
from ..decorators import portal_view
from ..forms.identity import AddMemberForm
from ..rendering import render_page
from .flow import handled
from .quotas import usage_rows


def dashboard_project(request, project_id):
    """(project, principal scoped to it): 404 unless the person may see the project; it becomes current.

    Reads on dashboard pages use the scoped principal, so they show this project's rows only.
    """
    principal = request.actor.principal
    project = selectors.get_or_404(
        selectors.projects_for(principal).filter(enabled=True), "project", pk=project_id
    )
    make_current(request, project)
    return project, Principal(request.user, scope_project=project, grants=principal.grants)


def _page(request, project, template, context):
    return render_page(request, template, context, area="dashboard", project=project)


@require_GET
@portal_view
def overview(request, project_id):
    project, scoped = dashboard_project(request, project_id)
    rows = usage_rows(scoped, project)
    in_use = [row for row in rows if row["used"] and not row["unlimited"]]
    chart = {"labels": [row["resource"] for row in in_use], "values": [row["percent"] for row in in_use]}
    context = {
        "quota_rows": rows,
        "chart": chart,
        "cards": extensions.cards(extensions.DASHBOARD, request, project),
    }
    return _page(request, project, "portal/dashboard/overview.html", context)


@require_GET
@portal_view
def members(request, project_id):
    project, _ = dashboard_project(request, project_id)
    return _render_members(request, project)


def _may_manage(request, project):
    return request.actor.can("identity.role_assignment.create", project.admin_target())


def _render_members(request, project, form=None):
    principal = request.actor.principal
    context = {
        "assignments": selectors.assignments_for(principal).filter(project=project),
        "form": (form or AddMemberForm(principal)) if _may_manage(request, project) else None,
        "can_unassign": request.actor.can("identity.role_assignment.delete", project.admin_target()),
    }
    return _page(request, project, "portal/dashboard/members.html", context)


@require_POST
@portal_view
def member_add(request, project_id):
    project, _ = dashboard_project(request, project_id)
    if not _may_manage(request, project):
        # The form is not shown to members; say so rather than show errors of an absent form.
        raise PermissionDenied(f"You may not give roles on {project}.")
    return handled(
        request,
        AddMemberForm(request.actor.principal, request.POST),
        lambda data: roles.assign_role(request.actor, user=data["user"], role=data["role"], project=project),
        done=reverse("portal:project-members", args=[project.pk]),
        message=lambda a: f"{a.user.username} is now {a.role.name} here.",
        failed=lambda form: _render_members(request, project, form),
    )
