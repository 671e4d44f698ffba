"""Where moves meet two apps built in parallel: networks (issue 14) and metering (issue 15).

Each is one function, called in the transaction that records the change, so the
lead wires the other app here and nowhere else when it merges:

- `instance_moved(instance, source, destination)`: the instance's guest runs on
  `destination` now (a cold or live migration, an evacuation, a resize onto
  another host, a reverted one back). Networks will re-bind the instance's ports
  to `destination` and sync both hosts' network state here
  (`apps.networks.services.rebind_ports(instance_id, new_host)`). Not wired yet:
  today it only logs, for operators.
- `instance_usage_changed(instance, event)`: what the instance costs may have
  changed (resized, resize confirmed or reverted, migrated, evacuated). Metering
  will `record(...)` the usage here. Not wired yet: today it only logs.
"""

import logging

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
