"""Offerings, keypairs, affinity groups, instances, and the moves of instances between hosts.

An instance's vm_state and task_state, and a move's status, change only through
apps/compute/states.py, which holds the allowed moves and makes each one a
compare-and-set UPDATE.
"""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from apps.core.tree import PLATFORM

from . import states


class ServiceOffering(models.Model):
    """A flavor: the size of an instance. Public, or available in some domains and their subtrees."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=255, blank=True, default="")
    vcpus = models.PositiveIntegerField()
    ram_mb = models.PositiveIntegerField()
    root_disk_gb = models.PositiveIntegerField()
    ephemeral_disk_gb = models.PositiveIntegerField(default=0)
    # Only hosts carrying every one of these tags take instances of this offering.
    host_tags = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    # Every instance of the offering gets a config drive (its metadata on a CD-ROM).
    config_drive = models.BooleanField(default=False)
    public = models.BooleanField(default=True)
    domains = models.ManyToManyField("identity.Domain", blank=True, related_name="offerings")
    # High availability: when the host is fenced, instances of this offering are rebuilt elsewhere.
    ha = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["vcpus", "ram_mb", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(vcpus__gte=1, ram_mb__gte=16, root_disk_gb__gte=1), name="offering_sizes_valid"
            )
        ]

    def __str__(self):
        return self.name

    def target(self):
        return PLATFORM

    @property
    def disk_gb(self):
        return self.root_disk_gb + self.ephemeral_disk_gb


class Keypair(models.Model):
    """An SSH public key of a project; a generated private key is shown once and never stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("identity.Project", on_delete=models.PROTECT, related_name="keypairs")
    name = models.CharField(max_length=64)
    key_type = models.CharField(max_length=32)
    public_key = models.TextField()
    fingerprint = models.CharField(max_length=64)
    created_by_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="keypair_unique_name")]

    def __str__(self):
        return self.name

    def target(self):
        return self.project.target()


class AffinityGroup(models.Model):
    """Instances that must share one host (affinity) or must each have a host of their own (anti-affinity)."""

    AFFINITY, ANTI_AFFINITY = "affinity", "anti-affinity"
    POLICIES = [(p, p) for p in (AFFINITY, ANTI_AFFINITY)]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("identity.Project", on_delete=models.PROTECT, related_name="affinity_groups")
    name = models.CharField(max_length=64)
    policy = models.CharField(max_length=16, choices=POLICIES)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="affinity_group_unique_name")]

    def __str__(self):
        return self.name

    def target(self):
        return self.project.target()


class Instance(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=63)
    # A project with live instances cannot be deleted (apps.identity.ownership); deleted ones go with it.
    project = models.ForeignKey("identity.Project", on_delete=models.CASCADE, related_name="instances")
    created_by_id = models.UUIDField(null=True, blank=True)
    offering = models.ForeignKey(ServiceOffering, on_delete=models.PROTECT, related_name="instances")
    # Kept when the image goes (a purged image's row may go with its project): the instance runs on.
    image = models.ForeignKey(
        "images.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="instances"
    )
    keypair = models.ForeignKey(
        Keypair, null=True, blank=True, on_delete=models.SET_NULL, related_name="instances"
    )
    # Copied at create: the key reaches the guest even if the keypair is deleted later.
    ssh_public_key = models.TextField(blank=True, default="")
    user_data = models.BinaryField(blank=True, default=b"")
    # Its metadata also on a CD-ROM: asked at launch, by the offering, or on a flat network (no DHCP).
    config_drive = models.BooleanField(default=False)
    # Deleting a group with live members is refused by its service; deleted members let go.
    affinity_group = models.ForeignKey(
        AffinityGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="instances"
    )
    scheduler_hints = models.JSONField(default=dict, blank=True)
    # A zone is deleted only without hosts (so without live instances); deleted instances let go.
    zone = models.ForeignKey(
        "infrastructure.Zone", null=True, blank=True, on_delete=models.SET_NULL, related_name="instances"
    )
    # Capacity is held through infrastructure.Allocation; a deleted instance keeps no host.
    host = models.ForeignKey(
        "infrastructure.Host", null=True, blank=True, on_delete=models.SET_NULL, related_name="instances"
    )

    vm_state = models.CharField(max_length=16, choices=states.VM_STATE_CHOICES, default=states.BUILDING)
    task_state = models.CharField(max_length=24, choices=states.TASK_STATE_CHOICES, null=True, blank=True)
    # As the host last reported it (libvirt's state name).
    power_state = models.CharField(max_length=16, default="nostate")
    fault_code = models.CharField(max_length=64, blank=True, default="")
    fault_message = models.CharField(max_length=1024, blank=True, default="")

    # The size at create, so what is released is exactly what was claimed.
    vcpus = models.PositiveIntegerField()
    ram_mb = models.PositiveIntegerField()
    root_disk_gb = models.PositiveIntegerField()
    ephemeral_disk_gb = models.PositiveIntegerField(default=0)
    # While a resize is unfinished (until it is confirmed or reverted): the offering it left, whose
    # copy stays on the source. The quota holds the larger of the two meanwhile.
    previous_offering = models.ForeignKey(
        ServiceOffering, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now_add=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["project", "vm_state"], name="instance_project_state"),
            models.Index(fields=["host"], name="instance_live_host", condition=~Q(vm_state="deleted")),
            models.Index(
                fields=["affinity_group"],
                name="instance_live_group",
                condition=Q(affinity_group__isnull=False) & ~Q(vm_state="deleted"),
            ),
        ]

    def __str__(self):
        return self.name

    def target(self):
        return self.project.target()

    @property
    def disk_gb(self):
        return self.root_disk_gb + self.ephemeral_disk_gb

    def quota(self):
        """What the instance holds of its project's quota, from its create until its delete is confirmed;
        during a resize, the larger of its two sizes."""
        previous = self.previous_offering
        if previous is None:
            return quota_of(self.vcpus, self.ram_mb)
        return quota_of(self.vcpus, self.ram_mb, previous.vcpus, previous.ram_mb)


