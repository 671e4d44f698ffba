"""The monitoring app's policy actions, registered in its ready(); cloud admins hold them through `*`."""

from apps.core.policy import PLATFORM_KIND

METRICS_READ = "monitoring.metrics.read"
ALERT_READ = "monitoring.alert.read"
ADD_SCRAPER = "monitoring.scrape_token.create"
REMOVE_SCRAPER = "monitoring.scrape_token.delete"

POLICY_ACTIONS = [
    (METRICS_READ, PLATFORM_KIND, "Read the controller's Prometheus metrics"),
    (ALERT_READ, PLATFORM_KIND, "See the cloud's alerts"),
    (ADD_SCRAPER, PLATFORM_KIND, "Create a token Prometheus reads the metrics with"),
    (REMOVE_SCRAPER, PLATFORM_KIND, "Delete a scrape token"),
]
