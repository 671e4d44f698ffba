"""Routers of a project and the floating IPs they translate.

A router lives on one host with the network-node role (`host`). Its interfaces
and its gateway are ports (`Port.router`); the gateway sits on an external
network (a public pool) and SNATs what leaves through it when `enable_snat`.
A floating IP holds its public address through a port of the public pool, and
while associated names the fixed IP it DNATs to and the router that does it;
one fixed IP has at most one floating IP, by constraint.
"""

import uuid

from django.db import models
from django.db.models import Q

from .networks import NAME_LENGTH, Network
from .ports import Port


class Router(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=NAME_LENGTH)
    project = models.ForeignKey("identity.Project", on_delete=models.PROTECT, related_name="routers")
    zone = models.ForeignKey("infrastructure.Zone", on_delete=models.PROTECT, related_name="routers")
    host = models.ForeignKey("infrastructure.Host", on_delete=models.PROTECT, related_name="routers")
    gateway_port = models.OneToOneField(
        Port, null=True, blank=True, on_delete=models.PROTECT, related_name="gateway_of"
    )
    enable_snat = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["project"], name="router_project")]

    def __str__(self):
        return self.name

    def target(self):
        return self.project.target()


class FloatingIP(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("identity.Project", on_delete=models.PROTECT, related_name="floating_ips")
    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="floating_ips")
    # The public address, held through this port of the pool (copied here: it never changes).
    address_port = models.OneToOneField(Port, on_delete=models.PROTECT, related_name="floating_ip")
    floating_ip_address = models.GenericIPAddressField()
    fixed_port = models.ForeignKey(
        Port, null=True, blank=True, on_delete=models.PROTECT, related_name="floating_ips"
    )
    fixed_ip_address = models.GenericIPAddressField(null=True, blank=True)
    router = models.ForeignKey(
        Router, null=True, blank=True, on_delete=models.PROTECT, related_name="floating_ips"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(fixed_port__isnull=True, fixed_ip_address__isnull=True, router__isnull=True)
                | Q(fixed_port__isnull=False, fixed_ip_address__isnull=False, router__isnull=False),
                name="floating_ip_associated_fully_or_not",
            ),
            models.UniqueConstraint(
                fields=["fixed_port", "fixed_ip_address"], name="floating_ip_one_per_fixed_ip"
            ),
        ]
        indexes = [models.Index(fields=["project"], name="floating_ip_project")]

    def __str__(self):
        return self.floating_ip_address

    def target(self):
        return self.project.target()

    @property
    def associated(self):
        return self.fixed_port_id is not None
