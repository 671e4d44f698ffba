"""Admin portal: every host with its state, flags and allocation; a host's own page, where flags flip."""

from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.core.scoping import get_or_404
from apps.core.tree import PLATFORM
from apps.core.web.decorators import portal_view
from apps.core.web.flow import performed
from apps.core.web.listing import Column, Listing
from apps.core.web.rendering import render_page

from ..models import Host
from ..selectors import hosts_for
from .sections import sections_for
from .switches import named, switches_for
from .usage import usage_of

COLUMNS = (
    Column("name", "Host", ("name",)),
    Column("zone", "Zone", ("zone__name",)),
    Column("state", "State", ("state",)),
    Column("allocation", "Allocated", ("ram_mb_used",)),
    Column("heartbeat", "Last heartbeat", ("last_heartbeat_at",)),
)


@require_GET
@portal_view(admin=True)
def host_list(request):
    hosts = hosts_for(request.actor.principal)
    shown = request.GET.get("state")
    if shown in dict(Host.STATES):
        hosts = hosts.filter(state=shown)
    listing = Listing(request, hosts, columns=COLUMNS, default="name", search=("name", "zone__name"))
    context = {
        "listing": listing,
        "hosts": [(host, usage_of(host)) for host in listing.rows],
        "states": [s for s, _ in Host.STATES],
        "shown": shown,
        "can_add": request.actor.can("infrastructure.host.create", PLATFORM),
    }
    return render_page(request, "infrastructure/hosts.html", context, area="admin")


def _host(request, host_id):
    return get_or_404(hosts_for(request.actor.principal), "host", pk=host_id)


@require_GET
@portal_view(admin=True)
def host_detail(request, host_id):
    host = _host(request, host_id)
    context = {
        "host": host,
        "usage": usage_of(host),
        "switches": switches_for(request.actor, host),
        "can_enroll": request.actor.can("infrastructure.host.enroll", PLATFORM),
        "sections": sections_for(request, host),
    }
    return render_page(request, "infrastructure/host.html", context, area="admin")


@require_POST
@portal_view(admin=True)
def host_action(request, host_id):
    """Flip a flag; a refusal other than a permission one is said in a message on the host's page."""
    host = _host(request, host_id)
    switch = named(request.POST.get("op"))
    back = reverse("infrastructure:host-detail", args=[host.pk])
    return performed(
        request,
        lambda: switch.apply(request.actor, host),
        done=back,
        kept=back,
        message=f"Host {host.name} is {switch.done}",
    )
