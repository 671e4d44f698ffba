"""Forms of the billing pages; the services check every value again (they are the API's too)."""

from django import forms

from apps.compute.models import ServiceOffering
from apps.core.web.forms import ServiceForm
from apps.metering.events import RESOURCE_TYPES

from ..models import MONEY, PRICE, RateCard
from ..services.budgets import MAX_RECIPIENTS

_WHOLE_HOUR = "A whole hour, in UTC."


def _currencies():
    return sorted(set(RateCard.objects.values_list("currency", flat=True)))


class RateCardForm(ServiceForm):
    name = forms.CharField(max_length=64)
    currency = forms.CharField(
        max_length=3, min_length=3, help_text="A three-letter ISO 4217 code: EUR, USD…"
    )
    domain = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="none: the cloud's default card",
        help_text="A domain's card overrides the default for its whole subtree.",
    )
    error_fields = {"bad_currency": "currency", "already_exists": "domain"}

    def __init__(self, domains, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domain"].queryset = domains.order_by("path")


class RenameForm(ServiceForm):
    name = forms.CharField(max_length=64)


class PriceForm(ServiceForm):
    resource_type = forms.ChoiceField(choices=[(t, t.replace("_", " ")) for t in RESOURCE_TYPES])
    offering = forms.ModelChoiceField(
        queryset=ServiceOffering.objects.order_by("name"),
        required=False,
        empty_label="every offering",
        help_text="Instances only: a price for one offering beats the card's price for every instance.",
    )
    price = forms.DecimalField(
        max_digits=PRICE["max_digits"],
        decimal_places=PRICE["decimal_places"],
        min_value=0,
        label="Price per unit-hour",
        help_text="Per instance-hour, GiB-hour of storage, address-hour or network-hour.",
    )
    effective_from = forms.DateTimeField(
        label="Effective from (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 3600}),
        help_text=_WHOLE_HOUR,
    )
    error_fields = {
        "bad_price": "price",
        "bad_effective_from": "effective_from",
        "offering_not_priced": "offering",
        "offering_not_found": "offering",
        "already_exists": "effective_from",
    }

    def rate_values(self):
        data = self.cleaned_data
        offering = data["offering"]
        return {
            "resource_type": data["resource_type"],
            "price": data["price"],
            "effective_from": data["effective_from"],
            "offering_id": offering.pk if offering else None,
        }


class CreditNoteForm(ServiceForm):
    amount = forms.DecimalField(max_digits=MONEY["max_digits"], decimal_places=2, min_value=0)
    reason = forms.CharField(max_length=255)
    error_fields = {"bad_amount": "amount", "credit_exceeds_invoice": "amount", "reason_required": "reason"}


class ClosePeriodForm(ServiceForm):
    period = forms.CharField(
        max_length=10, help_text="Like 2026-11: its invoices are finalized and numbered."
    )
    error_fields = {"bad_period": "period", "period_not_over": "period", "period_not_rolled_up": "period"}


def _emails(text):
    return [email.strip() for email in text.replace(";", ",").split(",") if email.strip()]


class BudgetForm(ServiceForm):
    amount = forms.DecimalField(
        max_digits=MONEY["max_digits"], decimal_places=2, min_value=0, label="Budget per period"
    )
    currency = forms.ChoiceField(choices=())
    notify = forms.CharField(
        max_length=2550,
        required=False,
        label="Tell",
        help_text=f"Addresses separated by commas (at most {MAX_RECIPIENTS}); by default, yours.",
    )
    error_fields = {
        "bad_amount": "amount",
        "bad_currency": "currency",
        "currency_not_charged": "currency",
        "already_exists": "currency",
        "bad_email": "notify",
        "too_many_recipients": "notify",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(c, c) for c in _currencies()]

    def budget_values(self):
        data = self.cleaned_data
        emails = _emails(data["notify"])
        return {"amount": data["amount"], "currency": data["currency"], "notify_emails": emails or None}


class DomainBudgetForm(BudgetForm):
    domain = forms.ModelChoiceField(queryset=None)
    field_order = ["domain", "amount", "currency", "notify"]

    def __init__(self, domains, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domain"].queryset = domains.order_by("path")


class BudgetChangeForm(ServiceForm):
    amount = forms.DecimalField(max_digits=MONEY["max_digits"], decimal_places=2, min_value=0)
    notify = forms.CharField(max_length=2550, required=False, label="Tell")

    def budget_values(self):
        return {"amount": self.cleaned_data["amount"], "notify_emails": _emails(self.cleaned_data["notify"])}
