"""Zones, hosts, enrollment tokens and the capacity each instance holds on a host.

A host's capacity (cpus, ram_mb, disk_gb, hypervisor, arch) is what its agent
last reported; its allocation (vcpus_used, ram_mb_used, disk_gb_used) is the
sum of its `Allocation` rows, changed only by apps.infrastructure.capacity in
the same statement that checks the limit. Allocation ratios left empty on a
host take the CLOUDMGR_*_ALLOCATION_RATIO settings.
"""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q

from agent.protocol import queue_for_host
from apps.core.tree import PLATFORM

# A DNS name in lower case, at most 63 characters (the wire's limit): the agent's queue is `host.<name>`.
HOST_NAME_PATTERN = r"^(?=.{1,63}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$"
host_name_validator = RegexValidator(
    HOST_NAME_PATTERN, "A host name is a lower-case DNS name (letters, digits, '-', '.').", "bad_host_name"
)


class Zone(models.Model):
    """An availability zone: a group of hosts that fail independently of other zones."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=255, blank=True, default="")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def target(self):
        return PLATFORM


class Host(models.Model):
    # fenced: an operator confirmed the host is off; it takes no work until returned to service.
    ENROLLING, UP, DOWN, FENCED = "enrolling", "up", "down", "fenced"
    STATES = [(s, s) for s in (ENROLLING, UP, DOWN, FENCED)]
    DOMAIN_TYPES = [(t, t) for t in ("auto", "kvm", "qemu")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=63, unique=True, validators=[host_name_validator])
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="hosts")
    state = models.CharField(max_length=16, choices=STATES, default=ENROLLING)
    state_changed_at = models.DateTimeField(auto_now_add=True)
    # Admin flags: a disabled or maintenance host gets no new instances.
    enabled = models.BooleanField(default=True)
    maintenance = models.BooleanField(default=False)
    # When the maintenance switch was last set: the drain's progress is counted from then.
    maintenance_since = models.DateTimeField(null=True, blank=True)
    # Isolated hosts take only isolated images, and isolated images go only there.
    isolated = models.BooleanField(default=False)
    tags = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    domain_type = models.CharField(max_length=8, choices=DOMAIN_TYPES, default="auto")
    management_ip = models.GenericIPAddressField(null=True, blank=True)
    # The agent's Ed25519 public key (base64 of its raw bytes); the private key never leaves the host.
    public_key = models.TextField(blank=True, default="")

    # Reported by heartbeats.
    cpus = models.PositiveIntegerField(default=0)
    ram_mb = models.BigIntegerField(default=0)
    disk_gb = models.BigIntegerField(default=0)
    hypervisor_type = models.CharField(max_length=32, blank=True, default="")
    hypervisor_version = models.CharField(max_length=64, blank=True, default="")
    arch = models.CharField(max_length=32, blank=True, default="")
    protocol_version = models.PositiveIntegerField(default=0)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The latest heartbeat's extras, as the agent sent them (agent.protocol's Inventory and
    # CachedImage dicts): what the host audit compares with the database. The inventory is
    # true as of `inventory_reported_at` (the agent's stamp, never later than its receipt).
    reported_inventory = models.JSONField(default=dict, blank=True)
    inventory_reported_at = models.DateTimeField(null=True, blank=True)
    cached_images = models.JSONField(default=list, blank=True)
    stuck_operations = models.PositiveIntegerField(default=0)
    # Moves between hosts (heartbeats): where other hosts fetch disks from this one and reach its live
    # migration gateway (0: not serving), and whether its hypervisor migrates running guests.
    transfer_port = models.PositiveIntegerField(default=0)
    migration_gateway_port = models.PositiveIntegerField(default=0)
    live_migration = models.BooleanField(default=False)
    # The serial (hex) of the TLS certificate the CA issued at its last enrollment; empty: none.
    tls_certificate_serial = models.CharField(max_length=40, blank=True, default="")

    # Held by instances (see Allocation).
    vcpus_used = models.BigIntegerField(default=0)
    ram_mb_used = models.BigIntegerField(default=0)
    disk_gb_used = models.BigIntegerField(default=0)

    # (total - reserve) * ratio, kept by apps.infrastructure.capacity whenever an input changes.
    vcpus_limit = models.BigIntegerField(default=0)
    ram_mb_limit = models.BigIntegerField(default=0)
    disk_gb_limit = models.BigIntegerField(default=0)

    ram_allocation_ratio = models.FloatField(null=True, blank=True)
    cpu_allocation_ratio = models.FloatField(null=True, blank=True)
    disk_allocation_ratio = models.FloatField(null=True, blank=True)
    reserved_host_memory_mb = models.BigIntegerField(default=0)
    reserved_host_disk_mb = models.BigIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(vcpus_used__gte=0, ram_mb_used__gte=0, disk_gb_used__gte=0),
                name="host_used_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(reserved_host_memory_mb__gte=0, reserved_host_disk_mb__gte=0),
                name="host_reserve_not_negative",
            ),
            models.CheckConstraint(
                condition=(
                    (Q(ram_allocation_ratio__isnull=True) | Q(ram_allocation_ratio__gt=0))
                    & (Q(cpu_allocation_ratio__isnull=True) | Q(cpu_allocation_ratio__gt=0))
                    & (Q(disk_allocation_ratio__isnull=True) | Q(disk_allocation_ratio__gt=0))
                ),
                name="host_ratios_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["last_heartbeat_at"], name="host_up_heartbeat", condition=Q(state="up")),
            # The scheduler's default order (most free RAM first, or last when stacking), walked
            # from one end until enough hosts pass the filters.
            models.Index(
                F("ram_mb_limit") - F("ram_mb_used"),
                "id",
                name="host_schedulable_free_ram",
                condition=Q(state="up", enabled=True, maintenance=False),
            ),
        ]

    def __str__(self):
        return self.name

    def target(self):
        return PLATFORM

    @property
    def queue(self):
        return queue_for_host(self.name)

    @property
    def effective_ram_allocation_ratio(self):
        return self.ram_allocation_ratio or settings.CLOUDMGR_RAM_ALLOCATION_RATIO

    @property
    def effective_cpu_allocation_ratio(self):
        return self.cpu_allocation_ratio or settings.CLOUDMGR_CPU_ALLOCATION_RATIO

    @property
    def effective_disk_allocation_ratio(self):
        return self.disk_allocation_ratio or settings.CLOUDMGR_DISK_ALLOCATION_RATIO

    @property
    def movable_to(self):
        """Whether moves may use this host: its agent speaks the version and has a TLS certificate."""
        return self.protocol_version >= 2 and bool(self.tls_certificate_serial)

    @property
    def held_back(self):
        """Why the scheduler places nothing new here (empty when it may): capacity.schedulable() in Python."""
        reasons = {
            self.state: self.state != self.UP,
            "disabled": not self.enabled,
            "in maintenance": self.maintenance,
        }
        return [reason for reason, applies in reasons.items() if applies]

    @property
    def schedulable(self):
        return not self.held_back


class EnrollmentToken(models.Model):
    """A one-time secret that lets an agent register its public key; only its SHA-256 is stored."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="enrollment_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # Re-enrolling a host that has a key is signed with that key (a key rotation), unless an admin
    # said the key is lost: then the old key was revoked when this token was issued.
    replaces_lost_key = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]


