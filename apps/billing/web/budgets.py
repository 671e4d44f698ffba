"""The admin portal's budgets page, and changing or deleting one budget from it or the dashboard's.

A budget is read through the scoped selector (another tenant's is a 404); the
service decides whether the person may change it. The way back is the page
the form was on, when it is one of this site's.
"""

from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.errors import ValidationFailed
from apps.core.scoping import get_or_404
from apps.core.web.decorators import portal_view
from apps.core.web.flow import handled, local_target, performed
from apps.core.web.rendering import render_page
from apps.identity.selectors import domains_for

from .. import selectors
from ..money import to_cent
from ..periods import period_of
from ..services import budgets
from .forms import BudgetChangeForm, DomainBudgetForm


def budget_rows(request, found, period):
    """(budget, its spend, percent of it, a change form or None) for each budget shown."""
    rows = []
    for budget in budgets.with_spend(found.prefetch_related("notices"), period):
        spend = to_cent(budgets.spend_of(budget))
        may_change = request.actor.can("billing.budget.update", budgets.budget_target(budget))
        form = None
        if may_change:
            form = BudgetChangeForm(
                initial={"amount": budget.amount, "notify": ", ".join(budget.notify_emails)},
                prefix=f"budget-{budget.pk}",
            )
        rows.append((budget, spend, min(100, int(spend * 100 / budget.amount)), form))
    return rows


def _changed(request, budget):
    form = BudgetChangeForm(request.POST, prefix=f"budget-{budget.pk}")
    if not form.is_valid():
        raise ValidationFailed(" ".join(e for errors in form.errors.values() for e in errors))
    return budgets.update_budget(request.actor, budget, **form.budget_values())


@require_POST
@portal_view
def budget_change(request, budget_id):
    budget = get_or_404(selectors.budgets_for(request.actor.principal), "budget", pk=budget_id)
    back = local_target(request, request.POST.get("next"), reverse("portal:dashboard"))
    return performed(
        request, lambda: _changed(request, budget), done=back, kept=back, message="Budget changed."
    )


@require_http_methods(["GET", "POST"])
@portal_view(admin=True)
def admin_budgets(request):
    """Budgets of the domains and projects one administers; a form to set a domain's."""
    principal = request.actor.principal
    domains = domains_for(principal)
    here = reverse("billing:admin-budgets")

    def page(form):
        found = selectors.budgets_for(principal).order_by("place", "currency")
        rows = budget_rows(request, found, period_of(timezone.now()))
        return render_page(
            request, "billing/admin/budgets.html", {"rows": rows, "form": form, "here": here}, area="admin"
        )

    if request.method == "GET":
        return page(DomainBudgetForm(domains))
    form = DomainBudgetForm(domains, request.POST)
    return handled(
        request,
        form,
        lambda values: budgets.create_budget(request.actor, domain=values["domain"], **form.budget_values()),
        done=here,
        message=lambda budget: f"Budget set for {budget.domain}: {budget.amount} {budget.currency} a period.",
        failed=page,
    )
