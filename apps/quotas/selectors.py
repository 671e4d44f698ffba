"""Quota reads scoped to the principal: domain rows by subtree, project rows by project."""

from apps.core.scoping import visible

from . import resources
from .models import DefaultQuota, QuotaUsage
from .services import default_limit


def quotas_for(principal):
    queryset = QuotaUsage.objects.select_related("domain", "project__domain").filter(
        resource__in=list(resources.resource_types())
    )
    action = "quotas.quota.read"
    on_domains = visible(queryset.filter(domain__isnull=False), principal, action, project=None)
    on_projects = visible(
        queryset.filter(project__isnull=False),
        principal,
        action,
        domain_path="project__domain__path",
    )
    return on_domains | on_projects


def default_quotas():
    """Every registered resource with its effective default, stored or from the catalogue."""
    stored = dict(DefaultQuota.objects.values_list("resource", "limit"))
    return [
        DefaultQuota(resource=name, limit=stored.get(name, default_limit(name)))
        for name in resources.resource_types()
    ]
