"""Admin portal: every host with its state, flags and allocation; a host's own page, where flags flip and a
host that stopped answering is fenced (or returned to service)."""

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
from ..services.fencing import FENCE, fence_host, return_to_service
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
        "may_fence": request.actor.can(FENCE, PLATFORM) and host.state in (Host.DOWN, Host.FENCED),
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


@require_POST
@portal_view(admin=True)
def host_fence(request, host_id):
    """Fence a host that is down (the operator ticks that it is off), or return a fenced one to service."""
    host = _host(request, host_id)
    back = reverse("infrastructure:host-detail", args=[host.pk])
    if request.POST.get("op") == "return":
        return performed(
            request,
            lambda: return_to_service(request.actor, host),
            done=back,
            kept=back,
            message=f"Host {host.name} is back in service: it is up again with its agent's next heartbeat.",
        )
    return performed(
        request,
        lambda: fence_host(
            request.actor, host, confirmed_off=request.POST.get("confirm_powered_off") == "on"
        ),
        done=back,
        kept=back,
        message=f"Host {host.name} is fenced: its HA instances are rebuilt elsewhere, the others in error.",
    )
