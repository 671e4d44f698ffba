"""`/api/v1/metrics/instances/{id}/` and `/metrics/hosts/{id}/` (the charts' JSON), `/api/v1/alerts/`.

An instance's series are read by whoever may read the instance (another
tenant's is a 404, like the instance itself); a host's by whoever may read hosts.
`?window=hour|day|week` (default hour) chooses the span and the resolution.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.compute.selectors import instances_for
from apps.core.actor import Actor
from apps.core.scoping import get_or_404
from apps.infrastructure.selectors import hosts_for

from .. import series
from ..selectors import alerts_for
from .serializers import AlertSerializer, SeriesSerializer

WINDOW = OpenApiParameter(
    "window",
    str,
    enum=list(series.WINDOWS),
    default="hour",
    description="the span, which sets the resolution",
)


def _window(request):
    return series.parse_window(request.query_params.get("window", "hour"))


class InstanceMetricsView(APIView):
    @extend_schema(parameters=[WINDOW], responses=SeriesSerializer)
    def get(self, request, pk):
        principal = Actor.from_request(request).principal
        instance = get_or_404(instances_for(principal), "instance", pk=pk)
        return Response(series.instance_series(instance, _window(request)))


class HostMetricsView(APIView):
    @extend_schema(parameters=[WINDOW], responses=SeriesSerializer)
    def get(self, request, pk):
        host = get_or_404(hosts_for(Actor.from_request(request).principal), "host", pk=pk)
        return Response(series.host_series(host, _window(request)))


class AlertListView(APIView):
    """Open alerts first, then the latest resolved ones (`?open=true` for the open ones only)."""

    @extend_schema(
        parameters=[OpenApiParameter("open", bool, description="only the open ones")],
        responses=AlertSerializer(many=True),
    )
    def get(self, request):
        alerts = alerts_for(Actor.from_request(request).principal)
        if request.query_params.get("open") in ("1", "true"):
            alerts = alerts.filter(resolved_at__isnull=True)
        return Response(AlertSerializer(alerts[:200], many=True).data)
