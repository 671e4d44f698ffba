"""Image records, their data's whereabouts, and the projects an image is shared with.

Status changes never happen here: apps/images/states.py holds the state machine
and makes every transition a compare-and-set UPDATE.
"""

import uuid

from django.db import models
from django.db.models import Q

from . import formats


class Image(models.Model):
    QUEUED, SAVING, ACTIVE = "queued", "saving", "active"
    KILLED, DELETED, PENDING_DELETE = "killed", "deleted", "pending_delete"
    STATUSES = [(s, s) for s in (QUEUED, SAVING, ACTIVE, KILLED, DELETED, PENDING_DELETE)]

    PUBLIC, PRIVATE, SHARED = "public", "private", "shared"
    VISIBILITIES = [(v, v) for v in (PUBLIC, PRIVATE, SHARED)]

    UPLOAD, IMPORT, LOCATION, FILE = "upload", "import", "location", "file"
    SOURCES = [(s, s) for s in (UPLOAD, IMPORT, LOCATION, FILE)]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    # Deleting a project is refused while it owns images (apps.identity.ownership); only the
    # metadata of already deleted images goes with it.
    owner = models.ForeignKey("identity.Project", on_delete=models.CASCADE, related_name="images")
    status = models.CharField(max_length=16, choices=STATUSES, default=QUEUED)
    status_reason = models.CharField(max_length=1024, blank=True, default="")
    visibility = models.CharField(max_length=8, choices=VISIBILITIES, default=PRIVATE)
    protected = models.BooleanField(default=False)
    # Deactivation is an operator's hold on an active image: nobody but them may read its data.
    deactivated = models.BooleanField(default=False)

    disk_format = models.CharField(max_length=8, choices=[(f, f) for f in formats.DISK_FORMATS])
    container_format = models.CharField(
        max_length=8, choices=[(f, f) for f in formats.CONTAINER_FORMATS], default=formats.BARE
    )
    size_bytes = models.BigIntegerField(null=True, blank=True)
    virtual_size_bytes = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, default="")

    # Where the data lives: a store name (apps.images.stores) and a location inside it.
    source = models.CharField(max_length=8, choices=SOURCES, blank=True, default="")
    store = models.CharField(max_length=16, blank=True, default="")
    location = models.CharField(max_length=2048, blank=True, default="")

    kernel = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_column="kernel_id"
    )
    ramdisk = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_column="ramdisk_id"
    )
    min_ram_mb = models.PositiveIntegerField(default=0)
    min_disk_gb = models.PositiveIntegerField(default=0)
    architecture = models.CharField(max_length=32, blank=True, default="")
    hypervisor_type = models.CharField(max_length=32, blank=True, default="")
    os_type = models.CharField(max_length=32, blank=True, default="")
    # Instances of an isolated image get hosts of their own (the scheduler reads this).
    isolated = models.BooleanField(default=False)
    # A snapshot's instance (set by compute's snapshot service; no foreign key, images sit below
    # compute): its storage is metered as a snapshot. Never shown to tenants, who may be others.
    source_instance_id = models.UUIDField(null=True, blank=True)

    created_by_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    # The upload (or import job) currently writing the data, and when it is declared stalled.
    upload_token = models.UUIDField(null=True, blank=True)
    upload_deadline = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    purge_after = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "status"], name="image_owner_status"),
            models.Index(fields=["visibility", "status"], name="image_visibility_status"),
            models.Index(fields=["upload_deadline"], name="image_saving", condition=Q(status="saving")),
            models.Index(
                fields=["purge_after"], name="image_pending_delete", condition=Q(status="pending_delete")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="active") | (Q(size_bytes__isnull=False) & ~Q(location="")),
                name="image_active_has_data",
            ),
        ]

    def __str__(self):
        return self.name or str(self.id)

    def target(self):
        """Reading and using the image: decided on its owner project."""
        return self.owner.target()

    def admin_target(self):
        """Operator actions (deactivate, move): decided on the owner project's domain."""
        return self.owner.admin_target()

    @property
    def is_snapshot(self):
        return self.source_instance_id is not None

    @property
    def has_data(self):
        return self.status in (self.ACTIVE, self.PENDING_DELETE)


class ImageMember(models.Model):
    """A project an image is shared with; it sees the image in lists once it accepts.

    The owner names the project by its id, which needs to exist no more than the
    owner may see it: sharing answers the same whether the project exists, is
    another tenant's or was never created, as Glance does. A share with a project
    that does not exist is inert (nobody can accept it) and can be withdrawn.
    """

    PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"
    STATUSES = [(s, s) for s in (PENDING, ACCEPTED, REJECTED)]

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="members")
    # No database constraint: the id may name no project (see above); deleting a project still
    # deletes its shares (Django's cascade).
    project = models.ForeignKey(
        "identity.Project", on_delete=models.CASCADE, related_name="image_shares", db_constraint=False
    )
    status = models.CharField(max_length=8, choices=STATUSES, default=PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["image", "project"], name="image_member_unique")]

    def __str__(self):
        return f"{self.image_id} -> {self.project_id} ({self.status})"
