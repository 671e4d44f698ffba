"""Usage events recorded the way compute, images and networks record them, under a controlled clock.

Each helper travels to `at` (time-machine) and calls the metering recorder
exactly as the integration calls it inside the state change's transaction, so
the event's time is the clock's, as it will be in production.
"""

from datetime import UTC, datetime

import time_machine

from apps.metering import events as e
from apps.metering.recorder import record


def at(text):
    """'2026-11-03 10:15:30' (UTC) as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _record(when, resource_type, event_type, resource, project, name=None, **extra):
    with time_machine.travel(at(when) if isinstance(when, str) else when, tick=False):
        record(
            resource_type,
            event_type,
            resource_id=resource,
            resource_name=name or f"{resource_type}-{str(resource)[:8]}",
            project_id=project.pk,
            **extra,
        )


def instance_running(when, instance, project, offering, name=None):
    _record(
        when,
        e.INSTANCE,
        e.RUNNING,
        instance,
        project,
        name,
        offering_id=offering.pk,
        offering_name=offering.name,
    )


def instance_stopped(when, instance, project, name=None):
    _record(when, e.INSTANCE, e.STOPPED, instance, project, name)


def instance_deleted(when, instance, project):
    _record(when, e.INSTANCE, e.DELETED, instance, project)


def stored(when, resource_type, resource, project, size_bytes):
    _record(when, resource_type, e.STORED, resource, project, size_bytes=size_bytes)


def storage_deleted(when, resource_type, resource, project):
    _record(when, resource_type, e.DELETED, resource, project)


def floating_ip(when, event_type, address, project):
    _record(when, e.FLOATING_IP, event_type, address, project)


def network(when, event_type, net, project):
    _record(when, e.NETWORK, event_type, net, project)
