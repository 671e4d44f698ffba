"""A project's members on its dashboard: who holds which role there, and giving one (for its admins)."""

from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.errors import PermissionDenied
from apps.core.web.decorators import portal_view
from apps.core.web.flow import handled
from apps.core.web.frame import dashboard_project
from apps.core.web.rendering import render_page

from .. import selectors
from ..services import roles
from .forms import AddMemberForm


def _page(request, project, template, context):
    return render_page(request, template, context, area="dashboard", project=project)


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
    return _page(request, project, "identity/dashboard/members.html", context)


@require_http_methods(["GET", "POST"])
@portal_view
def member_add(request, project_id):
    project, _ = dashboard_project(request, project_id)
    members_url = reverse("portal:project-members", args=[project.pk])
    if request.method == "GET":
        return redirect(members_url)
    if not _may_manage(request, project):
        # The form is not shown to members; say so rather than show errors of an absent form.
        raise PermissionDenied(f"You may not give roles on {project}.")
    return handled(
        request,
        AddMemberForm(request.actor.principal, request.POST),
        lambda data: roles.assign_role(request.actor, user=data["user"], role=data["role"], project=project),
        done=members_url,
        message=lambda a: f"{a.user.username} is now {a.role.name} here.",
        failed=lambda form: _render_members(request, project, form),
    )
