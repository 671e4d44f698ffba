"""The admin portal's rate cards: the default card and the domains' cards, their prices over time.

Cloud administrators create cards, add prices from a whole hour on and
withdraw a price no finalized invoice charged (deletions are asked first:
web/confirmations.py); domain administrators see the
cards that apply to them and change nothing (they must not set what they are
charged). Prices are never edited: a change is a new price from a later hour.
"""

from collections import defaultdict

from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from apps.core.errors import ValidationFailed
from apps.core.scoping import get_or_404
from apps.core.tree import PLATFORM
from apps.core.web.decorators import portal_view
from apps.core.web.flow import handled, performed
from apps.core.web.rendering import render_page
from apps.identity.selectors import domains_for

from .. import selectors
from ..services import rate_cards
from .forms import PriceForm, RateCardForm, RenameForm

admin_view = portal_view(admin=True)


def _manages(request):
    return request.actor.can("billing.rate_card.update", PLATFORM)


@require_http_methods(["GET", "POST"])
@admin_view
def rate_card_list(request):
    domains = domains_for(request.actor.principal)

    def page(form):
        cards = (
            selectors.rate_cards_for(request.actor.principal)
            .prefetch_related("rates")
            .order_by("domain__path", "name")
        )
        context = {"cards": cards, "form": form}
        return render_page(request, "billing/admin/rate_cards.html", context, area="admin")

    if request.method == "GET":
        return page(RateCardForm(domains) if _manages(request) else None)
    form = RateCardForm(domains, request.POST)
    return handled(
        request,
        form,
        lambda values: rate_cards.create_rate_card(
            request.actor, name=values["name"], currency=values["currency"], domain=values["domain"]
        ),
        done=lambda card: reverse("billing:admin-rate-card", args=[card.pk]),
        message=lambda card: f"Rate card {card.name} created: add its prices.",
        failed=page,
    )


def prices_by_subject(card, now):
    """[(what is priced, [(rate, whether it is the one in force now)], latest start first)], sorted."""
    grouped = defaultdict(list)
    for rate in card.rates.order_by("-effective_from"):
        grouped[(rate.resource_type, rate.offering_name)].append(rate)
    return sorted(
        (
            subject,
            [(rate, rate is next((r for r in rates if r.effective_from <= now), None)) for rate in rates],
        )
        for subject, rates in grouped.items()
    )


def _rename(request, card):
    form = RenameForm(request.POST)
    if not form.is_valid():
        raise ValidationFailed("Give the card a name of at most 64 characters.")
    return rate_cards.rename_rate_card(request.actor, card, name=form.cleaned_data["name"])


@require_http_methods(["GET", "POST"])
@admin_view
def rate_card_detail(request, card_id):
    card = get_or_404(selectors.rate_cards_for(request.actor.principal), "rate card", pk=card_id)
    here = reverse("billing:admin-rate-card", args=[card.pk])

    def page(price_form):
        context = {
            "card": card,
            "prices": prices_by_subject(card, timezone.now()),
            "manages": _manages(request),
            "price_form": price_form,
            "rename_form": RenameForm(initial={"name": card.name}),
        }
        return render_page(request, "billing/admin/rate_card.html", context, area="admin")

    op = request.POST.get("op")
    if request.method == "GET":
        return page(PriceForm() if _manages(request) else None)
    if op == "price":
        form = PriceForm(request.POST)
        return handled(
            request,
            form,
            lambda values: rate_cards.add_rate(request.actor, card, **form.rate_values()),
            done=here,
            message=lambda rate: f"Price added: {rate}.",
            failed=page,
        )
    if op != "rename":
        raise ValidationFailed(f"Unknown operation {op!r}.")
    return performed(request, lambda: _rename(request, card), done=here, kept=here, message="Renamed.")
