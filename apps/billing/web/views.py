"""The printable invoice: one plain, self-contained page (its own small stylesheet, no frame)."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.core.scoping import get_or_404
from apps.core.web.decorators import portal_view

from .. import selectors
from ..money import unit_hours
from ..periods import period_of


@require_GET
@portal_view
def invoice_page(request, invoice_id):
    invoice = get_or_404(
        selectors.invoices_for(request.actor.principal).prefetch_related("lines"), "invoice", pk=invoice_id
    )
    lines = [(line, unit_hours(line.unit_seconds)) for line in invoice.lines.all()]
    context = {"invoice": invoice, "lines": lines, "period": period_of(invoice.period_start)}
    return render(request, "billing/invoice.html", context)
