"""Security groups and their rules, and every project's `default` group.

The default group is made when a project is made (identity's project_created signal) and,
for projects older than this app or made in bulk, the first time something
needs it; one INSERT … ON CONFLICT DO NOTHING under a partial unique
constraint keeps it one per project under any concurrency. It and its four
rules hold no quota: the project did not ask for them.
"""

import ipaddress

from django.db import transaction

from apps.audit.recorder import audited
from apps.core.errors import Conflict, NotFound, ValidationFailed
from apps.identity.services.common import lock_for_delete, require
from apps.quotas import services as quotas

from .. import fanout
from ..host_work import sync_hosts
from ..locking import for_key_share, save_or_refuse
from ..models import DEFAULT_GROUP_NAME, SecurityGroup, SecurityGroupRule
from .common import checked_name

R = SecurityGroupRule
_ETHERTYPE_VERSION = {R.IPV4: 4, R.IPV6: 6}


_DEFAULT_GROUP_SQL = "SELECT * FROM networks_securitygroup WHERE project_id = %s AND is_default FOR KEY SHARE"


def _locked_default(project):
    return list(SecurityGroup.objects.raw(_DEFAULT_GROUP_SQL, [project.pk]))


def default_group(project):
    """The project's default group, made now if it has none; locked FOR KEY SHARE."""
    found = _locked_default(project)
    if found:
        return found[0]
    group = SecurityGroup(
        project=project,
        name=DEFAULT_GROUP_NAME,
        is_default=True,
        description="Egress open; ingress only from members of this group.",
    )
    SecurityGroup.objects.bulk_create([group], ignore_conflicts=True)
    found = _locked_default(project)
    if found[0].pk == group.pk:
        R.objects.bulk_create(
            [
                R(
                    security_group=group,
                    project=project,
                    direction=direction,
                    ethertype=ethertype,
                    remote_group=remote,
                    holds_quota=False,
                )
                for ethertype in (R.IPV4, R.IPV6)
                for direction, remote in ((R.EGRESS, None), (R.INGRESS, group))
            ]
        )
    return found[0]


def ensure_default_group(project):
    """default_group in a transaction of its own, for a read that finds the project without one."""
    with transaction.atomic():
        return default_group(project)


def _checked_group_name(name):
    name = checked_name(name, "security group")
    if name == DEFAULT_GROUP_NAME:
        raise ValidationFailed(
            f"'{DEFAULT_GROUP_NAME}' is the name of the project's own group.", code="reserved_name"
        )
    return name


def _name_taken(name):
    return {
        "security_group_unique_name": Conflict(
            f"A security group named '{name}' already exists.", code="already_exists"
        )
    }


def create_security_group(actor, project, *, name, description=""):
    action = "networks.security_group.create"
    with audited(actor, action, target=project.target()) as op:
        require(actor, action, project.target(), f"You may not add security groups to project {project}.")
        group = SecurityGroup(project=project, name=_checked_group_name(name), description=description[:255])
        op.object = group
        save_or_refuse(group, _name_taken(group.name))
        quotas.claim(project, {"security_groups": 1}, group)
    return group


def update_security_group(actor, group, *, name=None, description=None):
    action = "networks.security_group.update"
    with audited(actor, action, target=group.target(), obj=group) as op:
        require(actor, action, group.target(), "You may not change this security group.")
        if name is not None and name != group.name:
            if group.is_default:
                raise Conflict("The default security group keeps its name.", code="security_group_is_default")
            group.name = _checked_group_name(name)
        if description is not None:
            group.description = description[:255]
        op.details = {"name": group.name}
        save_or_refuse(group, _name_taken(group.name))
    return group


def delete_security_group(actor, group):
    """Delete a group no port uses; rules of other groups that name it as their remote go with it."""
    action = "networks.security_group.delete"
    with audited(actor, action, target=group.target(), obj=group) as op:
        require(actor, action, group.target(), "You may not delete this security group.")
        if group.is_default:
            raise Conflict(
                "A project's default security group cannot be deleted.", code="security_group_is_default"
            )
        lock_for_delete(group)
        if group.ports.exists():
            raise Conflict(f"Security group {group} is used by ports.", code="security_group_in_use")
        rules = list(R.objects.filter(security_group=group) | R.objects.filter(remote_group=group))
        op.details = {"rules_deleted": len(rules)}
        sync_hosts(fanout.hosts_for_groups({r.security_group_id for r in rules}))
        for rule in rules:
            quotas.release(rule)
        R.objects.filter(pk__in=[r.pk for r in rules]).delete()
        quotas.release(group)
        group.delete()


