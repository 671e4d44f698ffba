"""What monitoring adds to other apps' pages: charts on the dashboard's instance page, and the host's
utilisation next to its allocation on the admin portal's host page (apps/core/web/sections.py).

The window (`?window=hour|day|week`) is the page's query parameter. When
Prometheus does not answer, the section says so and the rest of the page stands.
"""

from apps.infrastructure.selectors import sees_hosts

from .. import series
from ..prometheus import PrometheusUnavailable
from ..selectors import alerts_for
from ..utilisation import latest_host_samples, utilisation_of
from .charts import HOST_CHARTS, INSTANCE_CHARTS, charts, windows


def window_of(request):
    return series.parse_window(request.GET.get("window", "hour"))


def charts_section(prefix, specs, read, capacity, window):
    """{"windows", "charts"} of a subject's series, or {"windows", "unavailable"} without them."""
    try:
        answer = read(window)
    except PrometheusUnavailable as error:
        return {"windows": windows(window), "unavailable": error.message}
    return {"windows": windows(window), "charts": charts(prefix, specs, answer, capacity)}


def instance_usage(request, instance):
    """The instance's CPU, network and disk; whoever sees the instance's page sees them."""
    return charts_section(
        "instance",
        INSTANCE_CHARTS,
        lambda window: series.instance_series(instance, window),
        instance.vcpus * 1000,
        window_of(request),
    )


def host_utilisation(request, host):
    """Use against allocation, the host's open alerts and its charts (for those who see hosts)."""
    principal = request.actor.principal
    if not sees_hosts(principal):
        return None
    sample = latest_host_samples([host.pk]).get(host.pk)
    section = charts_section(
        "host",
        HOST_CHARTS,
        lambda window: series.host_series(host, window),
        host.cpus * 1000,
        window_of(request),
    )
    return {
        **section,
        "utilisation": utilisation_of(host, sample),
        "alerts": list(alerts_for(principal).filter(subject=str(host.pk), resolved_at__isnull=True)),
    }
