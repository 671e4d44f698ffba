"""Reads identity's pages need beyond its selectors, built on them so they stay scoped."""

from apps.core.tree import ancestor_ids

from .. import selectors as identity
from ..models import RoleAssignment

SWITCHER_MAX = 50


def projects_with_a_role(principal):
    """Enabled projects on which the user holds a role themself: where the dashboard opens first."""
    held = RoleAssignment.objects.filter(user_id=principal.user.pk, project__isnull=False)
    return identity.projects_for(principal).filter(id__in=held.values("project_id"), enabled=True)


def switchable_projects(principal):
    """The project switcher's projects: every enabled project the person may open, by domain and
    name, at most SWITCHER_MAX (admins reach the others from the projects list); and whether
    there are more."""
    projects = list(
        identity.projects_for(principal)
        .filter(enabled=True)
        .order_by("domain__path", "name", "id")[: SWITCHER_MAX + 1]
    )
    return projects[:SWITCHER_MAX], len(projects) > SWITCHER_MAX


def path_labels(principal, domains):
    """{domain id: "acme / eng"} for `domains` (rows with `pk` and `path`): each named by its path,
    from the topmost domain the principal may see below ROOT, which every path starts with ("" when
    it may see none of them). One query, however many domains."""
    above = {domain_id for domain in domains for domain_id in _named_ids(domain.path)}
    names = dict(identity.domains_for(principal).filter(pk__in=above).values_list("pk", "name"))
    return {
        domain.pk: " / ".join(names[i] for i in _named_ids(domain.path) if i in names) for domain in domains
    }


def _named_ids(path):
    """The ids of the domains a path label names: all but ROOT, unless the domain is ROOT."""
    ids = ancestor_ids(path)
    return ids[1:] or ids


def project_labels(principal, projects):
    """{project id: "acme / eng / web"}: each project named by its domain's path (the part the
    principal may see: a project member sees just the project's name) and its own name."""
    domains = {project.domain_id: project.domain for project in projects}
    labels = path_labels(principal, list(domains.values()))
    return {
        project.pk: " / ".join(part for part in (labels[project.domain_id], project.name) if part)
        for project in projects
    }


def domain_labels(domains):
    """{domain id: "acme / eng"}: each domain named by its path, from the topmost domain in `domains`
    below ROOT, which every path starts with (as path_labels names them)."""
    by_id = {d.pk: d for d in domains}
    labels = {}
    for domain in sorted(domains, key=lambda d: d.depth):
        parent = by_id.get(domain.parent_id)
        named = parent is not None and not parent.is_root
        labels[domain.pk] = f"{labels[parent.pk]} / {domain.name}" if named else domain.name
    return labels


def domain_tree(domains):
    """[(domain, [subtree…])…] of the given domains; domains whose parent is absent become roots."""
    children = {}
    present = {d.pk for d in domains}
    roots = []
    for domain in sorted(domains, key=lambda d: d.path):
        if domain.parent_id in present:
            children.setdefault(domain.parent_id, []).append(domain)
        else:
            roots.append(domain)

    def build(domain):
        return {"domain": domain, "children": [build(child) for child in children.get(domain.pk, [])]}

    return [build(root) for root in roots]
