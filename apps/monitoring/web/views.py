"""The admin portal's monitoring page: alerts, the cloud's capacity and use, each host's utilisation, and
the top consumers; and the sections other apps add to it (billing's spend per domain)."""

from django.template.defaultfilters import filesizeformat
from django.views.decorators.http import require_GET

from apps.core.tree import PLATFORM
from apps.core.web.decorators import portal_view
from apps.core.web.flow import page_of
from apps.core.web.rendering import render_page
from apps.core.web.sections import page_sections
from apps.infrastructure.selectors import hosts_for, sees_hosts

from .. import series
from ..consumers import RANKINGS, TOP_WINDOW_SECONDS, top_consumers
from ..policy_actions import ALERT_READ
from ..selectors import alerts_for
from ..utilisation import cloud_capacity, hosts_utilisation
from .charts import CLOUD_CHARTS
from .sections import charts_section, window_of

# The page's name for the sections other apps add to it (apps/core/web/sections.py).
OVERVIEW_PAGE = "monitoring.overview"
ALERTS_SHOWN = 50
HOSTS_PER_PAGE = 25


def _platform(request):
    """What only those who see hosts are shown: capacity, the cloud's charts, each host's utilisation."""
    hosts = hosts_for(request.actor.principal)
    capacity = cloud_capacity(hosts)
    cpus = capacity[0].physical
    page = page_of(request, hosts.order_by("zone__name", "name"), HOSTS_PER_PAGE)
    return {
        "capacity": capacity,
        "cloud": charts_section("cloud", CLOUD_CHARTS, series.cloud_series, cpus * 1000, window_of(request)),
        "page": page,
        "hosts": hosts_utilisation(page.object_list),
    }


# ranking -> the figure a consumer is ranked by, as the page shows it
FIGURES = {
    "cpu": lambda consumer: f"{consumer.cpu_percent}% of its vCPUs",
    "network": lambda consumer: f"{filesizeformat(consumer.network_bytes_per_s)}/s",
    "disk": lambda consumer: f"{filesizeformat(consumer.disk_bytes_per_s)}/s",
}


def _consumers(principal):
    """[(what is measured, [(consumer, its figure)])], one table per ranking."""
    return [
        (RANKINGS[name][0], [(consumer, FIGURES[name](consumer)) for consumer in ranked])
        for name, ranked in top_consumers(principal).items()
    ]


@require_GET
@portal_view(admin=True)
def overview(request):
    principal = request.actor.principal
    context = {
        "alerts": list(alerts_for(principal)[:ALERTS_SHOWN]) if principal.can(ALERT_READ, PLATFORM) else None,
        "sees_hosts": sees_hosts(principal),
        "consumers": _consumers(principal),
        "top_minutes": TOP_WINDOW_SECONDS // 60,
        "sections": page_sections(OVERVIEW_PAGE, request, None),
    }
    if context["sees_hosts"]:
        context.update(_platform(request))
    return render_page(request, "monitoring/overview.html", context, area="admin")