class Allocation(models.Model):
    """What one consumer (an instance) holds on one host; the host's *_used columns sum these."""

    host = models.ForeignKey(Host, on_delete=models.PROTECT, related_name="allocations")
    consumer_id = models.UUIDField(db_index=True)
    vcpus = models.PositiveIntegerField()
    ram_mb = models.PositiveBigIntegerField()
    disk_gb = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["host", "consumer_id"], name="allocation_one_per_host_consumer")
        ]


class HostAuditFinding(models.Model):
    """One difference between what a host reports and what the database says, while it lasts.

    A finding is open until an audit of its host no longer sees it (`resolved_at`);
    the same drift seen again updates `last_seen` rather than adding a row.
    """

    EXTRA, MISSING = "extra_domain", "missing_domain"
    POWER_STATE, UNMANAGED = "power_state", "unmanaged_domain"
    # A difference between the host's network and its desired network state (the networks app's audit).
    NETWORK = "network"
    DOMAIN_KINDS = (EXTRA, MISSING, POWER_STATE, UNMANAGED)
    KINDS = [(k, k) for k in (*DOMAIN_KINDS, NETWORK)]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="audit_findings")
    kind = models.CharField(max_length=24, choices=KINDS)
    # The instance id for cloudmgr's domains, the libvirt UUID for unmanaged ones.
    subject = models.CharField(max_length=64)
    instance_id = models.UUIDField(null=True, blank=True)
    domain_name = models.CharField(max_length=255, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["host", "kind", "subject"],
                condition=Q(resolved_at__isnull=True),
                name="host_audit_one_open_finding",
            )
        ]

    def __str__(self):
        return f"{self.kind} {self.subject} on {self.host_id}"

    def target(self):
        return PLATFORM