def _checked_protocol(protocol, ethertype):
    if protocol in (None, "", "any"):
        return None
    protocol = str(protocol).lower()
    if protocol not in dict(R.PROTOCOLS):
        raise ValidationFailed(
            f"The protocol is one of {', '.join(dict(R.PROTOCOLS))} or any.", code="bad_protocol"
        )
    if (protocol, ethertype) in ((R.ICMP, R.IPV6), (R.ICMPV6, R.IPV4)):
        raise ValidationFailed(f"{protocol} does not go with {ethertype}.", code="bad_protocol")
    return protocol


def _checked_ports(protocol, port_min, port_max):
    if port_min is None and port_max is None:
        return None, None
    if protocol not in R.PORT_PROTOCOLS:
        raise ValidationFailed("Port ranges are for tcp, udp and sctp rules.", code="bad_port_range")
    port_max = port_min if port_max is None else port_max
    port_min = port_max if port_min is None else port_min
    if not 1 <= port_min <= port_max <= 65535:
        raise ValidationFailed(
            "A port range is 1-65535, its minimum not above its maximum.", code="bad_port_range"
        )
    return port_min, port_max


def _checked_icmp(protocol, icmp_type, icmp_code):
    if icmp_type is None and icmp_code is None:
        return None, None
    if protocol not in R.ICMP_PROTOCOLS:
        raise ValidationFailed("ICMP type and code are for icmp and icmpv6 rules.", code="bad_icmp")
    if icmp_type is None or not 0 <= icmp_type <= 255 or not (icmp_code is None or 0 <= icmp_code <= 255):
        raise ValidationFailed("An ICMP type is 0-255; a code (0-255) needs a type.", code="bad_icmp")
    return icmp_type, icmp_code


def _checked_remote_cidr(remote_cidr, ethertype):
    if remote_cidr in (None, ""):
        return None
    try:
        net = ipaddress.ip_network(str(remote_cidr).strip(), strict=False)
    except ValueError as exc:
        raise ValidationFailed(f"{remote_cidr!r} is not a CIDR.", code="bad_cidr") from exc
    if net.version != _ETHERTYPE_VERSION[ethertype]:
        raise ValidationFailed(f"{net} is not an {ethertype} network.", code="bad_cidr")
    return str(net)


def create_rule(
    actor,
    group,
    *,
    direction,
    ethertype=R.IPV4,
    protocol=None,
    port_min=None,
    port_max=None,
    icmp_type=None,
    icmp_code=None,
    remote_cidr=None,
    remote_group_id=None,
    description="",
):
    action = "networks.security_group.update"
    with audited(actor, action, target=group.target()) as op:
        require(actor, action, group.target(), "You may not change this security group.")
        if direction not in dict(R.DIRECTIONS) or ethertype not in _ETHERTYPE_VERSION:
            raise ValidationFailed("direction is ingress or egress; ethertype IPv4 or IPv6.", code="bad_rule")
        protocol = _checked_protocol(protocol, ethertype)
        rule = R(
            security_group=group,
            project_id=group.project_id,
            direction=direction,
            ethertype=ethertype,
            protocol=protocol,
            remote_cidr=_checked_remote_cidr(remote_cidr, ethertype),
            description=(description or "")[:255],
        )
        rule.port_min, rule.port_max = _checked_ports(protocol, port_min, port_max)
        rule.icmp_type, rule.icmp_code = _checked_icmp(protocol, icmp_type, icmp_code)
        if remote_group_id is not None and rule.remote_cidr is not None:
            raise ValidationFailed("A rule names a remote CIDR or a remote group, not both.", code="bad_rule")
        locked = {
            str(g.pk): g
            for g in for_key_share(
                SecurityGroup.objects.filter(
                    project_id=group.project_id, id__in={str(group.pk), str(remote_group_id or group.pk)}
                )
            )
        }
        if str(group.pk) not in locked:
            raise NotFound("No such security group.")
        if remote_group_id is not None:
            rule.remote_group = locked.get(str(remote_group_id))
            if rule.remote_group is None:
                raise ValidationFailed(
                    "The remote group is not a group of this project.", code="security_group_not_found"
                )
        op.object = rule
        save_or_refuse(
            rule,
            {
                "rule_unique_in_group": Conflict(
                    "This group already has that rule.", code="security_group_rule_exists"
                )
            },
        )
        sync_hosts(fanout.hosts_for_security_group(group.pk))
        quotas.claim(group.project, {"security_group_rules": 1}, rule)
    return rule


def delete_rule(actor, rule):
    action = "networks.security_group.update"
    with audited(actor, action, target=rule.target(), obj=rule):
        require(actor, action, rule.target(), "You may not change this security group.")
        lock_for_delete(rule)
        sync_hosts(fanout.hosts_for_security_group(rule.security_group_id))
        quotas.release(rule)
        rule.delete()
