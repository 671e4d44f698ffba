"""Where moves meet the apps around them: networks and metering.

Each is one function, called in the transaction that records the change:

- `ports_arriving(instance, host)`: the instance is moving to `host` (a move
  starts, a resize is reverted to its source): its ports join that host's
  desired network state, which is synced, so the host filters its NICs before
  the guest is defined there (the agent plugs them as a spawn does).
- `ports_not_arriving(instance, host)`: the move to `host` was undone and its
  copy there is gone: its ports leave that host's state.
- `instance_moved(instance, source, destination)`: the instance's guest runs on
  `destination` now (a cold or live migration, an evacuation, a resize onto
  another host, a reverted one back): its ports are bound there and both
  hosts' network state (and that of every host filtering on its groups) is
  synced, after commit.
- `instance_usage_changed(instance, event)`: what the instance costs may have
  changed (resized, resize confirmed or reverted, migrated, evacuated): metering
  records what it is from now on, `running` with the offering it runs with, or
  `stopped` (a resized instance that was stopped). Recording the same state
  twice changes nothing (apps/metering/events.py), so a move that changes no
  offering costs nothing extra.
"""

import logging

from apps.metering.events import RUNNING, STOPPED
from apps.networks.host_work import sync_hosts
from apps.networks.services import instance_ports

from . import usage
from .models import Instance

log = logging.getLogger(__name__)


def ports_arriving(instance, host):
    sync_hosts(instance_ports.expect_ports(instance.pk, host))


def ports_not_arriving(instance, host):
    sync_hosts(instance_ports.forget_arrival(instance.pk, host))


def instance_moved(instance, source, destination):
    log.info(
        "instance %s moved from %s to %s",
        instance.pk,
        source.name if source is not None else "a host that is gone",
        destination.name,
    )
    sync_hosts(instance_ports.rebind_ports(instance.pk, destination))


def instance_usage_changed(instance, event):
    log.info("instance %s: usage changes (%s)", instance.pk, event)
    # A paused guest still holds its host, as billing counts it (docs/billing.md).
    running = Instance.objects.filter(pk=instance.pk, power_state__in=("running", "paused")).exists()
    usage.record_instance_usage(instance.pk, RUNNING if running else STOPPED)
