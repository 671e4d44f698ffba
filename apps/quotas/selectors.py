"""Quota reads scoped to the principal: domain rows by subtree, project rows by project."""

from django.db.models import Case, F, OuterRef, Subquery, Sum, When
from django.db.models.functions import Coalesce

from apps.core.scoping import visible

from . import resources
from .models import UNLIMITED, DefaultQuota, QuotaClaim, QuotaUsage
from .services import default_limits


def current_usage():
    """A usage row's usage: what it counts when it has a limit, else the sum of the claims under it
    (apps/quotas/services.py says why a row without a limit counts nothing)."""
    claims = QuotaClaim.objects.filter(resource=OuterRef("resource")).values("resource")
    project = claims.filter(project_id=OuterRef("project_id")).annotate(n=Sum("amount")).values("n")
    subtree = claims.filter(project__domain__path__startswith=OuterRef("domain__path"))
    domain = subtree.annotate(n=Sum("amount")).values("n")
    return Case(
        When(limit=UNLIMITED, project__isnull=False, then=Coalesce(Subquery(project), 0)),
        When(limit=UNLIMITED, then=Coalesce(Subquery(domain), 0)),
        default=F("used"),
    )


def quotas_for(principal):
    """Usage rows the principal may read, each with its current `usage`."""
    queryset = (
        QuotaUsage.objects.select_related("domain", "project__domain")
        .filter(resource__in=list(resources.resource_types()))
        .annotate(usage=current_usage())
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
    return [
        DefaultQuota(resource=name, limit=limit)
        for name, limit in default_limits(resources.resource_types()).items()
    ]
