"""What billing adds to the portal: its pages in both areas' navigation, a card on each overview, and the
spend per domain as a section of the admin portal's monitoring page."""

from django.urls import reverse
from django.utils import timezone

from apps.core.web.extensions import ADMIN, DASHBOARD, register_card, register_nav
from apps.core.web.sections import register_section
from apps.monitoring.web.views import OVERVIEW_PAGE

from .. import rollup, selectors
from ..models import Invoice
from ..periods import period_of
from ..services.budgets import spend_of, with_spend
from .dashboard import totals_by_currency
from .spend import spend_section


def _reads(action):
    return lambda principal, project: principal.can(action, project.target())


def _money(totals):
    return ", ".join(f"{total} {currency}" for currency, total in totals.items()) or "nothing yet"


def cost_card(request, project):
    """Cost to date of the project this period, and how much of its budget that is."""
    if not request.actor.can("billing.invoice.read", project.target()):
        return None
    period = period_of(timezone.now())
    principal = request.actor.principal
    invoices = selectors.invoices_for(principal).filter(project_id=project.pk, period_start=period.start)
    rows = [(f"Cost to date ({period.label})", _money(totals_by_currency(invoices)))]
    for budget in with_spend(selectors.budgets_for(principal).filter(project=project), period):
        share = int(spend_of(budget) * 100 / budget.amount)
        rows.append((f"Budget ({budget.currency})", f"{share} % of {budget.amount} {budget.currency}"))
    return {"rows": rows, "link": ("Usage and cost", reverse("billing:project-costs", args=[project.pk]))}


def billing_card(request, project):
    """This period's drafts to date where the admin looks, last period's still to close, the rollup."""
    period = period_of(timezone.now())
    invoices = selectors.invoices_for(request.actor.principal)
    counted = rollup.rolled_until()
    rows = [
        (
            f"Drafts to date ({period.label})",
            _money(totals_by_currency(invoices.filter(period_start=period.start))),
        ),
        (
            f"Drafts of {period.previous().label} to close",
            invoices.filter(period_start=period.previous().start, state=Invoice.DRAFT).count(),
        ),
        ("Usage counted until", f"{counted:%Y-%m-%d %H:%M} UTC" if counted else "not yet rolled up"),
    ]
    return {"rows": rows, "link": ("Invoices", reverse("billing:admin-invoices"))}


def register():
    register_nav(
        DASHBOARD, "Usage and cost", "billing:project-costs", order=60, visible=_reads("billing.invoice.read")
    )
    register_nav(
        DASHBOARD, "Invoices", "billing:project-invoices", order=61, visible=_reads("billing.invoice.read")
    )
    register_nav(
        DASHBOARD, "Budget", "billing:project-budget", order=62, visible=_reads("billing.budget.read")
    )
    register_nav(ADMIN, "Rate cards", "billing:admin-rate-cards", order=70)
    register_nav(ADMIN, "Invoices", "billing:admin-invoices", order=71)
    register_nav(ADMIN, "Spend per domain", "billing:admin-spend", order=72)
    register_nav(ADMIN, "Budgets", "billing:admin-budgets", order=73)
    # "cost" is the name the monitoring pages leave a place for (docs/billing.md).
    register_card(DASHBOARD, "cost", title="Cost to date", context=cost_card, order=25)
    register_card(ADMIN, "billing", title="Billing", context=billing_card, order=60)
    register_section(
        OVERVIEW_PAGE,
        "spend",
        title="Spend per domain",
        template="billing/sections/spend_on_page.html",
        context=spend_section,
        order=10,
    )
