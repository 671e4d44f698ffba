"""The person's projects in the page frame: the current project, the switcher, and dashboard pages' scope.

`projects_frame` and `signed_out_if_domain_disabled` are registered with the page
frame (apps.core.web) in IdentityConfig.ready().
"""

from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect

from apps.core.policy import Principal

from .. import selectors
from ..domain_chain import chain_disabled
from .selectors import project_labels, projects_with_a_role, switchable_projects

SESSION_PROJECT = "portal.current_project"


def current_project(request, principal):
    """The project the session points at, if the user may still see it; else their first project."""
    project_id = request.session.get(SESSION_PROJECT)
    if project_id:
        project = selectors.projects_for(principal).filter(pk=project_id, enabled=True).first()
        if project is not None:
            return project
    return projects_with_a_role(principal).first()


def make_current(request, project):
    request.session[SESSION_PROJECT] = str(project.pk)


def projects_frame(request, principal, project):
    """The frame's project switcher: the current project and the others the person may open, each
    named by its domain's path; `more_projects` when the switcher cannot list them all."""
    current = project if project is not None else current_project(request, principal)
    switchable, more = switchable_projects(principal)
    if current is not None and current not in switchable:
        switchable.insert(0, current)
    labels = project_labels(principal, switchable)
    return {
        "current_project": current,
        "switchable_projects": [(p, labels[p.pk]) for p in switchable],
        "more_projects": more,
    }


def signed_out_if_domain_disabled(request):
    """A person whose domain (or one above it) was disabled is signed out at their next page."""
    if not chain_disabled(request.user.domain):
        return None
    logout(request)
    messages.error(request, "Your domain is disabled; you have been signed out.")
    return redirect("portal:login")


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
