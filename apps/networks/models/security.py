"""Security groups and their rules: what may reach a port, and what it may send.

Every project has one `default` group (a partial unique constraint keeps it
one): egress open, ingress only from members of the same group. A rule is
stateful (replies pass) and names its peer by CIDR or by group, never both; a
rule exactly like another in its group is refused by a constraint.
"""

import uuid

from django.db import models
from django.db.models import Q

from ..fields import CidrField
from .networks import NAME_LENGTH

DEFAULT_GROUP_NAME = "default"
# What a rule matches, besides its remote group: a rule is these and the group it belongs to.
MATCH_FIELDS = (
    "direction",
    "ethertype",
    "protocol",
    "port_min",
    "port_max",
    "icmp_type",
    "icmp_code",
    "remote_cidr",
)


class SecurityGroup(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # A project with groups holding quota cannot be deleted; its default group goes with it.
    project = models.ForeignKey("identity.Project", on_delete=models.CASCADE, related_name="security_groups")
    name = models.CharField(max_length=NAME_LENGTH)
    description = models.CharField(max_length=255, blank=True, default="")
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="security_group_unique_name"),
            models.UniqueConstraint(
                fields=["project"], condition=Q(is_default=True), name="security_group_one_default"
            ),
        ]

    def __str__(self):
        return self.name

    def target(self):
        return self.project.target()


class SecurityGroupRule(models.Model):
    INGRESS, EGRESS = "ingress", "egress"
    DIRECTIONS = [(d, d) for d in (INGRESS, EGRESS)]
    IPV4, IPV6 = "IPv4", "IPv6"
    ETHERTYPES = [(e, e) for e in (IPV4, IPV6)]
    TCP, UDP, SCTP, ICMP, ICMPV6 = "tcp", "udp", "sctp", "icmp", "icmpv6"
    PROTOCOLS = [(p, p) for p in (TCP, UDP, SCTP, ICMP, ICMPV6)]
    PORT_PROTOCOLS = (TCP, UDP, SCTP)
    ICMP_PROTOCOLS = (ICMP, ICMPV6)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    security_group = models.ForeignKey(SecurityGroup, on_delete=models.CASCADE, related_name="rules")
    project = models.ForeignKey(
        "identity.Project", on_delete=models.CASCADE, related_name="security_group_rules"
    )
    direction = models.CharField(max_length=8, choices=DIRECTIONS)
    ethertype = models.CharField(max_length=4, choices=ETHERTYPES)
    # None: any protocol.
    protocol = models.CharField(max_length=8, choices=PROTOCOLS, null=True, blank=True)
    port_min = models.PositiveIntegerField(null=True, blank=True)
    port_max = models.PositiveIntegerField(null=True, blank=True)
    icmp_type = models.PositiveSmallIntegerField(null=True, blank=True)
    icmp_code = models.PositiveSmallIntegerField(null=True, blank=True)
    remote_cidr = CidrField(null=True, blank=True)
    remote_group = models.ForeignKey(
        SecurityGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="referenced_by"
    )
    description = models.CharField(max_length=255, blank=True, default="")
    # False for the default group's first rules, which the project did not ask for: they hold no quota.
    holds_quota = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(remote_cidr__isnull=True) | Q(remote_group__isnull=True),
                name="rule_one_remote",
            ),
            # Spelled out with IS NOT NULL: a CHECK whose expression is NULL passes.
            models.CheckConstraint(
                condition=Q(port_min__isnull=True, port_max__isnull=True)
                | Q(
                    protocol__isnull=False,
                    protocol__in=["tcp", "udp", "sctp"],
                    port_min__isnull=False,
                    port_max__isnull=False,
                    port_min__gte=1,
                    port_max__lte=65535,
                    port_min__lte=models.F("port_max"),
                ),
                name="rule_port_range_valid",
            ),
            models.CheckConstraint(
                condition=Q(icmp_type__isnull=True, icmp_code__isnull=True)
                | (
                    Q(protocol__isnull=False, protocol__in=["icmp", "icmpv6"])
                    & Q(icmp_type__isnull=False, icmp_type__lte=255)
                    & (Q(icmp_code__isnull=True) | Q(icmp_code__lte=255))
                ),
                name="rule_icmp_valid",
            ),
            models.UniqueConstraint(
                fields=["security_group", *MATCH_FIELDS, "remote_group"],
                nulls_distinct=False,
                name="rule_unique_in_group",
            ),
        ]

    def __str__(self):
        return f"{self.direction} {self.ethertype} {self.protocol or 'any'}"

    def target(self):
        return self.project.target()
