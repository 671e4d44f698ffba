"""Read queries of the billing app, always scoped to what the principal may see.

Usage and invoices sit where the usage happened (the project's domain path
then) and belong to their project: a project's members see all of its own, a
domain's admins what happened in their subtree, also for a project that has
moved away since. Rate cards are seen where they apply: the default card by
everyone, a domain's card by whoever acts in that domain's subtree.
"""

from django.db import connection
from django.db.models import Q
from django.db.models.functions import Coalesce

from apps.core.scoping import visible
from apps.core.tree import PLATFORM, ancestor_paths
from apps.identity.models import Domain, Project

from .models import Budget, Invoice, RateCard, UsageRecord


def usage_for(principal):
    return visible(
        UsageRecord.objects.select_related("subject"),
        principal,
        "billing.usage.read",
        domain_path="subject__domain_path",
        project="subject__project_id",
    )


def invoices_for(principal):
    return visible(Invoice.objects.all(), principal, "billing.invoice.read", domain_path="domain_path")


def budgets_for(principal):
    budgets = Budget.objects.select_related("project__domain", "domain").annotate(
        place=Coalesce("project__domain__path", "domain__path")
    )
    return visible(budgets, principal, "billing.budget.read", domain_path="place")


def _places(principal, action):
    """(paths of the domains the principal acts in through domain grants, paths of the domains of
    the projects it acts in), within its token's scope."""
    grants = principal.grants_for(action)
    scope_project, scope_domain = principal.scope_project, principal.scope_domain
    if scope_project is not None:
        covered = any(g.covers(scope_project.target()) for g in grants)
        return set(), {scope_project.domain.path} if covered else set()
    domain_paths = {g.domain_path for g in grants if g.project_id is None}
    projects = Project.objects.filter(pk__in=[g.project_id for g in grants if g.project_id is not None])
    if scope_domain is not None:
        inside = {p for p in domain_paths if p.startswith(scope_domain.path)}
        above = any(scope_domain.path.startswith(p) for p in domain_paths)
        domain_paths = {scope_domain.path} if above else inside
        projects = projects.filter(domain__path__startswith=scope_domain.path)
    return domain_paths, set(projects.values_list("domain__path", flat=True))


def rate_cards_for(principal):
    """Cloud admins see every card; others the default card and those of the domains above where
    they act, and a domain's admins also those of its sub-domains."""
    cards = RateCard.objects.select_related("domain")
    if principal.can("billing.rate_card.update", PLATFORM):
        return cards
    domain_paths, project_paths = _places(principal, "billing.rate_card.read")
    acting_in = domain_paths | project_paths
    if not acting_in:
        return cards.none()
    above = {path for place in acting_in for path in ancestor_paths(place)}
    condition = Q(domain__isnull=True) | Q(domain__path__in=above)
    for path in domain_paths:
        condition |= Q(domain__path__startswith=path)
    return cards.filter(condition)


def domain_totals(principal, domains, period):
    """{(domain id, currency): (finalized, draft, projects)} of the period's invoices and credit notes
    whose usage happened in each of `domains` or below; only invoices the principal may see count."""
    invoices = invoices_for(principal).filter(period_start=period.start).values("id")
    query, params = invoices.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT d.id, i.currency,
                   COALESCE(sum(i.total) FILTER (WHERE i.state = 'finalized'), 0),
                   COALESCE(sum(i.total) FILTER (WHERE i.state = 'draft'), 0),
                   count(DISTINCT i.project_id)
              FROM identity_domain d
              JOIN billing_invoice i ON i.domain_path LIKE d.path || '%%'
             WHERE d.id = ANY(%s::uuid[]) AND i.id IN ({query})
             GROUP BY d.id, i.currency
            """,  # noqa: S608 (the subquery is Django's own SQL, with its parameters)
            [[str(d.pk) for d in domains], *params],
        )
        return {(row[0], row[1]): row[2:] for row in cursor.fetchall()}


def domains_for_totals(principal):
    return visible(Domain.objects.all(), principal, "billing.invoice.read", domain_path="path", project=None)
