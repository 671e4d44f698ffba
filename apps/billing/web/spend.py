"""Spend per domain: what each domain's invoices total in a period, its whole subtree counted, one level
of the tree at a time (the top of what one administers, or `?domain=`'s sub-domains), those that spent
most first.

`spend_section(request, subject)` has the shape of a page section (the admin
portal's monitoring page takes it as its "spend" section); the admin portal's
spend page shows it on its own.
"""

from django.views.decorators.http import require_GET

from apps.core.scoping import get_or_404
from apps.core.web.decorators import portal_view
from apps.core.web.rendering import render_page

from .. import selectors
from ..money import to_cent
from .charts import spend_chart
from .dashboard import chosen_period, periods_with_invoices

# Domains shown per currency at one level: those that spent most.
SHOWN = 50


def _row(domain, currency, figures):
    finalized, draft, projects = figures
    finalized, draft = to_cent(finalized), to_cent(draft)
    return {
        "domain": domain,
        "currency": currency,
        "finalized": finalized,
        "draft": draft,
        "total": finalized + draft,
        "projects": projects,
    }


def top_rows(principal, domains, period):
    """The top of what the principal administers (a few domains): each domain's subtree."""
    tops = list(domains.exclude(parent__in=domains))
    totals = selectors.domain_totals(principal, tops, period)
    by_id = {domain.pk: domain for domain in tops}
    return [_row(by_id[domain_id], currency, figures) for (domain_id, currency), figures in totals.items()]


def child_rows(principal, parent, domains, period):
    """Each sub-domain of `parent` that spent something in the period (any number of them)."""
    totals = selectors.child_totals(principal, parent, period)
    by_path = {d.path: d for d in domains.filter(parent=parent, path__in={path for path, _ in totals})}
    return [
        _row(by_path[path], currency, figures)
        for (path, currency), figures in totals.items()
        if path in by_path
    ]


def spend_section(request, subject):
    principal = request.actor.principal
    domains = selectors.domains_for_totals(principal)
    periods = periods_with_invoices(selectors.invoices_for(principal))
    period = chosen_period(request, periods)
    parent = None
    if request.GET.get("domain"):
        parent = get_or_404(domains, "domain", pk=request.GET["domain"])
        rows = child_rows(principal, parent, domains, period)
    else:
        rows = top_rows(principal, domains, period)
    rows.sort(key=lambda row: (row["currency"], -row["total"], row["domain"].name))
    currencies = sorted({row["currency"] for row in rows})
    shown = [row for currency in currencies for row in [r for r in rows if r["currency"] == currency][:SHOWN]]
    ids = {row["domain"].pk for row in shown}
    return {
        "period": period,
        "periods": periods,
        "parent": parent,
        "rows": shown,
        "charts": [spend_chart(shown, currency) for currency in currencies],
        "with_children": set(domains.filter(parent__in=ids).values_list("parent_id", flat=True)),
    }


@require_GET
@portal_view(admin=True)
def spend(request):
    context = {"section": spend_section(request, None)}
    return render_page(request, "billing/admin/spend.html", context, area="admin")
