"""Where moves meet the apps around them: networks and metering.

Each is one function, called in the transaction that records the change:

- `instance_moved(instance, source, destination)`: the instance's guest runs on
  `destination` now (a cold or live migration, an evacuation, a resize onto
  another host, a reverted one back). Networks will re-bind the instance's ports
  to `destination` and sync both hosts' network state here
  (`apps.networks.services.instance_ports.rebind_ports`) once the destination
  also plugs the ports it receives. Until then it only logs, and moves refuse
  instances with network interfaces (moves/networked.py).
- `instance_usage_changed(instance, event)`: what the instance costs may have
  changed (resized, resize confirmed or reverted, migrated, evacuated): metering
  records what it is from now on, `running` with the offering it runs with, or
  `stopped` (a resized instance that was stopped). Recording the same state
  twice changes nothing (apps/metering/events.py), so a move that changes no
  offering costs nothing extra.
"""

import logging

from apps.metering.events import RUNNING, STOPPED

from . import usage
from .models import Instance

log = logging.getLogger(__name__)


def instance_moved(instance, source, destination):
    log.info(
        "instance %s moved from %s to %s",
        instance.pk,
        source.name if source is not None else "a host that is gone",
        destination.name,
    )


def instance_usage_changed(instance, event):
    log.info("instance %s: usage changes (%s)", instance.pk, event)
    # A paused guest still holds its host, as billing counts it (docs/billing.md).
    running = Instance.objects.filter(pk=instance.pk, power_state__in=("running", "paused")).exists()
    usage.record_instance_usage(instance.pk, RUNNING if running else STOPPED)
