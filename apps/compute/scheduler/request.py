"""What the scheduler is asked to place: sizes, where, and the constraints from image, hints and group."""

import uuid
from dataclasses import dataclass

from apps.infrastructure.capacity import Amounts


@dataclass(frozen=True)
class ImageTraits:
    """What the scheduler needs to know of an image."""

    architecture: str = ""
    hypervisor_type: str = ""
    isolated: bool = False


@dataclass(frozen=True)
class PlacementRequest:
    consumer_id: uuid.UUID
    amounts: Amounts
    zone_id: uuid.UUID | None = None
    host_tags: tuple = ()
    image: ImageTraits = ImageTraits()
    same_host: frozenset = frozenset()
    different_host: frozenset = frozenset()
    # build_near_host_ip and cidr together: the network hosts' management addresses must be in.
    near_network: str | None = None
    group_policy: str | None = None
    group_hosts: frozenset = frozenset()
    # Further conditions on the hosts (Q objects) the caller needs: a move's requested host, and what
    # its hosts must be able to do. Applied with the filters' own.
    conditions: tuple = ()
    # The physical networks of the instance's NICs: the host must carry every one.
    physical_networks: frozenset = frozenset()
