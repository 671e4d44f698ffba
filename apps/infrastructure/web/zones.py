"""Admin portal: availability zones, for cloud administrators (for anyone else the pages do not exist)."""

from django.db.models import Count
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.errors import NotFound
from apps.core.scoping import get_or_404
from apps.core.tree import PLATFORM
from apps.core.web.decorators import portal_view
from apps.core.web.flow import Confirmation, confirmed, handled
from apps.core.web.rendering import render_page

from ..selectors import ZONE_READ, zones_for
from ..services import zones
from .forms import ZoneForm

admin_view = portal_view(admin=True)
LIST = "infrastructure:zone-list"


def may_see_zones(principal, project=None):
    """Zones are the platform's: a domain administrator does not manage them (nor see this page)."""
    return principal.can(ZONE_READ, PLATFORM)


def _zones(request):
    if not may_see_zones(request.actor.principal):
        raise NotFound("The zones pages are for cloud administrators.")
    return zones_for(request.actor.principal).annotate(host_count=Count("hosts"))


def _zone(request, zone_id):
    return get_or_404(_zones(request), "zone", pk=zone_id)


def _detail_url(zone):
    return reverse("infrastructure:zone-detail", args=[zone.pk])


@require_GET
@admin_view
def zone_list(request):
    return _render_list(request, ZoneForm())


def _render_list(request, form):
    context = {"zones": _zones(request).order_by("name"), "form": form}
    return render_page(request, "infrastructure/zones.html", context, area="admin")


@require_http_methods(["GET", "POST"])
@admin_view
def zone_create(request):
    _zones(request)
    return handled(
        request,
        ZoneForm(request.POST),
        lambda data: zones.create_zone(request.actor, **data),
        done=_detail_url,
        message=lambda zone: f"Zone {zone.name} created.",
        failed=lambda form: _render_list(request, form),
        page=reverse(LIST),
    )


@require_GET
@admin_view
def zone_detail(request, zone_id):
    zone = _zone(request, zone_id)
    return _render_detail(request, zone, ZoneForm.of(zone))


def _render_detail(request, zone, form):
    context = {"zone": zone, "form": form, "hosts": zone.hosts.order_by("name")[:50]}
    return render_page(request, "infrastructure/zone.html", context, area="admin")


@require_http_methods(["GET", "POST"])
@admin_view
def zone_update(request, zone_id):
    zone = _zone(request, zone_id)
    return handled(
        request,
        ZoneForm(request.POST),
        lambda data: zones.update_zone(request.actor, zone, **data),
        done=_detail_url(zone),
        message="Zone saved.",
        failed=lambda form: _render_detail(request, zone, form),
        page=_detail_url(zone),
    )


@require_http_methods(["GET", "POST"])
@admin_view
def zone_delete(request, zone_id):
    zone = _zone(request, zone_id)
    consequences = [f"Zone {zone.name} leaves the list launches choose from."]
    if zone.host_count:
        consequences.append(
            f"It still has {zone.host_count} host{'s' if zone.host_count != 1 else ''}: a zone is deleted"
            " only once its hosts are gone."
        )
    confirmation = Confirmation(
        title=f"Delete zone {zone.name}?",
        button=f"Delete zone {zone.name}",
        consequences=tuple(consequences),
        cancel=_detail_url(zone),
    )
    return confirmed(
        request,
        confirmation,
        lambda: zones.delete_zone(request.actor, zone),
        done=reverse(LIST),
        kept=_detail_url(zone),
        message=f"Zone {zone.name} deleted.",
        area="admin",
    )
