"""Quotas keep one usage row per resource for every domain and project; identity's signals say when.

Connected in QuotasConfig.ready(); each runs in the transaction of identity's change.
"""

from .models import QuotaUsage
from .services import ensure_rows, move_project_usage


def domain_created(sender, domain, **kwargs):
    ensure_rows(domain_ids=[domain.pk])


def project_created(sender, project, **kwargs):
    ensure_rows(project_ids=[project.pk])


def domain_deleting(sender, domain, **kwargs):
    QuotaUsage.objects.filter(domain=domain).delete()


def project_deleting(sender, project, **kwargs):
    QuotaUsage.objects.filter(project=project).delete()


def project_moving(sender, project, new_domain, reader=None, **kwargs):
    """Its usage leaves the domains above it for those above `new_domain`, or the move is refused.

    `reader` is who asked: a refusal names the target domains' limits only to those who may read them.
    """
    move_project_usage(project, new_domain, reader=reader)
