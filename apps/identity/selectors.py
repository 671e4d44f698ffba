"""Read queries of the identity app, always scoped to what the principal may see."""

from apps.core.errors import NotFound
from apps.core.scoping import get_or_404, visible

from .models import Domain, Project, Role, RoleAssignment, Rule, User


def domains_for(principal):
    return visible(Domain.objects.all(), principal, "identity.domain.read", domain_path="path", project=None)


def projects_for(principal):
    return visible(Project.objects.select_related("domain"), principal, "identity.project.read", project="id")


def visible_project(principal, project_id):
    """The project `project_id` if the principal may see it, else NotFound.

    A project-scoped principal's own project was loaded with its token: it is
    checked against the grants, not read again.
    """
    scope = principal.scope_project
    if scope is not None and str(project_id) == str(scope.pk):
        if principal.can("identity.project.read", scope.target()):
            return scope
        raise NotFound("No such project.")
    return get_or_404(projects_for(principal), "project", pk=project_id)


def users_for(principal):
    return visible(User.objects.select_related("domain"), principal, "identity.user.read", project=None)


def assignments_for(principal):
    queryset = RoleAssignment.objects.select_related("user", "role", "domain", "project__domain")
    on_domains = visible(
        queryset.filter(domain__isnull=False),
        principal,
        "identity.role_assignment.read",
        project=None,
    )
    on_projects = visible(
        queryset.filter(project__isnull=False),
        principal,
        "identity.role_assignment.read",
        domain_path="project__domain__path",
    )
    return on_domains | on_projects


def roles():
    return Role.objects.prefetch_related("rules")


def rules():
    return Rule.objects.select_related("role")
