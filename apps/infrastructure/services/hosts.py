"""Hosts, as admins see them: add (with an enrollment token), change flags and limits, remove."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.audit.recorder import audited
from apps.core.errors import ValidationFailed
from apps.core.tree import PLATFORM
from apps.identity.services.common import require, save_unique

from .. import capacity
from ..models import EnrollmentToken, Host, host_name_validator
from .common import refuse_if_used

# What an admin may change on a host; capacity comes from heartbeats only.
HOST_UPDATE = "infrastructure.host.update"
UPDATABLE = (
    "enabled",
    "maintenance",
    "isolated",
    "tags",
    "domain_type",
    "management_ip",
    "ram_allocation_ratio",
    "cpu_allocation_ratio",
    "disk_allocation_ratio",
    "reserved_host_memory_mb",
    "reserved_host_disk_mb",
)


def token_hash(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


def normalized_tags(tags):
    return sorted({tag.strip() for tag in tags or () if tag.strip()})


def add_host(actor, *, name, zone, **options):
    """Record a host in `enrolling` state; returns (host, one-time enrollment token)."""
    action = "infrastructure.host.create"
    with audited(actor, action, target=PLATFORM) as op:
        require(actor, action, PLATFORM, "Only cloud administrators add hosts.")
        _check_name(name)
        _check_updatable(options)
        options.setdefault("reserved_host_memory_mb", settings.CLOUDMGR_RESERVED_HOST_MEMORY_MB)
        options.setdefault("reserved_host_disk_mb", settings.CLOUDMGR_RESERVED_HOST_DISK_MB)
        options["tags"] = normalized_tags(options.get("tags"))
        host = Host(name=name, zone=zone, **options)
        op.object = host
        save_unique(host, f"A host named '{name}' already exists.")
        raw = _new_token(host)
    return host, raw


def issue_enrollment_token(actor, host):
    """A fresh one-time token for (re-)enrolling the host; earlier unused tokens stop working."""
    action = "infrastructure.host.enroll"
    with audited(actor, action, target=PLATFORM, obj=host):
        require(actor, action, PLATFORM, "Only cloud administrators enroll hosts.")
        return _new_token(host)


def _new_token(host):
    host.enrollment_tokens.filter(used_at__isnull=True).delete()
    # Hex: a token never starts with "-", which a command line would take for an option.
    raw = secrets.token_hex(32)
    lifetime = timedelta(seconds=settings.CLOUDMGR_ENROLLMENT_TOKEN_LIFETIME_SECONDS)
    EnrollmentToken.objects.create(
        host=host, token_hash=token_hash(raw), expires_at=timezone.now() + lifetime
    )
    return raw


def update_host(actor, host, **changes):
    with audited(actor, HOST_UPDATE, target=PLATFORM, obj=host) as op:
        require(actor, HOST_UPDATE, PLATFORM, "Only cloud administrators change hosts.")
        _check_updatable(changes)
        if "tags" in changes:
            changes["tags"] = normalized_tags(changes["tags"])
        # Only the named columns are written, so a concurrent heartbeat or claim is never overwritten.
        op.details = {"changes": {k: v for k, v in changes.items() if getattr(host, k) != v}}
        Host.objects.filter(pk=host.pk).update(**changes)
        capacity.refresh_limits(Host.objects.filter(pk=host.pk))
        host.refresh_from_db()
    return host


def delete_host(actor, host):
    action = "infrastructure.host.delete"
    with audited(actor, action, target=PLATFORM, obj=host):
        require(actor, action, PLATFORM, "Only cloud administrators remove hosts.")
        refuse_if_used(host, f"Host {host} still holds instances.", "host_not_empty")


def _check_name(name):
    try:
        host_name_validator(name)
    except ValidationError as exc:
        raise ValidationFailed(exc.messages[0], code="bad_host_name") from exc


def _check_updatable(changes):
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValidationFailed(f"These host fields cannot be set: {', '.join(sorted(unknown))}.")
