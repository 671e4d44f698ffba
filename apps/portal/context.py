"""The portal's view of a request: who acts, which project is current, what the page frame shows."""

from apps.core.actor import Actor
from apps.core.policy import Principal
from apps.identity.selectors import projects_for

from . import extensions
from .selectors import administers_anything, projects_with_a_role

SESSION_PROJECT = "portal.current_project"


def actor_for(request):
    return Actor(Principal(request.user), getattr(request, "client_address", ""), "portal")


def current_project(request, principal):
    """The project the session points at, if the user may still see it; else their first project."""
    project_id = request.session.get(SESSION_PROJECT)
    if project_id:
        project = projects_for(principal).filter(pk=project_id, enabled=True).first()
        if project is not None:
            return project
    return projects_with_a_role(principal).first()


def make_current(request, project):
    request.session[SESSION_PROJECT] = str(project.pk)


def frame(request, area, project=None):
    """What base.html needs around a page: navigation, the project switcher, the admin link."""
    principal = request.actor.principal
    current = project if project is not None else current_project(request, principal)
    switchable = list(projects_with_a_role(principal))
    if current is not None and current not in switchable:
        switchable.insert(0, current)
    return {
        "area": area,
        "nav": extensions.nav_entries(area, principal, project) if area else [],
        "dashboard_project": project,
        "current_project": current,
        "switchable_projects": switchable,
        "is_admin": administers_anything(principal),
    }
