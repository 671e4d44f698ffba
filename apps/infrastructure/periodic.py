"""Periodic work of the infrastructure app: silent hosts are marked down, stored limits kept current."""

from .capacity import refresh_limits
from .services.heartbeats import mark_silent_hosts_down


def mark_hosts_down():
    return mark_silent_hosts_down()


def refresh_host_limits():
    """A changed default allocation ratio reaches every host without waiting for its heartbeat."""
    return refresh_limits()
