"""This controller process's HTTP requests, for /metrics: latency per route, answers per status.

Counted in the process (prometheus_client's metrics are thread-safe; cheroot
serves from threads), so each controller's /metrics tells its own requests;
Prometheus scrapes every controller and sums them. The route label is the URL
pattern, never the path, so it stays a short list.
"""

import time

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)
REQUEST_SECONDS = Histogram(
    "cloudmgr_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and URL pattern",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
RESPONSES = Counter(
    "cloudmgr_http_responses",
    "HTTP answers by method, URL pattern and status (5xx are the controller's errors)",
    ["method", "route", "status"],
    registry=REGISTRY,
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _route(request):
    match = getattr(request, "resolver_match", None)
    return "/" + match.route.removesuffix("$") if match is not None and match.route else "unmatched"


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in METHODS else "OTHER"
        route = _route(request)
        REQUEST_SECONDS.labels(method, route).observe(time.perf_counter() - started)
        RESPONSES.labels(method, route, str(response.status_code)).inc()
        return response
