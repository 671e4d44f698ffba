"""Admin portal: every host with its state, flags, and allocation against its limits."""

from django.views.decorators.http import require_GET

from apps.portal.decorators import portal_view
from apps.portal.rendering import render_page
from apps.portal.views.flow import page_of

from ..models import Host
from ..selectors import hosts_for
from .usage import usage_of


@require_GET
@portal_view(admin=True)
def host_list(request):
    hosts = hosts_for(request.actor.principal).order_by("zone__name", "name")
    shown = request.GET.get("state")
    if shown in dict(Host.STATES):
        hosts = hosts.filter(state=shown)
    page = page_of(request, hosts)
    context = {
        "page": page,
        "hosts": [(host, usage_of(host)) for host in page.object_list],
        "states": [s for s, _ in Host.STATES],
        "shown": shown,
    }
    return render_page(request, "infrastructure/hosts.html", context, area="admin")
