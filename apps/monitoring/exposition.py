"""`GET /metrics`: the controller's Prometheus exposition, for cloud admins and scrape tokens.

This process's request metrics (apps/monitoring/request_metrics.py) and the
cloud's state read from the database (apps/monitoring/cluster_metrics.py), in
Prometheus's text format written by prometheus_client.
"""

from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from apps.core.actor import Actor
from apps.core.errors import PermissionDenied
from apps.core.tree import PLATFORM

from . import request_metrics
from .cluster_metrics import ClusterCollector
from .policy_actions import METRICS_READ
from .scrape_tokens import ScrapeTokenAuthentication


class MetricsView(APIView):
    authentication_classes = [ScrapeTokenAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES]

    def get(self, request):
        if not Actor.from_request(request).can(METRICS_READ, PLATFORM):
            raise PermissionDenied(
                "Only cloud admins and scrape tokens read the metrics.", code="not_allowed"
            )
        cluster = CollectorRegistry(auto_describe=False)
        cluster.register(ClusterCollector())
        body = generate_latest(request_metrics.REGISTRY) + generate_latest(cluster)
        # The text format every Prometheus reads (our names need none of 1.0.0's escaping).
        return HttpResponse(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)
