"""Networks, who may use them, their subnets, and the addresses IPAM manages in each subnet.

Invariants that hold under any concurrency are constraints here, not code:
one VLAN id per zone, one flat network per physical network of a zone, no two
overlapping subnets in one network (a GiST exclusion constraint on `cidr`),
and one row per (subnet, address) in `SubnetAddress`, which is what makes an
address impossible to give twice.
"""

import uuid

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, RangeOperators
from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models import F, Func, Q, Value

from apps.core.tree import PLATFORM

from ..fields import CidrField

VLAN_MIN, VLAN_MAX = 1, 4094
MTU_MIN, MTU_MAX = 576, 9216
IPV6_MIN_MTU = 1280
NAME_LENGTH = 64


def _vlan_range(low, high):
    return Func(F(low), F(high), Value("[]"), function="int4range", output_field=models.Field())


class VlanPool(models.Model):
    """A range of VLAN ids of one physical network of a zone, from which tenant networks take theirs."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    zone = models.ForeignKey("infrastructure.Zone", on_delete=models.PROTECT, related_name="vlan_pools")
    physical_network = models.CharField(max_length=NAME_LENGTH)
    vlan_min = models.PositiveIntegerField()
    vlan_max = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["zone", "vlan_min"]
        constraints = [
            models.CheckConstraint(
                condition=Q(vlan_min__gte=VLAN_MIN, vlan_max__lte=VLAN_MAX, vlan_min__lte=F("vlan_max")),
                name="vlan_pool_range_valid",
            ),
            ExclusionConstraint(
                name="vlan_pool_no_overlap_in_zone",
                index_type="gist",
                expressions=[
                    (F("zone"), RangeOperators.EQUAL),
                    (_vlan_range("vlan_min", "vlan_max"), RangeOperators.OVERLAPS),
                ],
            ),
        ]

    def __str__(self):
        return f"{self.physical_network} {self.vlan_min}-{self.vlan_max}"

    def target(self):
        return PLATFORM

    def vlans_used(self):
        """How many networks of its zone have a VLAN id in its range."""
        return Network.objects.filter(
            zone_id=self.zone_id, vlan_id__gte=self.vlan_min, vlan_id__lte=self.vlan_max
        ).count()


class Network(models.Model):
    """A layer-2 network of one zone: flat (a physical network as is), flat with DHCP, or a VLAN on one.

    A network with a project belongs to it. One without is a cloud admin's
    shared network, usable by the domains and projects its `access` rows name,
    or, when `external`, a public pool whose addresses become floating IPs and
    router gateways.
    """

    FLAT, FLAT_DHCP, VLAN = "flat", "flat_dhcp", "vlan"
    TYPES = [(t, t) for t in (FLAT, FLAT_DHCP, VLAN)]
    WITH_DHCP = (FLAT_DHCP, VLAN)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=NAME_LENGTH)
    description = models.CharField(max_length=255, blank=True, default="")
    project = models.ForeignKey(
        "identity.Project", null=True, blank=True, on_delete=models.PROTECT, related_name="networks"
    )
    zone = models.ForeignKey("infrastructure.Zone", on_delete=models.PROTECT, related_name="networks")
    network_type = models.CharField(max_length=16, choices=TYPES)
    physical_network = models.CharField(max_length=NAME_LENGTH)
    vlan_id = models.PositiveIntegerField(null=True, blank=True)
    mtu = models.PositiveIntegerField(default=1500)
    external = models.BooleanField(default=False)
    # The network node whose dnsmasq answers this network's DHCP (networks WITH_DHCP only).
    dhcp_host = models.ForeignKey(
        "infrastructure.Host", null=True, blank=True, on_delete=models.PROTECT, related_name="dhcp_networks"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    network_type="vlan", vlan_id__isnull=False, vlan_id__gte=VLAN_MIN, vlan_id__lte=VLAN_MAX
                )
                | (~Q(network_type="vlan") & Q(vlan_id__isnull=True)),
                name="network_vlan_id_iff_vlan",
            ),
            models.UniqueConstraint(fields=["zone", "vlan_id"], name="network_unique_vlan_in_zone"),
            models.UniqueConstraint(
                fields=["zone", "physical_network"],
                condition=Q(network_type__in=["flat", "flat_dhcp"]),
                name="network_one_flat_per_physical_network",
            ),
            models.CheckConstraint(condition=Q(mtu__gte=MTU_MIN, mtu__lte=MTU_MAX), name="network_mtu_valid"),
            models.CheckConstraint(
                condition=Q(external=False) | Q(project__isnull=True), name="network_external_is_shared"
            ),
        ]
        indexes = [models.Index(fields=["project"], name="network_project")]

    def __str__(self):
        return self.name

    @property
    def shared(self):
        return self.project_id is None

    @property
    def has_dhcp(self):
        return self.network_type in self.WITH_DHCP

    def target(self):
        """Reading and changing it: inside its project, or the platform's for a shared network."""
        return self.project.target() if self.project_id else PLATFORM


