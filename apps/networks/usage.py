"""What networks tell metering: a floating IP allocated or released, a project's network created or deleted,
recorded in the transaction of that change.

A floating IP is billed per address-hour from its allocation to its release,
whether associated or not (it holds a public address either way), so
associating, moving and disassociating it record nothing. A network is billed
per network-hour while it exists, if it belongs to a project: a shared
network or a public pool belongs to no project and is the cloud's own, billed
to no one. Nothing else makes or removes these rows (every reference to them
is PROTECT, so no project, pool or network goes while they exist).
"""

from apps.metering.events import ALLOCATED, CREATED, DELETED, FLOATING_IP, NETWORK, RELEASED
from apps.metering.recorder import record


def _floating_ip(floating, event_type):
    record(
        FLOATING_IP,
        event_type,
        resource_id=floating.pk,
        resource_name=str(floating.floating_ip_address),
        project_id=floating.project_id,
    )


def floating_ip_allocated(floating):
    _floating_ip(floating, ALLOCATED)


def floating_ip_released(floating):
    _floating_ip(floating, RELEASED)


def _network(network, event_type):
    if network.project_id is not None:
        record(
            NETWORK,
            event_type,
            resource_id=network.pk,
            resource_name=network.name,
            project_id=network.project_id,
        )


def network_created(network):
    _network(network, CREATED)


def network_deleted(network):
    _network(network, DELETED)
