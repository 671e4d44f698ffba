"""Reads identity's pages need beyond its selectors, built on them so they stay scoped."""

from .. import selectors as identity
from ..models import RoleAssignment


def projects_with_a_role(principal):
    """Enabled projects on which the user holds a role themself: the dashboard's project switcher."""
    held = RoleAssignment.objects.filter(user_id=principal.user.pk, project__isnull=False)
    return identity.projects_for(principal).filter(id__in=held.values("project_id"), enabled=True)


def domain_labels(domains):
    """{domain id: "acme / eng"}: each domain named by its path, from the topmost domain in `domains`."""
    by_id = {d.pk: d for d in domains}
    labels = {}
    for domain in sorted(domains, key=lambda d: d.depth):
        parent = by_id.get(domain.parent_id)
        labels[domain.pk] = f"{labels[parent.pk]} / {domain.name}" if parent else domain.name
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
