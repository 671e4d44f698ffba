"""Ports: a NIC of an instance, or an address-holding interface of the network itself.

Everything that holds an address on a network is a port: an instance's NIC
(`compute`), a tenant's unattached port (""), the DHCP server, a router's
interface and gateway, and the address behind a floating IP. The port's fixed
IPs are the SubnetAddress rows that name it. Its MAC is unique across the
cloud by constraint.
"""

import uuid

from django.db import models
from django.db.models import Q

from apps.core.tree import PLATFORM

from ..fields import MacAddressField
from .networks import NAME_LENGTH, Network

TAP_PREFIX = "tap"
HOSTNAME_PATTERN = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)?$"
# "tap" and 11 hex digits of the port's id: the agent's tap names (agent.protocol.is_tap_name) leave
# one of Linux's 15 characters free. host_state.py's SQL builds the same name.
TAP_NAME_LENGTH = 14


class Port(models.Model):
    UNATTACHED, COMPUTE = "", "compute"
    DHCP, ROUTER_INTERFACE, ROUTER_GATEWAY, FLOATING_IP = (
        "network:dhcp",
        "network:router_interface",
        "network:router_gateway",
        "network:floating_ip",
    )
    DEVICE_OWNERS = [
        (o, o or "none") for o in (UNATTACHED, COMPUTE, DHCP, ROUTER_INTERFACE, ROUTER_GATEWAY, FLOATING_IP)
    ]
    # Ports a tenant made (alone or with an instance): they count against the `ports` quota.
    TENANT_OWNERS = (UNATTACHED, COMPUTE)
    ROUTER_OWNERS = (ROUTER_INTERFACE, ROUTER_GATEWAY)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=NAME_LENGTH, blank=True, default="")
    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="ports")
    # None for the network's own ports (DHCP, router gateways, floating IP addresses).
    project = models.ForeignKey(
        "identity.Project", null=True, blank=True, on_delete=models.PROTECT, related_name="ports"
    )
    mac_address = MacAddressField()
    device_owner = models.CharField(max_length=32, choices=DEVICE_OWNERS, blank=True, default=UNATTACHED)
    # The instance this NIC belongs to; compute's id, with no foreign key across the layers.
    instance_id = models.UUIDField(null=True, blank=True)
    router = models.ForeignKey(
        "networks.Router", null=True, blank=True, on_delete=models.PROTECT, related_name="ports"
    )
    # Where the port is plugged in: its instance's host, or the network node of its router or DHCP.
    host = models.ForeignKey(
        "infrastructure.Host", null=True, blank=True, on_delete=models.SET_NULL, related_name="ports"
    )
    # While its instance moves (a migration, a resize or its revert), the host it is moving to: that
    # host's desired state holds the port too, so its NIC is filtered there before the guest arrives.
    arriving_host = models.ForeignKey(
        "infrastructure.Host", null=True, blank=True, on_delete=models.SET_NULL, related_name="arriving_ports"
    )
    # The name the DHCP server gives the guest: a DNS label, or empty (then one made of its address).
    hostname = models.CharField(max_length=63, blank=True, default="")
    # Made for an instance at its launch: deleted with it, where a port attached by id is only let go.
    delete_with_instance = models.BooleanField(default=False)
    # Its place among the instance's NICs (0: the guest's first interface), while it is one.
    device_index = models.PositiveSmallIntegerField(null=True, blank=True)
    security_groups = models.ManyToManyField("networks.SecurityGroup", blank=True, related_name="ports")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["mac_address"], name="port_unique_mac"),
            # It goes into dnsmasq's hosts file: nothing but a DNS label may ever reach it.
            models.CheckConstraint(
                condition=Q(hostname__regex=HOSTNAME_PATTERN), name="port_hostname_is_dns_label"
            ),
            models.CheckConstraint(
                condition=Q(instance_id__isnull=True) | Q(device_owner="compute"),
                name="port_instance_iff_compute",
            ),
            models.CheckConstraint(
                condition=Q(instance_id__isnull=True, device_index__isnull=True)
                | Q(instance_id__isnull=False, device_index__isnull=False),
                name="port_device_index_iff_instance",
            ),
            models.UniqueConstraint(
                fields=["instance_id", "device_index"],
                condition=Q(instance_id__isnull=False),
                name="port_one_nic_per_device_index",
            ),
            models.CheckConstraint(
                condition=Q(arriving_host__isnull=True) | Q(instance_id__isnull=False),
                name="port_arriving_only_with_instance",
            ),
            models.CheckConstraint(
                condition=Q(router__isnull=True)
                | Q(device_owner__in=["network:router_interface", "network:router_gateway"]),
                name="port_router_only_on_router_ports",
            ),
        ]
        indexes = [
            models.Index(
                fields=["instance_id"], name="port_instance", condition=Q(instance_id__isnull=False)
            ),
            models.Index(fields=["host"], name="port_host", condition=Q(host__isnull=False)),
            models.Index(
                fields=["arriving_host"], name="port_arriving_host", condition=Q(arriving_host__isnull=False)
            ),
            models.Index(fields=["project"], name="port_project"),
        ]

    def __str__(self):
        return self.name or str(self.id)

    def target(self):
        return self.project.target() if self.project_id else PLATFORM

    @property
    def device_name(self):
        """The host-side interface (tap) name: stable, unique, within Linux's 15 characters."""
        return (TAP_PREFIX + self.id.hex)[:TAP_NAME_LENGTH]
