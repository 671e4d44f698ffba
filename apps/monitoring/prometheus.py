"""Reading series back from Prometheus's HTTP API (`/api/v1/query_range`), one query per series.

Counters are read as their rate, gauges as they are; each is scaled to the
series' unit with agent.protocol's PROMETHEUS_* tables, the ones the agents'
exporter is written with. Label values are escaped, never pasted raw.

A failure is logged with what Prometheus said, and answered with a fixed
message: the query names the instance's host, which a tenant may not learn.
"""

import json
import logging
import math
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.utils import timezone

from apps.core.errors import ServiceError

log = logging.getLogger(__name__)
UNAVAILABLE = "The metrics store did not answer; try again later."


class PrometheusUnavailable(ServiceError):
    status = 503
    code = "prometheus_unavailable"


def _label_value(value):
    return json.dumps(str(value))  # PromQL strings take JSON's escapes


def expression(metric, is_counter, factor, selector, rate_seconds):
    labels = ",".join(f"{name}={_label_value(value)}" for name, value in sorted(selector.items()))
    series = f"{metric}{{{labels}}}"
    inner = f"rate({series}[{rate_seconds}s])" if is_counter else series
    return f"sum({inner}) * {factor!r}"


def _query_range(query, start, end, step):
    parameters = urllib.parse.urlencode(
        {"query": query, "start": start.timestamp(), "end": end.timestamp(), "step": step}
    )
    url = f"{settings.CLOUDMGR_PROMETHEUS_URL.rstrip('/')}/api/v1/query_range?{parameters}"
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        log.error("CLOUDMGR_PROMETHEUS_URL must be an http(s) URL")
        raise PrometheusUnavailable(UNAVAILABLE)
    try:
        with urllib.request.urlopen(url, timeout=settings.CLOUDMGR_PROMETHEUS_TIMEOUT_SECONDS) as answer:  # noqa: S310
            body = json.loads(answer.read())
    except (urllib.error.URLError, OSError, ValueError) as error:
        log.warning("Prometheus did not answer %s: %s", query, error)
        raise PrometheusUnavailable(UNAVAILABLE) from error
    try:
        if body["status"] != "success":
            raise ValueError(body.get("error", ""))
        results = body["data"]["result"]
        return {int(float(at)): value for at, value in results[0]["values"]} if results else {}
    except (KeyError, IndexError, TypeError, ValueError) as error:
        log.warning("Prometheus refused %s: %s", query, error)
        raise PrometheusUnavailable(UNAVAILABLE) from error


def _number(text):
    value = float(text)
    return round(value) if math.isfinite(value) else None


def query_series(series_table, selector, since, now, step):
    """{"timestamps": [...], "series": {name: [...]}} over [since, now] every `step` seconds."""
    end = now or timezone.now()
    # Each point averages its step; a rate needs a few scrapes in its range (Grafana's $__rate_interval).
    rate_seconds = max(step, 4 * settings.CLOUDMGR_PROMETHEUS_SCRAPE_INTERVAL_SECONDS)
    found = {
        name: _query_range(expression(metric, is_counter, factor, selector, rate_seconds), since, end, step)
        for name, (metric, is_counter, factor) in series_table.items()
    }
    timestamps = sorted({at for values in found.values() for at in values})
    return {
        "timestamps": timestamps,
        "series": {
            name: [_number(values[at]) if at in values else None for at in timestamps]
            for name, values in found.items()
        },
    }
