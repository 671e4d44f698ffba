"""The admin portal's invoices: every invoice and credit note of the domains one administers, by period and
domain; closing a period, finalizing one invoice, crediting a finalized one (cloud administrators)."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from apps.core.scoping import get_or_404
from apps.core.tree import PLATFORM
from apps.core.web.decorators import portal_view
from apps.core.web.flow import handled
from apps.core.web.listing import Column, Listing
from apps.core.web.rendering import render_page

from .. import selectors
from ..models import Invoice
from ..money import unit_hours
from ..periods import period_named, period_of
from ..services import invoices
from .dashboard import chosen_period, periods_with_invoices, totals_by_currency
from .forms import ClosePeriodForm, CreditNoteForm

admin_view = portal_view(admin=True)
FILTERS = ("state", "kind")
COLUMNS = (
    Column("number", "Document", ("kind", "number")),
    Column("project", "Project", ("domain_path", "project_name")),
    Column("state", "State", ("state",)),
    Column("total", "Total", ("total",)),
    Column("download", "Download"),
)


def _in_domain(request, found):
    """The invoices of `?domain=` (an id from the spend page) and its subtree, and that domain."""
    domain_id = request.GET.get("domain")
    if not domain_id:
        return found, None
    domain = get_or_404(selectors.domains_for_totals(request.actor.principal), "domain", pk=domain_id)
    return found.filter(domain_path__startswith=domain.path), domain


@require_http_methods(["GET", "POST"])
@admin_view
def invoice_list(request):
    visible = selectors.invoices_for(request.actor.principal)
    closes = request.actor.can("billing.invoice.finalize", PLATFORM)

    def page(close_form):
        periods = periods_with_invoices(visible)
        period = chosen_period(request, periods)
        found, domain = _in_domain(request, visible.filter(period_start=period.start))
        for field in FILTERS:
            if request.GET.get(field):
                found = found.filter(**{field: request.GET[field]})
        listing = Listing(
            request, found, columns=COLUMNS, default="project", search=("number", "project_name", "reason")
        )
        context = {
            "period": period,
            "periods": periods,
            "domain": domain,
            "totals": totals_by_currency(found),
            "listing": listing,
            "states": [s for s, _ in Invoice.STATES],
            "kinds": [k for k, _ in Invoice.KINDS],
            "close_form": close_form,
        }
        return render_page(request, "billing/admin/invoices.html", context, area="admin")

    if request.method == "GET":
        previous = period_of(timezone.now()).previous().label
        return page(ClosePeriodForm(initial={"period": previous}) if closes else None)
    form = ClosePeriodForm(request.POST)
    return handled(
        request,
        form,
        lambda values: (
            values["period"],
            invoices.close_period(request.actor, period_named(values["period"])),
        ),
        done=lambda closed: reverse("billing:admin-invoices") + "?" + urlencode({"period": closed[0]}),
        message=lambda closed: f"Period {closed[0]} closed: {closed[1]} invoice(s) finalized.",
        failed=page,
    )


@require_http_methods(["GET", "POST"])
@admin_view
def invoice_detail(request, invoice_id):
    found = selectors.invoices_for(request.actor.principal).prefetch_related("lines", "credit_notes")
    invoice = get_or_404(found, "invoice", pk=invoice_id)
    here = reverse("billing:admin-invoice", args=[invoice.pk])
    target = invoices.invoice_target(invoice)

    def page(credit_form):
        context = {
            "invoice": invoice,
            "period": period_of(invoice.period_start),
            "lines": [(line, unit_hours(line.unit_seconds)) for line in invoice.lines.all()],
            "finalizes": invoice.state == Invoice.DRAFT
            and request.actor.can("billing.invoice.finalize", target),
            "credit_form": credit_form,
        }
        return render_page(request, "billing/admin/invoice.html", context, area="admin")

    credits = invoice.kind == Invoice.INVOICE and invoice.is_finalized
    credits = credits and request.actor.can("billing.invoice.credit", target)
    if request.method == "GET":
        return page(CreditNoteForm() if credits else None)
    form = CreditNoteForm(request.POST)
    return handled(
        request,
        form,
        lambda values: invoices.issue_credit_note(request.actor, invoice, **values),
        done=here,
        message=lambda note: f"Credit note {note.number} issued.",
        failed=page,
    )
