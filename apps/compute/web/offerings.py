"""Admin portal: service offerings (instance sizes).

Cloud administrators list, create, change, disable, restrict to domains and
delete unused ones. A domain administrator sees, read-only, the offerings its
domains may launch: the public ones and those restricted to its domains (or to
a domain above them), each naming only the domains it may see.
"""

from django.db.models import Count, Q
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import PermissionDenied, ValidationFailed
from apps.core.scoping import get_or_404
from apps.core.tree import PLATFORM
from apps.core.web.decorators import portal_view
from apps.core.web.flow import Confirmation, confirmed, handled, performed
from apps.core.web.listing import Column, Listing
from apps.core.web.rendering import render_page
from apps.identity.selectors import domains_for
from apps.identity.web.selectors import path_labels

from .. import selectors, states
from ..services import offerings
from .offering_forms import OfferingCreateForm, OfferingUpdateForm

admin_view = portal_view(admin=True)
LIST = "compute:offering-list"
COLUMNS = (
    Column("name", "Name", ("name",)),
    Column("size", "Size", ("vcpus", "ram_mb", "root_disk_gb")),
    Column("availability", "Who may launch it", ("public",)),
    Column("state", "State", ("enabled",)),
)


def _may_manage(request):
    return request.actor.can(selectors.OFFERING_MANAGE, PLATFORM)


def _require_manager(request):
    """A domain admin's page shows no form: a change it sends anyway is a refusal page, not form errors."""
    if not _may_manage(request):
        raise PermissionDenied("Only cloud administrators change service offerings.")


def _detail_url(offering):
    return reverse("compute:offering-detail", args=[offering.pk])


def _offering(request, offering_id):
    return get_or_404(selectors.offerings_for(request.actor.principal), "offering", pk=offering_id)


def _available_to(principal, offerings_shown):
    """{offering id: [domain label…]}: the domains each restricted offering is given to, as the
    principal may see them (a domain admin never learns of other tenants' domains)."""
    domains = {domain.pk: domain for offering in offerings_shown for domain in offering.domains.all()}
    visible = set(domains_for(principal).filter(pk__in=list(domains)).values_list("pk", flat=True))
    labels = path_labels(principal, [domains[pk] for pk in visible])
    return {
        offering.pk: sorted(labels[d.pk] for d in offering.domains.all() if d.pk in visible)
        for offering in offerings_shown
    }


@require_GET
@admin_view
def offering_list(request):
    return _render_list(
        request, OfferingCreateForm(request.actor.principal) if _may_manage(request) else None
    )


def _render_list(request, form):
    principal = request.actor.principal
    listing = Listing(
        request,
        selectors.offerings_for(principal),
        columns=COLUMNS,
        default="size",
        search=("name", "description"),
    )
    available = _available_to(principal, listing.rows)
    context = {
        "listing": listing,
        "rows": [(offering, available[offering.pk]) for offering in listing.rows],
        "form": form,
        "can_manage": _may_manage(request),
    }
    return render_page(request, "compute/admin/offerings.html", context, area="admin")


@require_http_methods(["GET", "POST"])
@admin_view
def offering_create(request):
    _require_manager(request)
    form = OfferingCreateForm(request.actor.principal, request.POST)
    return handled(
        request,
        form,
        lambda data: offerings.create_offering(request.actor, **form.sizes(), **form.availability()),
        done=_detail_url,
        message=lambda offering: f"Offering {offering.name} created.",
        failed=lambda form: _render_list(request, form),
        page=reverse(LIST),
    )


@require_GET
@admin_view
def offering_detail(request, offering_id):
    offering = _offering(request, offering_id)
    form = OfferingUpdateForm.of(request.actor.principal, offering) if _may_manage(request) else None
    return _render_detail(request, offering, form)


def _render_detail(request, offering, form):
    principal = request.actor.principal
    counts = selectors.instances_for(principal).aggregate(
        live=Count("pk", filter=Q(offering=offering) & ~Q(vm_state=states.DELETED))
    )
    context = {
        "offering": offering,
        "available_to": _available_to(principal, [offering])[offering.pk],
        "instances": counts["live"],
        "form": form,
        "can_manage": _may_manage(request),
    }
    return render_page(request, "compute/admin/offering.html", context, area="admin")


@require_http_methods(["GET", "POST"])
@admin_view
def offering_update(request, offering_id):
    offering = _offering(request, offering_id)
    _require_manager(request)
    form = OfferingUpdateForm(request.actor.principal, request.POST)
    return handled(
        request,
        form,
        lambda data: offerings.update_offering(
            request.actor, offering, enabled=data["enabled"], **form.availability()
        ),
        done=_detail_url(offering),
        message="Offering saved.",
        failed=lambda form: _render_detail(request, offering, form),
        page=_detail_url(offering),
    )


SWITCHES = {
    "enable": (True, "enabled: new instances may be launched with it."),
    "disable": (False, "disabled: no new instance is launched with it; running ones keep their size."),
}


@require_POST
@admin_view
def offering_switch(request, offering_id):
    """Enable or disable in one click; instances already launched with it are not touched."""
    offering = _offering(request, offering_id)
    if request.POST.get("op") not in SWITCHES:
        raise ValidationFailed("Unknown offering action.", code="unknown_action")
    enabled, done = SWITCHES[request.POST["op"]]
    return performed(
        request,
        lambda: offerings.update_offering(request.actor, offering, enabled=enabled),
        done=_detail_url(offering),
        kept=_detail_url(offering),
        message=f"Offering {offering.name} is {done}",
    )


@require_http_methods(["GET", "POST"])
@admin_view
def offering_delete(request, offering_id):
    offering = _offering(request, offering_id)
    _require_manager(request)
    confirmation = Confirmation(
        title=f"Delete offering {offering.name}?",
        button=f"Delete {offering.name}",
        consequences=(
            f"The size {offering.name} leaves the catalogue for good.",
            "An offering that instances were launched with cannot be deleted: disable it instead.",
        ),
        cancel=_detail_url(offering),
    )
    return confirmed(
        request,
        confirmation,
        lambda: offerings.delete_offering(request.actor, offering),
        done=reverse(LIST),
        kept=_detail_url(offering),
        message=f"Offering {offering.name} deleted.",
        area="admin",
    )