def quota_of(vcpus, ram_mb, previous_vcpus=None, previous_ram_mb=None):
    """An instance's quota at one size, or at the larger of two while a resize from the previous lasts."""
    return {
        "instances": 1,
        "vcpus": max(vcpus, previous_vcpus or 0),
        "ram_mb": max(ram_mb, previous_ram_mb or 0),
    }


class Migration(models.Model):
    """One move of an instance: between hosts (cold, live, an evacuation) or a resize (on one host or two).

    Its id is also the consumer of the capacity the instance keeps on its source
    while the move lasts (apps.compute.moves.claims): the instance's own allocation
    is on the destination from the start, so both hosts hold it until the move is
    over (a resize: until it is confirmed or reverted).
    """

    RESIZE, COLD, LIVE, EVACUATION = "resize", "cold", "live", "evacuation"
    KINDS = [(k, k) for k in (RESIZE, COLD, LIVE, EVACUATION)]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="migrations")
    kind = models.CharField(max_length=16, choices=KINDS)
    status = models.CharField(max_length=16, choices=states.MIGRATION_STATUS_CHOICES, default=states.MOVING)
    # The hosts, and their names for when a host is removed later: the record outlives them.
    source = models.ForeignKey(
        "infrastructure.Host", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    destination = models.ForeignKey(
        "infrastructure.Host", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_name = models.CharField(max_length=63, blank=True, default="")
    destination_name = models.CharField(max_length=63, blank=True, default="")
    old_offering = models.ForeignKey(ServiceOffering, on_delete=models.PROTECT, related_name="+")
    new_offering = models.ForeignKey(ServiceOffering, on_delete=models.PROTECT, related_name="+")
    # The vm_state it left (active or stopped): where a confirmed or reverted resize comes back to.
    vm_state_before = models.CharField(max_length=16)
    # Why it was made: "requested", "maintenance" (a drain), "host fenced" (an evacuation).
    reason = models.CharField(max_length=32, default="requested")
    # The job carrying the move (or undoing it, or confirming it) now: its progress is the move's.
    job_id = models.UUIDField(null=True, blank=True)
    # What one step told the next: the disks the source handed over (agent.protocol.HandedOverFile
    # dicts; once they arrived, the DiskFile dicts with the checksums the destination verified), where
    # the destination of a live migration keeps instances.
    handover = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.CharField(max_length=1024, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["instance", "-created_at"], name="migration_instance_latest"),
            models.Index(
                fields=["source"],
                name="migration_unfinished_source",
                condition=Q(status__in=states.MIGRATION_UNFINISHED),
            ),
        ]

    def __str__(self):
        return f"{self.kind} of {self.instance_id} ({self.status})"

    def target(self):
        return PLATFORM
