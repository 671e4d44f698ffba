"""Periodic work of the infrastructure app: hosts that miss heartbeats are marked down."""

from apps.jobs.registry import periodic

from .services.heartbeats import mark_silent_hosts_down


@periodic("infrastructure.mark_silent_hosts_down")
def mark_hosts_down():
    return mark_silent_hosts_down()
