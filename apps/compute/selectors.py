"""Read queries of the compute app, always scoped to what the principal may see."""

from django.db.models import Q

from apps.core.scoping import visible
from apps.core.tree import PLATFORM, ancestor_paths
from apps.identity.models import Project

from .models import AffinityGroup, Instance, Keypair, ServiceOffering

OFFERING_READ = "compute.offering.read"
OFFERING_MANAGE = "compute.offering.update"


def available_in(domain_path):
    """Offerings a project of this domain may launch: public, or given to the domain or one above it."""
    return Q(enabled=True) & (Q(public=True) | Q(domains__path__in=ancestor_paths(domain_path)))


def offerings_for(principal):
    """Cloud admins see every offering; others those available where they act (and below, for admins)."""
    queryset = ServiceOffering.objects.prefetch_related("domains")
    if principal.can(OFFERING_MANAGE, PLATFORM):
        return queryset
    grants = principal.grants_for(OFFERING_READ)
    if principal.scope_project is not None:
        grants = [g for g in grants if g.covers(principal.scope_project.target())]
    elif principal.scope_domain is not None:
        grants = [g for g in grants if g.covers(principal.scope_domain.target())]
    if not grants:
        return queryset.none()
    domain_paths = {g.domain_path for g in grants if g.project_id is None}
    project_ids = [g.project_id for g in grants if g.project_id is not None]
    acting_in = domain_paths | set(
        Project.objects.filter(id__in=project_ids).values_list("domain__path", flat=True)
    )
    condition = Q(public=True)
    for path in acting_in:
        condition |= Q(domains__path__in=ancestor_paths(path))
    for path in domain_paths:
        condition |= Q(domains__path__startswith=path)
    matching = ServiceOffering.objects.filter(condition).values("id")
    return queryset.filter(enabled=True, id__in=matching)


def _of_visible_projects(queryset, principal, action):
    """Rows of a project-owned model, where the principal may perform `action`."""
    return visible(queryset, principal, action, domain_path="project__domain__path")


def keypairs_for(principal):
    return _of_visible_projects(
        Keypair.objects.select_related("project__domain"), principal, "compute.keypair.read"
    )


def affinity_groups_for(principal):
    return _of_visible_projects(
        AffinityGroup.objects.select_related("project__domain"), principal, "compute.affinity_group.read"
    )


def instances_for(principal):
    return _of_visible_projects(
        Instance.objects.select_related("project__domain", "offering", "host", "zone"),
        principal,
        "compute.instance.read",
    )
