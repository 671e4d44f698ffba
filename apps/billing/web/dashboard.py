"""The dashboard's billing pages of a project: usage and cost to date with its chart, invoices, budgets.

Every read goes through the billing selectors with the principal scoped to the
project (identity's dashboard_project), so a page shows this project's rows
and nothing else; another tenant's project is a 404 before anything is read.
"""

from collections import defaultdict
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.web.decorators import portal_view
from apps.core.web.flow import handled, page_of
from apps.core.web.frame import dashboard_project
from apps.core.web.rendering import render_page

from .. import rollup, selectors
from ..costs import daily_costs
from ..models import Invoice
from ..periods import period_named, period_of
from ..services import budgets
from .budgets import budget_rows
from .charts import cost_chart
from .forms import BudgetForm

DASHBOARD = "dashboard"


def _page(request, project, template, context):
    return render_page(request, template, context, area=DASHBOARD, project=project)


def chosen_period(request, shown):
    """The period `?period=` names, when it is one of those `shown`; else the current one."""
    label = request.GET.get("period", "")
    if label in {p.label for p in shown}:
        return period_named(label)
    return period_of(timezone.now())


def periods_with_invoices(invoices):
    """The periods of these invoices, newest first, and the current one in any case."""
    starts = set(invoices.order_by().values_list("period_start", flat=True).distinct())
    periods = {period_of(start) for start in starts} | {period_of(timezone.now())}
    return sorted(periods, key=lambda p: p.start, reverse=True)


def totals_by_currency(invoices):
    """{currency: total} of these invoices and credit notes."""
    totals = defaultdict(Decimal)
    for currency, total in invoices.values_list("currency", "total"):
        totals[currency] += total
    return dict(sorted(totals.items()))


def resource_rows(invoices):
    """The period's lines merged per resource (a price change splits one resource in two lines)."""
    rows = {}
    for invoice in invoices:
        for line in invoice.lines.all():
            key = (invoice.currency, line.resource_type, line.resource_id or line.pk)
            row = rows.setdefault(
                key,
                {
                    "currency": invoice.currency,
                    "type": line.resource_type,
                    "kind": line.resource_type.replace("_", " "),
                    "name": line.resource_name or line.description,
                    "offering": line.offering_name,
                    "unit_seconds": 0,
                    "amount": Decimal(0),
                },
            )
            row["unit_seconds"] += line.unit_seconds
            row["amount"] += line.amount
    return sorted(rows.values(), key=lambda r: (r["currency"], -r["amount"], r["type"], r["name"]))


@require_GET
@portal_view
def project_costs(request, project_id):
    project, scoped = dashboard_project(request, project_id)
    invoices = selectors.invoices_for(scoped).filter(project_id=project.pk)
    shown = periods_with_invoices(invoices)
    period = chosen_period(request, shown)
    of_period = invoices.filter(period_start=period.start)
    counted_until = rollup.rolled_until()
    costs = daily_costs(scoped, project, period, counted_until)
    charges = of_period.filter(kind=Invoice.INVOICE).prefetch_related("lines")
    context = {
        "period": period,
        "periods": shown,
        "counted_until": counted_until,
        "complete": counted_until is not None and counted_until >= period.end,
        "totals": totals_by_currency(of_period),
        "rows": resource_rows(charges),
        "charts": [cost_chart(costs, currency) for currency in sorted(costs.by_currency)],
        "budgets": budget_rows(request, selectors.budgets_for(scoped).filter(project=project), period),
    }
    return _page(request, project, "billing/dashboard/costs.html", context)


@require_GET
@portal_view
def project_invoices(request, project_id):
    project, scoped = dashboard_project(request, project_id)
    invoices = (
        selectors.invoices_for(scoped).filter(project_id=project.pk).order_by("-period_start", "created_at")
    )
    return _page(request, project, "billing/dashboard/invoices.html", {"page": page_of(request, invoices)})


@require_http_methods(["GET", "POST"])
@portal_view
def project_budget(request, project_id):
    project, scoped = dashboard_project(request, project_id)
    here = reverse("billing:project-budget", args=[project.pk])

    def page(form):
        found = selectors.budgets_for(scoped).filter(project=project)
        context = {"rows": budget_rows(request, found, period_of(timezone.now())), "form": form, "here": here}
        return _page(request, project, "billing/dashboard/budget.html", context)

    if request.method == "GET":
        return page(BudgetForm() if request.actor.can("billing.budget.create", project.target()) else None)
    form = BudgetForm(request.POST)
    return handled(
        request,
        form,
        lambda values: budgets.create_budget(request.actor, project=project, **form.budget_values()),
        done=here,
        message=lambda budget: f"Budget set: {budget.amount} {budget.currency} a period.",
        failed=page,
    )