class NetworkAccess(models.Model):
    """A shared network is usable by this domain (and every domain under it) or by this project."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="access")
    domain = models.ForeignKey("identity.Domain", null=True, blank=True, on_delete=models.CASCADE)
    project = models.ForeignKey("identity.Project", null=True, blank=True, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(domain__isnull=True) ^ Q(project__isnull=True), name="network_access_one_grantee"
            ),
            models.UniqueConstraint(fields=["network", "domain"], name="network_access_unique_domain"),
            models.UniqueConstraint(fields=["network", "project"], name="network_access_unique_project"),
        ]


class Subnet(models.Model):
    """An IPv4 or IPv6 range of a network, with its gateway, DNS servers and allocation pools.

    IPv4 addresses are allocated from the pools (`allocation_pools`, minus the
    `reserved_addresses`); IPv6 subnets are /64 and configured by SLAAC, each
    port's address made from its MAC (EUI-64).
    """

    # Addresses from router advertisements: the only way hosts configure IPv6 (dnsmasq's RAs).
    SLAAC = "slaac"
    IPV6_MODES = [(SLAAC, SLAAC)]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="subnets")
    name = models.CharField(max_length=NAME_LENGTH, blank=True, default="")
    ip_version = models.PositiveSmallIntegerField()
    cidr = CidrField()
    gateway_ip = models.GenericIPAddressField(null=True, blank=True)
    dns_nameservers = ArrayField(models.GenericIPAddressField(), default=list, blank=True)
    # [[first, last], ...] as given; the addresses themselves are SubnetAddress rows.
    allocation_pools = models.JSONField(default=list, blank=True)
    reserved_addresses = ArrayField(models.GenericIPAddressField(), default=list, blank=True)
    ipv6_mode = models.CharField(max_length=24, choices=IPV6_MODES, null=True, blank=True)
    enable_dhcp = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["network", "ip_version", "cidr"]
        constraints = [
            ExclusionConstraint(
                name="subnet_no_overlap_in_network",
                index_type="gist",
                expressions=[
                    (F("network"), RangeOperators.EQUAL),
                    (OpClass("cidr", name="inet_ops"), RangeOperators.OVERLAPS),
                ],
            ),
            models.CheckConstraint(
                condition=Q(ip_version=Func(F("cidr"), function="family")), name="subnet_version_matches_cidr"
            ),
            models.CheckConstraint(
                condition=Q(gateway_ip__isnull=True) | Q(cidr__net_contains=F("gateway_ip")),
                name="subnet_gateway_inside",
            ),
            # The hosts serve one IPv4 and one IPv6 range per network (one DHCP range, one RA prefix).
            models.UniqueConstraint(fields=["network", "ip_version"], name="subnet_one_per_ip_version"),
            models.CheckConstraint(
                condition=(Q(ip_version=4) & Q(ipv6_mode__isnull=True))
                | (Q(ip_version=6) & Q(ipv6_mode__isnull=False)),
                name="subnet_ipv6_mode_iff_ipv6",
            ),
        ]

    def __str__(self):
        return self.name or self.cidr

    def target(self):
        return self.network.target()


class SubnetAddress(models.Model):
    """One address of a subnet that IPAM manages: free, given to a port, or held after a release.

    Every address of an IPv4 subnet's pools has a row from the start (`in_pool`),
    so allocating is taking a free row, never searching the range; an address
    asked for by name outside the pools, and every IPv6 address, gets its row
    when it is given. A free row may be given again from `available_at` on.
    """

    id = models.BigAutoField(primary_key=True)
    subnet = models.ForeignKey(Subnet, on_delete=models.CASCADE, related_name="addresses")
    address = models.GenericIPAddressField()
    port = models.ForeignKey(
        "networks.Port", null=True, blank=True, on_delete=models.PROTECT, related_name="addresses"
    )
    in_pool = models.BooleanField(default=False)
    available_at = models.DateTimeField()

    class Meta:
        ordering = ["subnet", "address"]
        constraints = [
            models.UniqueConstraint(fields=["subnet", "address"], name="subnet_address_given_once"),
        ]
        indexes = [
            # The free list, least recently released first: one index probe per allocation.
            models.Index(
                fields=["subnet", "available_at", "address"],
                name="subnet_address_free",
                condition=Q(port__isnull=True, in_pool=True),
            ),
            models.Index(fields=["port"], name="subnet_address_port", condition=Q(port__isnull=False)),
        ]

    def __str__(self):
        return self.address
