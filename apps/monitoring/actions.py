"""The monitoring app's actions, registered with the policy (cloud admins hold them through `*`)."""

from apps.identity.policy import PLATFORM_KIND, register_action

METRICS_READ = "monitoring.metrics.read"
ALERT_READ = "monitoring.alert.read"


def register():
    for name, description in [
        (METRICS_READ, "Read the controller's Prometheus metrics"),
        (ALERT_READ, "See the cloud's alerts"),
    ]:
        register_action(name, PLATFORM_KIND, description)
