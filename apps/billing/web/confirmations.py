"""Billing's actions that cannot be undone, each asked first on a confirmation page (apps/core/web/flow.py):
finalizing an invoice (it is numbered and frozen), deleting a rate card, withdrawing a price, deleting a
budget. Opening one of these addresses changes nothing; only the confirming POST does.

Those who may not do it get a refusal page before any confirmation; the
services check again when it is done.
"""

from django.urls import reverse
from django.views.decorators.http import require_http_methods

from apps.core.scoping import get_or_404
from apps.core.tree import PLATFORM
from apps.core.web.decorators import portal_view
from apps.core.web.flow import asked, local_target
from apps.identity.services.common import require

from .. import selectors
from ..models import Invoice
from ..services import budgets, invoices, rate_cards

admin_view = portal_view(admin=True)


@require_http_methods(["GET", "POST"])
@admin_view
def invoice_finalize(request, invoice_id):
    found = selectors.invoices_for(request.actor.principal).filter(kind=Invoice.INVOICE, state=Invoice.DRAFT)
    invoice = get_or_404(found, "draft invoice", pk=invoice_id)
    target = invoices.invoice_target(invoice)
    require(request.actor, "billing.invoice.finalize", target, "Only cloud administrators finalize invoices.")
    return asked(
        request,
        lambda: invoices.finalize_invoice(request.actor, invoice),
        title=f"Finalize the invoice of {invoice.project_name} for {invoice.period_start:%Y-%m}?",
        button="Finalize and number it",
        consequences=(
            "It is drafted a last time from the usage of its period, then numbered and frozen: "
            "it never changes again.",
            "A mistake found later is corrected with a credit note.",
        ),
        back=reverse("billing:admin-invoice", args=[invoice.pk]),
        message="Finalized and numbered: it will never change.",
        area="admin",
    )


def _rate_card(request, card_id):
    card = get_or_404(selectors.rate_cards_for(request.actor.principal), "rate card", pk=card_id)
    require(
        request.actor, "billing.rate_card.update", PLATFORM, "Only cloud administrators change rate cards."
    )
    return card, reverse("billing:admin-rate-card", args=[card.pk])


@require_http_methods(["GET", "POST"])
@admin_view
def rate_card_delete(request, card_id):
    card, here = _rate_card(request, card_id)
    above = "the default card" if card.domain_id else "no card: usage is then charged nothing"
    return asked(
        request,
        lambda: rate_cards.delete_rate_card(request.actor, card),
        title=f"Delete rate card {card.name}?",
        button=f"Delete {card.name}",
        consequences=(
            f"Rate card {card.name} and its prices are removed for good.",
            f"Drafts are priced again by {above}; finalized invoices keep what they charged.",
        ),
        back=here,
        done=reverse("billing:admin-rate-cards"),
        message=f"Rate card {card.name} deleted: its drafts are priced by the card above it.",
        area="admin",
    )


@require_http_methods(["GET", "POST"])
@admin_view
def rate_withdraw(request, card_id, rate_id):
    card, here = _rate_card(request, card_id)
    rate = get_or_404(card.rates.all(), "price", pk=rate_id)
    what = rate.offering_name or rate.resource_type.replace("_", " ")
    return asked(
        request,
        lambda: rate_cards.withdraw_rate(request.actor, rate),
        title=f"Withdraw the price of {what} from {rate.effective_from:%Y-%m-%d %H:%M} UTC?",
        button="Withdraw the price",
        consequences=(
            "The hours it priced fall back to the price before it, and the drafts are priced again.",
            "A price a finalized invoice charged cannot be withdrawn.",
        ),
        back=here,
        message="Price withdrawn: the drafts are priced again.",
        area="admin",
    )


@require_http_methods(["GET", "POST"])
@portal_view
def budget_delete(request, budget_id):
    budget = get_or_404(selectors.budgets_for(request.actor.principal), "budget", pk=budget_id)
    target = budgets.budget_target(budget)
    require(request.actor, "billing.budget.delete", target, "You may not delete this budget.")
    return asked(
        request,
        lambda: budgets.delete_budget(request.actor, budget),
        title=f"Delete the budget of {budget}?",
        button="Delete the budget",
        consequences=(
            "No notice is sent for it any more; the notices already sent are deleted with it.",
            "The invoices are not touched.",
        ),
        back=local_target(request, request.GET.get("next"), reverse("portal:dashboard")),
        message="Budget deleted.",
        # A project's budget is the dashboard's (its budget page), a domain's the admin portal's.
        area=None if budget.project_id else "admin",
        project=budget.project,
    )
