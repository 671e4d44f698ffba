"""What can be metered: the resource types, their events, and which event leaves a resource metered.

A usage event states what a resource is from its time on; it is not a delta.
Each resource type has one event that puts it in its metered state (an instance
running, an image stored, an address allocated, a network existing) and events
that take it out. Stating the same thing twice changes nothing, so a caller
that records "running" for an instance already running does no harm.
"""

from dataclasses import dataclass

INSTANCE, IMAGE, SNAPSHOT, FLOATING_IP, NETWORK = "instance", "image", "snapshot", "floating_ip", "network"

RUNNING, STOPPED, DELETED = "running", "stopped", "deleted"
STORED = "stored"
ALLOCATED, RELEASED = "allocated", "released"
CREATED = "created"


@dataclass(frozen=True)
class Lifecycle:
    metered: str
    unmetered: tuple
    # The metered event must carry the offering (instances) or the size in bytes (storage).
    needs_offering: bool = False
    needs_size: bool = False

    @property
    def event_types(self):
        return (self.metered, *self.unmetered)


LIFECYCLES = {
    INSTANCE: Lifecycle(RUNNING, (STOPPED, DELETED), needs_offering=True),
    IMAGE: Lifecycle(STORED, (DELETED,), needs_size=True),
    SNAPSHOT: Lifecycle(STORED, (DELETED,), needs_size=True),
    FLOATING_IP: Lifecycle(ALLOCATED, (RELEASED,)),
    NETWORK: Lifecycle(CREATED, (DELETED,)),
}
RESOURCE_TYPES = tuple(LIFECYCLES)


def metered_pairs():
    """(resource type, event type) of every event after which a resource accrues usage."""
    return [(resource_type, lifecycle.metered) for resource_type, lifecycle in LIFECYCLES.items()]


def lifecycle_of(resource_type, event_type):
    """The lifecycle of `resource_type`, refusing a type or event the vocabulary does not know.

    These are programming errors of the caller, raised before anything is written.
    """
    lifecycle = LIFECYCLES.get(resource_type)
    if lifecycle is None:
        raise ValueError(f"unknown metered resource type {resource_type!r}")
    if event_type not in lifecycle.event_types:
        raise ValueError(f"{resource_type} has no event {event_type!r}")
    return lifecycle


def required_columns(resource_type, event_type):
    """What the event must carry besides the resource and project: the offering, the size, or nothing."""
    lifecycle = lifecycle_of(resource_type, event_type)
    if event_type != lifecycle.metered:
        return ()
    return (("offering_id",) if lifecycle.needs_offering else ()) + (
        ("size_bytes",) if lifecycle.needs_size else ()
    )
