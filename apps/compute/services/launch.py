"""Checks of what a launch asks for: name, user data, scheduler hints, and the objects it names."""

import ipaddress
import uuid

from apps.core.errors import PermissionDenied, ValidationFailed
from apps.infrastructure.models import Zone
from apps.infrastructure.selectors import sees_hosts

from .. import states
from ..models import AffinityGroup, Keypair, ServiceOffering
from ..selectors import available_in, instances_for

NAME_MAX = 63
USER_DATA_MAX_BYTES = 65535
HINTS = frozenset({"same_host", "different_host", "build_near_host_ip", "cidr"})


def checked_name(name):
    name = (name or "").strip()
    if not 1 <= len(name) <= NAME_MAX or not name.isprintable():
        raise ValidationFailed(
            f"An instance name has 1 to {NAME_MAX} printable characters.", code="bad_instance_name"
        )
    return name


def checked_user_data(user_data):
    if len(user_data) > USER_DATA_MAX_BYTES:
        raise ValidationFailed(
            f"User data is at most {USER_DATA_MAX_BYTES} bytes.",
            code="user_data_too_large",
            details={"size_bytes": len(user_data)},
        )
    return bytes(user_data)


def _not_found(what, code, value):
    return ValidationFailed(
        f"No such {what}.", code=code, details={f"{code.removesuffix('_not_found')}_id": str(value)}
    )


def offering_for(project, offering_id):
    offering = ServiceOffering.objects.filter(available_in(project.domain.path), pk=offering_id).first()
    if offering is None:
        raise _not_found("service offering", "offering_not_found", offering_id)
    return offering


def keypair_for(project, keypair_id):
    if keypair_id is None:
        return None
    keypair = Keypair.objects.filter(project=project, pk=keypair_id).first()
    if keypair is None:
        raise _not_found("keypair in this project", "keypair_not_found", keypair_id)
    return keypair


def zone_for(zone_id):
    if zone_id is None:
        return None
    zone = Zone.objects.filter(pk=zone_id, enabled=True).first()
    if zone is None:
        raise _not_found("availability zone", "zone_not_found", zone_id)
    return zone


def zone_of_networks(zone, network_zone_ids):
    """The zone to place in: the one asked for, else the instance's networks' zone (a network is in one)."""
    if zone is not None:
        if network_zone_ids - {zone.pk}:
            raise ValidationFailed(
                f"The instance's networks are not in zone {zone}.", code="network_not_in_zone"
            )
        return zone.pk
    return next(iter(network_zone_ids), None)


def locked_group(project, group_id):
    """The group, locked: its members are placed one at a time, so two cannot both take one host."""
    if group_id is None:
        return None
    group = AffinityGroup.objects.select_for_update().filter(project=project, pk=group_id).first()
    if group is None:
        raise _not_found("affinity group in this project", "affinity_group_not_found", group_id)
    return group


def group_hosts(group):
    if group is None:
        return frozenset()
    return frozenset(
        group.instances.exclude(vm_state=states.DELETED)
        .filter(host__isnull=False)
        .values_list("host_id", flat=True)
    )


def _bad_hint(message):
    return ValidationFailed(message, code="bad_scheduler_hint")


def _instance_ids(value, hint):
    values = value if isinstance(value, list) else [value]
    try:
        return {uuid.UUID(str(v)) for v in values}
    except ValueError as exc:
        raise _bad_hint(f"{hint} lists instance ids.") from exc


def _hosts_of(principal, ids, hint):
    """Hosts of instances the caller can see; naming one they cannot see is the same as a wrong id."""
    rows = dict(
        instances_for(principal)
        .filter(pk__in=ids)
        .exclude(vm_state=states.DELETED)
        .values_list("id", "host_id")
    )
    if set(rows) != ids:
        raise _bad_hint(f"{hint} names instances that do not exist.")
    return frozenset(h for h in rows.values() if h is not None)


def placement_hints(principal, hints):
    """{same_host, different_host: host ids; near_network: CIDR or None} from the API's scheduler hints.

    build_near_host_ip with cidr is for those who may see hosts: it names their management addresses.
    """
    hints = hints or {}
    unknown = set(hints) - HINTS
    if unknown:
        raise _bad_hint(f"Unknown scheduler hints: {', '.join(sorted(unknown))}.")
    parsed = {"same_host": frozenset(), "different_host": frozenset(), "near_network": None}
    for hint in ("same_host", "different_host"):
        if hints.get(hint):
            parsed[hint] = _hosts_of(principal, _instance_ids(hints[hint], hint), hint)
    near, cidr = hints.get("build_near_host_ip"), hints.get("cidr")
    if (near or cidr) and not sees_hosts(principal):
        # Placing by the hosts' management addresses would let a tenant probe them.
        raise PermissionDenied(
            "build_near_host_ip and cidr are hints for cloud administrators.", code="hint_not_allowed"
        )
    if bool(near) != bool(cidr):
        raise _bad_hint("build_near_host_ip and cidr go together.")
    if near:
        try:
            prefix = int(str(cidr).lstrip("/"))
            parsed["near_network"] = str(
                ipaddress.ip_network(f"{ipaddress.ip_address(near)}/{prefix}", strict=False)
            )
        except ValueError as exc:
            raise _bad_hint("build_near_host_ip is an address and cidr a prefix length such as /24.") from exc
    return parsed
