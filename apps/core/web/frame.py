"""The page frame of the admin portal and the dashboard: who acts, and what base.html shows around a page.

What the frame shows of the person's projects (the current one, the switcher),
and which project a dashboard page is about, is identity's to say: it registers
both from its AppConfig.ready() with `describe_projects_with`.
"""

from apps.core.actor import Actor
from apps.core.policy import Principal

from . import extensions

_projects = {}


def describe_projects_with(*, frame, dashboard_project):
    """`frame(request, principal, project)` -> {"current_project", "switchable_projects"};
    `dashboard_project(request, project_id)` -> (project, principal scoped to it), or NotFound."""
    _projects.update(frame=frame, dashboard_project=dashboard_project)


def dashboard_project(request, project_id):
    """(project, principal scoped to it) of a dashboard page: 404 unless the person may see the project,
    which becomes their current one. Reads on the page use the scoped principal."""
    return _projects["dashboard_project"](request, project_id)


def actor_for(request):
    return Actor(Principal(request.user), getattr(request, "client_address", ""), "portal")


def administers_anything(principal):
    """Cloud and domain admins: anyone who may see the users of some domain."""
    return any(grant.project_id is None for grant in principal.grants_for("identity.user.read"))


def frame(request, area, project=None):
    """What base.html needs around a page: navigation, the project switcher, the admin link."""
    principal = request.actor.principal
    return {
        "area": area,
        "nav": extensions.nav_entries(area, principal, project) if area else [],
        "dashboard_project": project,
        **_projects["frame"](request, principal, project),
        "is_admin": administers_anything(principal),
    }
